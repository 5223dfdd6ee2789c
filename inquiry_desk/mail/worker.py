"""The mail worker: every outgoing email leaves from here (``flask mail worker``), never from a web process.

Each pass sends the transactional outbox first (confirmations, replies, reminders,
digests), then one batch of bulk deliveries. Transactional mail never waits behind a
bulk send, nor counts against its rate limit: between two bulk messages (and while a
rate-limited batch waits for its slot) the worker looks at the outbox when this
process committed mail (an in-process event) or every ``outbox_check_seconds``
(0.25 s), and sends what is due over the same connection. Any number of workers may
run, on any number of hosts:

- **Claiming** (the statements are in ``mail.claims``). A batch of deliveries is
  claimed with one UPDATE (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; on SQLite the
  database has one writer, which serialises the claims). A claim is a lease: ``status =
  'sending'`` and ``next_attempt_at`` = the end of the lease. A worker killed mid-batch
  leaves rows that another takes when it ends.
- **Sending.** One SMTP connection per sender thread, reused across batches (closed
  when idle). Each delivery is marked sent in its own commit right after the server
  accepts it, so a crash repeats at most the one message in flight. The worker's
  commits are asynchronous (``synchronous_commit = off`` on PostgreSQL, ``synchronous =
  NORMAL`` on SQLite in WAL mode): a killed worker loses nothing the database has
  acknowledged; only a database crash could forget the last marks (and resend those).
- **Errors.** 4xx, timeouts and refused connections: retried with exponential backoff
  and jitter; when the server is unreachable the rest of the batch is put back too.
  5xx: failed; 550, 551 and 553 (no such mailbox) suppress the address and send the
  ``mail.bounced`` signal.
- **Rate limit** (``MAIL_RATE_PER_SECOND``, 0 for none), shared by every worker through
  one row of ``mail_throttle``: a batch reserves its slots (a time window) there.
- **Control.** Only deliveries of a send in ``sending`` are claimed, one send at a time
  through its index (a paused send's rows are never read); a worker that sees its send
  paused puts its claimed rows back, cancelled marks them skipped (one UPDATE each).
- **Waking.** An idle worker sleeps ``poll_seconds``; PostgreSQL ``NOTIFY`` and, in the
  process that committed the mail, an in-process event wake it at once (``mail.wakeup``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import Connection, select
from sqlalchemy.exc import SQLAlchemyError

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.mail import lease, metrics, services, signals, wakeup
from inquiry_desk.mail.backends import MailBackend, backend_for
from inquiry_desk.mail.claims import (
    Claimed,
    Marker,
    claim,
    fast_commits,
    finish_sends_on,
    mark_failed,
    mark_retry,
    release,
    renew,
    reserve_slots,
    set_status,
    suppress,
)
from inquiry_desk.mail.composer import BulkRecipient, Composer, links_for
from inquiry_desk.mail.errors import DeliveryError, PermanentDeliveryError
from inquiry_desk.mail.lease import Lease
from inquiry_desk.mail.models import DeliveryStatus, MailSend, SendStatus
from inquiry_desk.mail.wakeup import Waiter

log = logging.getLogger(__name__)

HARD_BOUNCES = frozenset({550, 551, 553})
LONGEST_WAIT = timedelta(hours=1)
LONGEST_FAILURE_WAIT = 30.0  # seconds between two tries while the database is away


@dataclass(frozen=True)
class Settings:
    batch: int = 200
    connections: int = 1
    poll_seconds: float = 0.25
    lease_seconds: float = 300.0
    rate_per_second: float = 0.0  # across every worker; 0: no limit
    first_retry_seconds: float = 60.0
    max_attempts: int = 12
    idle_close_seconds: float = 10.0
    outbox_check_seconds: float = 0.25  # during a bulk batch, how often the outbox is looked at
    smtp_timeout: float = 30.0

    @classmethod
    def from_config(cls, config: Any, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "batch": int(config.get("MAIL_WORKER_BATCH", cls.batch)),
            "connections": int(config.get("MAIL_WORKER_CONNECTIONS", cls.connections)),
            "poll_seconds": float(config.get("MAIL_WORKER_POLL_SECONDS", cls.poll_seconds)),
            "lease_seconds": float(config.get("MAIL_WORKER_LEASE_SECONDS", cls.lease_seconds)),
            "rate_per_second": float(config.get("MAIL_RATE_PER_SECOND", cls.rate_per_second)),
            "first_retry_seconds": float(config.get("MAIL_RETRY_FIRST_SECONDS", cls.first_retry_seconds)),
            "max_attempts": int(config.get("MAIL_BULK_MAX_ATTEMPTS", cls.max_attempts)),
            "smtp_timeout": float(config.get("SMTP_TIMEOUT", cls.smtp_timeout)),
        }
        values.update({name: value for name, value in overrides.items() if value is not None})
        settings = cls(**values)
        lease.check(settings.lease_seconds, settings.smtp_timeout, "MAIL_WORKER_LEASE_SECONDS")
        lease.check(services.LEASE.total_seconds(), settings.smtp_timeout, "the outbox's lease")
        return settings

    @property
    def lease_margin(self) -> float:
        return lease.margin(self.lease_seconds, self.smtp_timeout)

    @property
    def stop_seconds(self) -> float:
        """How long a stopping worker waits for the message in flight: its SMTP commands' timeouts, and a margin."""
        return 2 * self.smtp_timeout + 5.0

    def bulk_batch(self) -> int:
        """With a rate limit, a batch lasts about a second: the outbox is looked at between batches."""
        if self.rate_per_second > 0:
            return max(1, min(self.batch, int(self.rate_per_second)))
        return self.batch


