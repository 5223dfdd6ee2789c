"""Outbound email: templates, one message builder, backends, and a transactional outbox."""

from __future__ import annotations

import contextlib
import logging

import click
from flask import Flask, Response, g
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db

log = logging.getLogger(__name__)
_listening = False


def init_app(app: Flask) -> None:
    """Send after each committed request; `flask mail sweep` for what was left behind."""
    from inquiry_desk.mail import metrics, services  # noqa: F401  (metrics: the outbox backlog in /metrics)

    _listen_to_sessions()
    app.extensions.setdefault("mail_memory", [])

    @app.after_request
    def _send_after_response(response: Response) -> Response:
        ids = g.pop("mail_after_response", None)
        if ids:
            response.call_on_close(lambda: _deliver_quietly(app, ids))
        return response

    @app.cli.group("mail", help="Outgoing email.")
    def mail_group() -> None:
        pass

    @mail_group.command("sweep", help="Send every outgoing email that is due (failed earlier or left behind).")
    def sweep() -> None:
        report = services.sweep_outbox(utcnow())
        click.echo(f"sent {report.sent}, to retry {report.retrying}, failed {report.failed}")


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
    from inquiry_desk.mail import metrics, services  # noqa: F401  (metrics: the outbox backlog in /metrics)

    @event.listens_for(Session, "after_commit")
    def _after_commit(session: Session) -> None:
        if session.in_nested_transaction():  # only a savepoint was released: nothing is committed yet
            return
        services.remember_for_after_response(services.take_committed_ids(session.info))

    @event.listens_for(Session, "after_soft_rollback")
    def _after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
        if previous_transaction.parent is None:  # the whole transaction, not a savepoint
            services.take_committed_ids(session.info)
