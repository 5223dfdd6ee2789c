"""The transactional outbox: queue an email with the change that causes it, send it after.

``queue_email`` only writes a row, in the caller's transaction, and (PostgreSQL) a
``NOTIFY`` that wakes the mail workers when that transaction commits. The workers
(``mail.worker``, ``flask mail worker``) send it with ``deliver_due``, before any bulk
delivery; the sweeper job runs ``sweep_outbox`` as a safety net. Web processes never
talk SMTP (only with the memory backend of the tests, where no worker process could see
the messages, are a request's emails sent after its response: ``init_app``).

Sending claims its batch with a short lease (one conditional UPDATE), so two
senders never take the same row; a row is marked sent right after the mail
server accepts it, so a crash can repeat at most the one message in flight.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.utils import parseaddr

from flask import current_app, g, has_request_context
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from inquiry_desk.core.database import insert_row_unless_exists
from inquiry_desk.core.extensions import db
from inquiry_desk.mail import wakeup
from inquiry_desk.mail.backends import MailBackend, backend_for
from inquiry_desk.mail.builder import build_message, check_header_value, new_message_id
from inquiry_desk.mail.errors import DeliveryError, PermanentDeliveryError
from inquiry_desk.mail.lease import Lease, margin
from inquiry_desk.mail.models import EmailStatus, OutgoingEmail
from inquiry_desk.mail.rendering import RenderedEmail

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=2)
QUEUED_KEY = "mail_queued_ids"  # in Session.info: ids queued in the open transaction


# RFC 3834 Auto-Submitted: an automatic answer to what a person sent (a confirmation), or a
# message a process made of itself (a digest, a reminder, a notice to the team).
AUTO_REPLIED = "auto-replied"
AUTO_GENERATED = "auto-generated"


def sender(language: str) -> str:
    """MAIL_FROM, with the French name (MAIL_FROM_NAME_FR) on French emails."""
    configured = current_app.config["MAIL_FROM"]
    french_name = current_app.config.get("MAIL_FROM_NAME_FR")
    if language != "fr" or not french_name:
        return str(configured)
    return str(Address(display_name=french_name, addr_spec=parseaddr(configured)[1]))


def queue_email(*, cause_key: str, to: str, rendered: RenderedEmail, language: str, now: datetime,
                automatic: bool | str = False, reply_to: str | None = None,
                headers: dict[str, str] | None = None,
                attachments: list[dict[str, str]] | None = None) -> OutgoingEmail:
    """Write the email to the outbox in the current transaction; one email per cause.

    A second call with the same ``cause_key`` returns the first row and adds
    nothing, even when two processes race (the unique key decides).
    ``automatic`` is AUTO_REPLIED (or True) or AUTO_GENERATED for the Auto-Submitted header.
    Raises HeaderInjectionError for a line break in any header value. ``attachments`` are
    references to the file store (``{"sha256", "filename", "content_type"}``), read when the
    message is built: the outbox row stays small, and an email whose file was erased since is
    not sent without it (it fails: ``errors.AttachmentMissing``).
    """
    config = current_app.config
    extra = dict(headers or {})
    if automatic:  # RFC 3834: receivers send no auto-reply to either
        extra["Auto-Submitted"] = AUTO_REPLIED if automatic is True else str(automatic)
    values = {
        "cause_key": cause_key,
        "to_address": check_header_value("To", to),
        "from_address": check_header_value("From", sender(language)),
        "reply_to": check_header_value("Reply-To", reply_to or config["MAIL_REPLY_TO"]) or None,
        "subject": check_header_value("Subject", rendered.subject),
        "body_text": rendered.text,
        "body_html": rendered.html,
        "extra_headers": {name: check_header_value(name, value) for name, value in extra.items()},
        "message_id": new_message_id(config["MAIL_FROM"]),
        "attachments": attachments or None,
        "language": language,
        "status": EmailStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    row: OutgoingEmail | None = insert_row_unless_exists(OutgoingEmail, values, ["cause_key"])
    if row is None:
        # Queued before (this transaction, or another that committed first): one statement less than
        # looking first, in the usual case of a new cause.
        existing = db.session.scalar(select(OutgoingEmail).where(OutgoingEmail.cause_key == cause_key))
        if existing is None:
            raise RuntimeError(f"outbox: {cause_key!r} is queued but cannot be read")
        return existing
    db.session.info.setdefault(QUEUED_KEY, []).append(row.id)
    wakeup.wake_after_commit(db.session)
    return row


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def __iadd__(self, other: DeliveryReport) -> DeliveryReport:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        return self


def deliver_due(now: datetime, *, limit: int = 100, backend: MailBackend | None = None) -> DeliveryReport:
    """Send up to ``limit`` pending emails whose time has come and that no one else holds.

    ``backend``: a connection the caller keeps open (the worker's); by default one is opened for the batch.
    """
    with Session(db.engine) as session:
        ids = session.scalars(
            select(OutgoingEmail.id)
            .where(OutgoingEmail.status == EmailStatus.PENDING.value, OutgoingEmail.next_attempt_at <= now,
                   or_(OutgoingEmail.claimed_until.is_(None), OutgoingEmail.claimed_until < now))
            .order_by(OutgoingEmail.next_attempt_at, OutgoingEmail.id)
            .limit(limit)
        ).all()
    return deliver(ids, now=now, backend=backend) if ids else DeliveryReport()


def sweep_outbox(now: datetime, *, batch: int = 100, max_batches: int = 100) -> DeliveryReport:
    """Send everything due, a batch at a time (the sweeper job)."""
    report = DeliveryReport()
    for _ in range(max_batches):
        done = deliver_due(now, limit=batch)
        report += done
        if done.sent + done.retrying + done.failed < batch:
            break
    return report


def deliver(ids: Sequence[int], *, now: datetime, backend: MailBackend | None = None) -> DeliveryReport:
    """Claim the given rows (those still pending and free), send them over one connection.

    A documented batch job: it works in a session of its own and commits a row
    at a time, so the caller's open transaction is neither committed nor seen
    (queue in a transaction, commit it, then deliver).
    """
    held = Lease.start(now, LEASE.total_seconds(), margin(LEASE.total_seconds(), current_app.config["SMTP_TIMEOUT"]))
    with Session(db.engine, expire_on_commit=False) as session:
        claimed = _claim(session, ids, now, held.token)
        session.commit()
        report = DeliveryReport()
        if claimed:
            if backend is None:
                with backend_for(current_app._get_current_object()) as opened:  # type: ignore[attr-defined]
                    _send_claimed(session, claimed, held, now, report, opened)
            else:
                _send_claimed(session, claimed, held, now, report, backend)
        _forget_in_caller_session(claimed)
    if report.retrying or report.failed:
        log.warning("outbox: %d sent, %d to retry, %d failed", report.sent, report.retrying, report.failed)
    return report


def _forget_in_caller_session(ids: list[int]) -> None:
    """The caller's copies of the rows sent are reloaded on their next read; nothing else is touched."""
    for row_id in ids:
        cached = db.session.identity_map.get(identity_key(OutgoingEmail, row_id))
        if cached is not None:
            db.session.expire(cached)


def _send_claimed(session: Session, claimed: list[int], held: Lease, now: datetime, report: DeliveryReport,
                  backend: MailBackend) -> None:
    unreachable: DeliveryError | None = None  # once the server cannot be reached, the rest wait too
    for index, row_id in enumerate(claimed):
        if held.running_short() and unreachable is None:
            kept = _renew(session, claimed[index:], held)
            if row_id not in kept:
                continue  # another sender took it over when the lease ended
        row = session.get(OutgoingEmail, row_id)
        if row is None:
            continue
        try:
            message = build_message(row)
        except ValueError as exc:  # a row that can never become a message must not block the others
            _record_failure(row, PermanentDeliveryError(f"the message cannot be built ({type(exc).__name__})"),
                            now, report)
            session.commit()
            continue
        try:
            if unreachable is not None:
                raise unreachable
            backend.send(message)
        except DeliveryError as exc:
            _record_failure(row, exc, now, report)
            if exc.connection_lost:
                unreachable = exc
        else:
            row.status = EmailStatus.SENT.value
            row.sent_at = now
            row.attempts += 1
            row.claimed_until = None
            row.last_error = None
            report.sent += 1
        session.commit()  # one row at a time: a crash repeats at most one message


def _claim(session: Session, ids: Sequence[int], now: datetime, lease_end: datetime) -> list[int]:
    """The rows of ``ids`` still pending and free, leased to this sender: one UPDATE for the batch."""
    if not ids:
        return []
    taken = set(session.scalars(
        update(OutgoingEmail)
        .where(OutgoingEmail.id.in_(list(ids)), OutgoingEmail.status == EmailStatus.PENDING.value,
               or_(OutgoingEmail.claimed_until.is_(None), OutgoingEmail.claimed_until < now))
        .values(claimed_until=lease_end)
        .returning(OutgoingEmail.id)
        .execution_options(synchronize_session=False)
    ))
    return [row_id for row_id in ids if row_id in taken]


def _renew(session: Session, ids: Sequence[int], held: Lease) -> set[int]:
    """The lease of the rows still held (pending, with this claim's end as token), renewed in one UPDATE."""
    token, ends = held.next_end()
    kept = set(session.scalars(
        update(OutgoingEmail)
        .where(OutgoingEmail.id.in_(list(ids)), OutgoingEmail.status == EmailStatus.PENDING.value,
               OutgoingEmail.claimed_until == held.token)
        .values(claimed_until=token)
        .returning(OutgoingEmail.id)
        .execution_options(synchronize_session=False)
    ))
    session.commit()
    held.renewed(token, ends)
    return kept


def _record_failure(row: OutgoingEmail, error: DeliveryError, now: datetime, report: DeliveryReport) -> None:
    row.attempts += 1
    row.claimed_until = None
    row.last_error = error.summary()
    give_up_at = row.created_at + timedelta(hours=current_app.config["MAIL_GIVE_UP_HOURS"])
    if isinstance(error, PermanentDeliveryError) or now >= give_up_at:
        row.status = EmailStatus.FAILED.value
        report.failed += 1
        log.error("outbox: email %s (%s) failed for good: %s", row.id, row.cause_key, row.last_error)
        return
    row.next_attempt_at = now + retry_delay(row.attempts) * backoff_jitter()
    report.retrying += 1
    log.warning("outbox: email %s (%s) will be retried: %s", row.id, row.cause_key, row.last_error)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: 1, 2, 4, 8… minutes, at most two hours (before the jitter)."""
    delay: timedelta = min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_WAIT)
    return delay


def backoff_jitter() -> float:
    """50–100 % of the backoff, as the bulk deliveries: emails that failed together are not retried together."""
    return random.uniform(0.5, 1.0)


def failed_emails(limit: int = 50) -> list[OutgoingEmail]:
    """The newest emails given up on (a list: a query result object is always true in a template)."""
    return list(db.session.scalars(
        select(OutgoingEmail).where(OutgoingEmail.status == EmailStatus.FAILED.value)
        .order_by(OutgoingEmail.created_at.desc()).limit(limit)))


# --- sending right after a web request commits -------------------------------------------

def forget_queued(outgoing_id: int) -> None:
    """An email queued in a savepoint that was rolled back: not to be sent after the commit."""
    queued = db.session.info.get(QUEUED_KEY, [])
    if outgoing_id in queued:
        queued.remove(outgoing_id)


def take_committed_ids(session_info: dict[str, list[int]]) -> list[int]:
    return session_info.pop(QUEUED_KEY, [])


def remember_for_after_response(ids: list[int]) -> None:
    if ids and has_request_context():
        g.setdefault("mail_after_response", []).extend(ids)