def failure_delay(failures: int, poll_seconds: float) -> float:
    """The wait after ``failures`` failed passes in a row: the poll interval doubled each time, at most 30 s."""
    return float(min(max(poll_seconds, 0.05) * 2 ** max(failures - 1, 0), LONGEST_FAILURE_WAIT))


def retry_delay(attempts: int, first_seconds: float) -> timedelta:
    """Exponential backoff with jitter: 50–100 % of first × 2^(attempts-1), at most an hour."""
    full: timedelta = min(timedelta(seconds=first_seconds) * 2 ** max(attempts - 1, 0), LONGEST_WAIT)
    return full * random.uniform(0.5, 1.0)


@dataclass
class PassResult:
    outbox: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    released: int = 0
    skipped: int = 0
    claimed: int = 0

    @property
    def worked(self) -> bool:
        return bool(self.outbox or self.claimed)


@dataclass
class _SendInfo:
    key: str
    status: str
    composers: dict[str, Composer] = field(default_factory=dict)


class Sender:
    """One sender thread: one SMTP connection, one database connection at a time."""

    def __init__(self, app: Flask, settings: Settings, *, name: str = "", stop: threading.Event | None = None) -> None:
        self.app, self.settings = app, settings
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self.stop = stop or threading.Event()
        self.backend: MailBackend | None = None
        self._sends: dict[int, _SendInfo] = {}
        self._last_work = time.monotonic()
        self._marker: Marker | None = None
        self._next_outbox_look = 0.0

    # --- the loop --------------------------------------------------------------------------

    def run(self) -> None:
        with self.app.app_context():
            waiter = Waiter(db.engine, self.stop)
            failures = 0  # passes in a row that failed: the wait before the next one doubles
            try:
                while not self.stop.is_set():
                    try:
                        result = self.run_once()
                    except Exception as exc:  # the database is away (or a bug): log, wait longer each time, retry
                        failures += 1
                        self._failed(exc, failures)
                        continue
                    if failures:
                        log.warning("mail worker: working again after %d failed pass(es)", failures)
                        failures = 0
                    if not result.worked:
                        self._close_if_idle()
                        waiter.wait(self.settings.poll_seconds)
            finally:
                waiter.close()
                with contextlib.suppress(Exception):  # the database may be what failed: the lease frees the rows
                    self.close()
                db.session.remove()

    def _failed(self, exc: Exception, failures: int) -> None:
        """A pass failed: log it (the traceback when it is not the database), drop the connections, back off."""
        delay = failure_delay(failures, self.settings.poll_seconds)
        if isinstance(exc, SQLAlchemyError):
            log.warning("mail worker: database error (%s: %s); retrying in %.1f s (failure %d)",
                        type(exc).__name__, str(exc).splitlines()[0][:200] if str(exc) else "", delay, failures)
        else:
            log.exception("mail worker: the pass failed; retrying in %.1f s (failure %d)", delay, failures)
        with contextlib.suppress(Exception):
            db.session.remove()
        with contextlib.suppress(Exception):  # its connection may be broken; a new one is made when needed
            self.close()
        self.stop.wait(delay)

    def run_once(self, now: datetime | None = None) -> PassResult:
        """One pass: the outbox's due emails, then one bulk batch. ``now`` is for tests."""
        result = PassResult()
        wakeup.take_local()
        self._send_outbox(now or utcnow(), result)
        if not self.stop.is_set():
            self._bulk(now or utcnow(), result)  # the time of the claim: the outbox may have taken a while
        if result.worked:
            self._last_work = time.monotonic()
        return result

    def _send_outbox(self, now: datetime, result: PassResult) -> None:
        report = services.deliver_due(now, limit=self.settings.batch, backend=self._backend())
        result.outbox += report.sent + report.retrying + report.failed
        metrics.count_outbox(report)
        self._next_outbox_look = time.monotonic() + self.settings.outbox_check_seconds

    def _outbox_between(self, result: PassResult) -> None:
        """Between two bulk messages: the transactional mail due now goes first (it never waits for the batch)."""
        if not wakeup.take_local() and time.monotonic() < self._next_outbox_look:
            return
        self._wait_for_marks()
        self._send_outbox(utcnow(), result)

    def _pace(self, until: float, result: PassResult) -> None:
        """The bulk rate limit's wait (epoch seconds), during which the outbox is still served."""
        while (wait := until - time.time()) > 0 and not self.stop.is_set():
            time.sleep(min(wait, self.settings.outbox_check_seconds))
            self._outbox_between(result)

    def _backend(self) -> MailBackend:
        if self.backend is None:
            self.backend = backend_for(self.app)
            self.backend.__enter__()
        return self.backend

    def close(self) -> None:
        """Hang up the SMTP connection and end the marker (the loop does it when it stops)."""
        self._close_backend()
        if self._marker is not None:
            self._marker.close()
            self._marker = None

    def _close_if_idle(self) -> None:
        if self.backend is not None and time.monotonic() - self._last_work > self.settings.idle_close_seconds:
            self._close_backend()

    def _close_backend(self) -> None:
        if self.backend is not None:
            self.backend.close()
            self.backend = None

    # --- bulk ------------------------------------------------------------------------------

    def _bulk(self, now: datetime, result: PassResult) -> None:
        with db.engine.connect() as connection:
            # Every statement below stands alone (a claim, a mark, a release): autocommit makes each one
            # round trip to the database, with no separate COMMIT; the commit() calls are then no-ops.
            connection.execution_options(isolation_level="AUTOCOMMIT")
            fast_commits(connection)
            held = Lease.start(now, self.settings.lease_seconds, self.settings.lease_margin)
            claimed = claim(connection, now, self.settings.bulk_batch(), self.settings.lease_seconds)
            connection.commit()
            result.claimed = len(claimed)
            if not claimed:
                if finish_sends_on(connection, now):
                    connection.commit()
                return
            if self._marker is None:
                self._marker = Marker(db.engine)
            try:
                self._send_batch(connection, claimed, held, now, result)
            finally:
                self._marker.wait()

    def _send_batch(self, connection: Connection, claimed: list[Claimed], held: Lease, now: datetime,
                    result: PassResult) -> None:
        start = self._reserve(connection, len(claimed))
        pending = deque(claimed)
        checked = 0.0
        slot = 0
        slowest = 0.0  # the longest message of this batch: a slow server widens the lease's margin
        while pending:
            if self.stop.is_set():
                self._wait_for_marks()
                result.released += release(connection, list(pending), now, held.token)
                break
            if time.monotonic() - checked > 1.0:  # paused or cancelled meanwhile?
                self._refresh_sends(connection, {row.send_id for row in pending})
                checked = time.monotonic()
                pending = self._drop_stopped_sends(connection, pending, held, now, result)
                if not pending:
                    break
            if start is not None:
                self._pace(start + slot / self.settings.rate_per_second, result)
                slot += 1
            self._outbox_between(result)
            if held.running_short(slowest):  # right before the message: the waits above may have been long
                pending = self._renew(connection, pending, held)
                if not pending:
                    break
            row = pending.popleft()
            began = time.monotonic()
            if not self._send_one(connection, row, held.token, now, result):
                self._wait_for_marks()
                result.released += release(connection, list(pending), now, held.token, delay=self._delay(1))
                connection.commit()
                break
            connection.commit()
            slowest = max(slowest, time.monotonic() - began)

    def _renew(self, connection: Connection, pending: deque[Claimed], held: Lease) -> deque[Claimed]:
        """The lease of the rows still held, renewed (one UPDATE); those another worker took over are left out."""
        token, ends = held.next_end()
        kept = renew(connection, list(pending), held.token, token)
        connection.commit()
        held.renewed(token, ends)
        if len(kept) < len(pending):
            log.warning("mail worker: %d claimed deliveries were taken over when the lease ended",
                        len(pending) - len(kept))
        return deque(row for row in pending if row.id in kept)

    def _drop_stopped_sends(self, connection: Connection, pending: deque[Claimed], held: Lease, now: datetime,
                            result: PassResult) -> deque[Claimed]:
        """Rows of a send paused (put back) or cancelled (skipped): one UPDATE for each kind; the rest."""
        statuses = {send_id: self._sends[send_id].status for send_id in {row.send_id for row in pending}}
        if all(status == SendStatus.SENDING.value for status in statuses.values()):
            return pending
        self._wait_for_marks()
        cancelled = [row for row in pending if statuses[row.send_id] == SendStatus.CANCELLED.value]
        paused = [row for row in pending
                  if statuses[row.send_id] not in (SendStatus.SENDING.value, SendStatus.CANCELLED.value)]
        if cancelled:
            result.skipped += set_status(connection, cancelled, held.token, DeliveryStatus.SKIPPED)
        if paused:
            result.released += release(connection, paused, now, held.token)
        connection.commit()
        return deque(row for row in pending if statuses[row.send_id] == SendStatus.SENDING.value)

    def _send_one(self, connection: Connection, row: Claimed, token: datetime, now: datetime,
                  result: PassResult) -> bool:
        """Send one delivery and record the answer; False when the server cannot be reached."""
        info = self._sends[row.send_id]
        recipient = BulkRecipient(row.id, row.send_id, info.key, row.address, row.language, row.subscription_id)
        composer = info.composers.get(row.language) or next(iter(info.composers.values()))
        try:
            data = composer.build(recipient, links_for(recipient))
        except ValueError as exc:
            self._wait_for_marks()
            mark_failed(connection, row, token, None, f"the message cannot be built ({type(exc).__name__})")
            result.failed += 1
            return True
        assert self.backend is not None
        try:
            self.backend.send_bytes(composer.sender, row.address, data, before_data=self._wait_for_marks)
        except PermanentDeliveryError as exc:
            self._wait_for_marks()
            metrics.count_answer(exc.code)
            mark_failed(connection, row, token, exc.code, exc.summary())
            if exc.code in HARD_BOUNCES:
                suppress(connection, row, exc.code, now)
                signals.bounced.send(self.app, address=row.address, message_id=composer.message_id(row.id),
                                     now=now)
            result.failed += 1
            return True
        except DeliveryError as exc:
            self._wait_for_marks()
            metrics.count_answer(exc.code)
            attempts = row.attempts + 1
            if attempts >= self.settings.max_attempts:
                mark_failed(connection, row, token, exc.code, exc.summary())
                result.failed += 1
            else:
                mark_retry(connection, row, token, now + self._delay(attempts), exc.code, exc.summary())
                result.retrying += 1
            return not exc.connection_lost
        metrics.count_answer(250)
        metrics.BULK_SENT.inc()
        assert self._marker is not None
        self._marker.mark_sent(row.id, now)  # in the background; the next message's DATA waits for it
        result.sent += 1
        return True

    def _wait_for_marks(self) -> None:
        if self._marker is not None:
            self._marker.wait()

    def _delay(self, attempts: int) -> timedelta:
        return retry_delay(attempts, self.settings.first_retry_seconds)

    def _reserve(self, connection: Connection, count: int) -> float | None:
        """The rate limit: reserve ``count`` slots in the shared window; the epoch time the first may leave."""
        rate = self.settings.rate_per_second
        if rate <= 0:
            return None
        start = reserve_slots(connection, count, rate, time.time())
        connection.commit()
        return start

    def _refresh_sends(self, connection: Connection, send_ids: set[int]) -> None:
        rows = connection.execute(
            select(MailSend.id, MailSend.key, MailSend.status, MailSend.from_address, MailSend.reply_to,
                   MailSend.content, MailSend.extra_headers, MailSend.started_at, MailSend.created_at)
            .where(MailSend.id.in_(send_ids))).all()
        for row in rows:
            info = self._sends.get(row.id)
            if info is None:
                composers = {language: Composer(send_id=row.id, from_address=row.from_address,
                                                reply_to=row.reply_to, content=content, language=language,
                                                date=row.started_at or row.created_at,
                                                extra_headers=row.extra_headers or {})
                             for language, content in row.content.items()}
                info = self._sends[row.id] = _SendInfo(row.key, row.status, composers)
            info.status = row.status


