"""Outbound email: templates, one message builder, backends, a transactional outbox, bulk sends and the worker.

Every email leaves from a mail worker (``flask mail worker``, or the development
server's thread): a web process only commits the outbox row and wakes the workers. The
one exception is the memory backend of the tests: its messages live in the process that
sends them, where no worker process could see them, so there a request's emails are
sent after its response (``call_on_close``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from types import FrameType

import click
from flask import Flask, Response, g
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db

log = logging.getLogger(__name__)
_listening = False


def init_app(app: Flask) -> None:
    """`flask mail worker`, `flask mail sweep`; with the memory backend (tests), send after each response."""
    from inquiry_desk.mail import metrics, services  # noqa: F401  (metrics: the outbox backlog in /metrics)

    _listen_to_sessions()
    app.extensions.setdefault("mail_memory", [])

    @app.after_request
    def _send_after_response(response: Response) -> Response:
        ids = g.pop("mail_after_response", None)
        if ids and app.config["MAIL_BACKEND"] == "memory":
            response.call_on_close(lambda: _deliver_quietly(app, ids))
        return response

    @app.cli.group("mail", help="Outgoing email.")
    def mail_group() -> None:
        pass

    @mail_group.command("sweep", help="Send every outgoing email that is due (failed earlier or left behind).")
    def sweep() -> None:
        report = services.sweep_outbox(utcnow())
        click.echo(f"sent {report.sent}, to retry {report.retrying}, failed {report.failed}")

    @mail_group.command("worker", help="Send every outgoing email (the outbox first, then bulk sends) until "
                                       "SIGTERM or SIGINT. Run one or more, on any host.")
    @click.option("--connections", type=int, default=None, help="SMTP connections (sender threads) in this worker "
                  "[MAIL_WORKER_CONNECTIONS, 1].")
    @click.option("--batch", type=int, default=None, help="Deliveries claimed at a time [MAIL_WORKER_BATCH, 200].")
    @click.option("--poll-seconds", type=float, default=None, help="How often an idle worker looks for work "
                  "(PostgreSQL also wakes it at once) [MAIL_WORKER_POLL_SECONDS, 0.25].")
    @click.option("--metrics-port", type=int, default=None, help="Serve this worker's counters for Prometheus.")
    def worker_command(connections: int | None, batch: int | None, poll_seconds: float | None,
                       metrics_port: int | None) -> None:
        from inquiry_desk.mail import worker

        try:
            settings = worker.Settings.from_config(app.config, connections=connections, batch=batch,
                                                   poll_seconds=poll_seconds)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        if metrics_port:
            from prometheus_client import start_http_server

            start_http_server(metrics_port, addr="127.0.0.1")
        stop = _stop_on_signals()
        click.echo(f"mail worker: {settings.connections} connection(s), batch {settings.batch}", err=True)
        if not worker.run_worker(app, settings, stop):
            sys.stderr.flush()
            os._exit(1)  # a sender stuck in a call: nothing to wait for (the marker's thread would hold the exit)
        click.echo("mail worker: stopped", err=True)

    @mail_group.command("ingest", help="Take one email from standard input (an MTA's pipe). Exit 0: taken; "
                                       "65: refused for its content; 77: too many from one sender; "
                                       "75: temporary failure, deliver again later.")
    @click.option("--source", default="pipe", type=click.Choice(["pipe", "imap"]), hidden=True)
    def ingest_command(source: str) -> None:
        import sys

        from inquiry_desk.mail.inbound import ingest

        limit = app.config["MAIL_INBOUND_MAX_BYTES"]
        raw = sys.stdin.buffer.read(limit + 1)
        sys.exit(ingest.ingest_and_commit(raw, source=source, now=utcnow()).exit_code)

    @mail_group.command("send", help="A bulk send: show its progress (status), or pause, resume or cancel it.")
    @click.argument("action", type=click.Choice(["status", "pause", "resume", "cancel"]))
    @click.argument("key")
    def send_command(action: str, key: str) -> None:
        from inquiry_desk.core.domain import DomainError
        from inquiry_desk.mail import sending

        now = utcnow()
        try:
            send = sending.get_send(key)
            if action != "status":
                {"pause": sending.pause_send, "resume": sending.resume_send,
                 "cancel": sending.cancel_send}[action](send, now=now)
                db.session.commit()
        except DomainError as exc:
            raise click.ClickException(f"{key}: {exc.code}") from None
        progress = sending.send_progress(send, now=now)
        counts = ", ".join(f"{status} {count}" for status, count in progress.counts.items())
        left = "unknown" if progress.seconds_left is None else f"{progress.seconds_left:.0f} s"
        click.echo(f"{key}: {progress.status}; {counts}; left out: {progress.left_out_suppressed} suppressed, "
                   f"{progress.left_out_duplicate} repeated; {progress.rate_per_second:.1f}/s; time left {left}")


def _stop_on_signals() -> threading.Event:
    """SIGTERM or SIGINT: finish the message in flight, put the rest back, exit; a second one: exit at once."""
    stop = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()
        log.warning("mail worker: %s received; stopping after the message in flight (again: at once)",
                    signal.Signals(signum).name)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stop


def _deliver_quietly(app: Flask, ids: list[int]) -> None:
    """Runs after the response has gone; a failure here is left to the sweeper."""
    from inquiry_desk.mail import metrics, services  # noqa: F401  (metrics: the outbox backlog in /metrics)

    with app.app_context():
        try:
            services.deliver(ids, now=utcnow())
        except Exception as exc:  # the rows stay pending; the sweeper retries them
            log.warning("outbox: sending after the response failed (%s); the sweeper will retry",
                        type(exc).__name__)
            with contextlib.suppress(Exception):  # the database may be the thing that failed
                db.session.rollback()


def _listen_to_sessions() -> None:
    global _listening
    if _listening:
        return
    _listening = True
    from inquiry_desk.mail import metrics, services, wakeup  # noqa: F401  (metrics: the outbox backlog)

    @event.listens_for(Session, "after_commit")
    def _after_commit(session: Session) -> None:
        if session.in_nested_transaction():  # only a savepoint was released: nothing is committed yet
            return
        wakeup.committed(session.info)  # the worker thread of this process, if any, looks at once
        services.remember_for_after_response(services.take_committed_ids(session.info))

    @event.listens_for(Session, "after_soft_rollback")
    def _after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
        if previous_transaction.parent is None:  # the whole transaction, not a savepoint
            services.take_committed_ids(session.info)
            wakeup.rolled_back(session.info)