# --- the process ---------------------------------------------------------------------------------

def run_worker(app: Flask, settings: Settings, stop: threading.Event) -> bool:
    """``settings.connections`` sender threads until ``stop`` is set; returns when they have all ended.

    After ``stop`` each sender finishes the message in flight, puts back the rows it still
    holds and hangs up. False when one has not ended within ``settings.stop_seconds``
    (a message stuck on a silent server): the caller then exits anyway, the lease frees its rows.
    """
    senders = [Sender(app, settings, stop=stop) for _ in range(settings.connections)]
    threads = [threading.Thread(target=sender.run, name=f"mail-sender-{n}", daemon=True)
               for n, sender in enumerate(senders)]
    for thread in threads:
        thread.start()
    while not stop.wait(0.5):
        if not any(thread.is_alive() for thread in threads):
            return True
    deadline = time.monotonic() + settings.stop_seconds
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [thread.name for thread in threads if thread.is_alive()]
    if stuck:
        log.error("mail worker: %s did not stop within %.0f s; exiting anyway (the lease frees its deliveries)",
                  ", ".join(stuck), settings.stop_seconds)
    return not stuck


def start_in_process(app: Flask) -> tuple[threading.Event, threading.Thread]:
    """The development server's worker thread (``make run``): woken by each commit that queues mail; stops at exit."""
    import atexit

    stop = threading.Event()
    settings = Settings.from_config(app.config, connections=1)
    thread = threading.Thread(target=Sender(app, settings, stop=stop).run, name="mail-worker", daemon=True)
    thread.start()
    atexit.register(stop.set)
    return stop, thread
