"""Bulk sends: create one, add its recipients, start, pause, resume, cancel, and read its progress.

A send is a set of deliveries, one per normalised address: one person on three
overlapping lists gets one copy (the unique key ``(send_id, address_key)`` decides,
``INSERT … ON CONFLICT DO NOTHING``). Suppressed addresses are left out and counted.
The workers (``mail.worker``) claim and send the deliveries; nothing here talks SMTP.

These are services: the caller commits. ``add_recipients`` takes an iterable and
inserts it in batches, so a caller can stream 100,000 rows from a query without
holding them; ``add_recipients_from_select`` does it in one ``INSERT … SELECT``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Select, and_, exists, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from inquiry_desk.core.domain import NotFound
from inquiry_desk.core.extensions import db
from inquiry_desk.mail.builder import check_header_value
from inquiry_desk.mail.errors import SendExists, SendStateError
from inquiry_desk.mail.models import Delivery, DeliveryStatus, MailSend, MailSuppression, SendStatus
from inquiry_desk.mail.rendering import RenderedEmail

BATCH = 1000
# Placeholders a send's content may hold; each recipient's value replaces them when its message is built.
PLACEHOLDERS = ("%%UNSUBSCRIBE_URL%%", "%%PREFERENCES_URL%%")


def normalise_address(address: str) -> str:
    """The key that makes two spellings of one address one recipient: trimmed, lower case."""
    return address.strip().lower()


def _sql_normalised(column: ColumnElement[str]) -> ColumnElement[str]:
    # lower() of SQLite folds ASCII only; the lists store addresses already normalised (normalise_address).
    return func.lower(func.trim(column))


def create_send(key: str, content: dict[str, RenderedEmail], *, now: datetime, reply_to: str | None = None,
                headers: dict[str, str] | None = None) -> MailSend:
    """A new send in ``preparing``: add its recipients, then ``start_send``. One send per key."""
    if db.session.scalar(select(MailSend.id).where(MailSend.key == key)) is not None:
        raise SendExists()
    config = current_app.config
    send = MailSend(
        key=key,
        status=SendStatus.PREPARING.value,
        from_address=check_header_value("From", config["MAIL_FROM"]),
        reply_to=check_header_value("Reply-To", reply_to or config["MAIL_REPLY_TO"]) or None,
        content={language: {"subject": check_header_value("Subject", rendered.subject), "text": rendered.text,
                            "html": rendered.html} for language, rendered in content.items()},
        extra_headers={name: check_header_value(name, value) for name, value in (headers or {}).items()},
        left_out_suppressed=0,
        left_out_duplicate=0,
        created_at=now,
    )
    db.session.add(send)
    db.session.flush()
    return send


@dataclass(frozen=True)
class Recipient:
    address: str
    language: str
    subscription_id: int | None = None


@dataclass
class Added:
    added: int = 0
    suppressed: int = 0
    duplicate: int = 0


def _insert() -> Any:
    dialect = db.session.get_bind().dialect.name
    return {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect](Delivery)


def add_recipients(send: MailSend, recipients: Iterable[Recipient], *, now: datetime) -> Added:
    """Add deliveries in batches of ``BATCH`` (streamed: never all in memory); suppressed and repeated left out."""
    _check_preparing(send)
    total = Added()
    iterator = iter(recipients)
    while batch := list(islice(iterator, BATCH)):
        keys = {normalise_address(r.address) for r in batch}
        suppressed = set(db.session.scalars(select(MailSuppression.address_key)
                                            .where(MailSuppression.address_key.in_(keys))))
        rows: dict[str, dict[str, Any]] = {}
        for recipient in batch:
            key = normalise_address(recipient.address)
            if key in suppressed:
                total.suppressed += 1
            elif key in rows:
                total.duplicate += 1
            else:
                rows[key] = {"send_id": send.id, "address": recipient.address.strip(), "address_key": key,
                             "language": recipient.language, "subscription_id": recipient.subscription_id,
                             "status": DeliveryStatus.QUEUED.value, "attempts": 0, "next_attempt_at": now}
        if rows:
            statement = _insert().values(list(rows.values())).on_conflict_do_nothing(
                index_elements=["send_id", "address_key"])
            inserted = len(db.session.execute(statement.returning(Delivery.id)).all())
            total.added += inserted
            total.duplicate += len(rows) - inserted
    _count_left_out(send, total)
    return total


def add_recipients_from_select(send: MailSend, recipients: Select[Any], *, now: datetime) -> Added:
    """Set-based: ``INSERT INTO mail_deliveries … SELECT`` from a query of (address, language, subscription_id).

    The mailing lists hand a query that already leaves out unsubscribed and unconfirmed
    people; here suppressed addresses and repeats are left out and counted.
    """
    _check_preparing(send)
    source = recipients.subquery("recipients")
    address, language, subscription = source.c[0], source.c[1], source.c[2]
    key = _sql_normalised(address)
    suppressed = exists().where(MailSuppression.address_key == key)
    offered = db.session.scalar(select(func.count()).select_from(source)) or 0
    left_suppressed = db.session.scalar(select(func.count()).select_from(source).where(suppressed)) or 0
    rows = (select(literal(send.id), func.trim(address), key, language, subscription,
                   literal(DeliveryStatus.QUEUED.value), literal(0), literal(now, type_=Delivery.next_attempt_at.type))
            .where(~suppressed))
    if db.session.get_bind().dialect.name == "sqlite":
        rows = rows.where(literal(True))  # SQLite needs a WHERE before ON CONFLICT in INSERT … SELECT
    columns = ["send_id", "address", "address_key", "language", "subscription_id", "status", "attempts",
               "next_attempt_at"]
    statement = _insert().from_select(columns, rows).on_conflict_do_nothing(index_elements=["send_id", "address_key"])
    count = select(func.count()).select_from(Delivery).where(Delivery.send_id == send.id)
    before = db.session.scalar(count) or 0
    db.session.execute(statement)
    added = (db.session.scalar(count) or 0) - before  # (the driver's row count of INSERT … SELECT varies)
    total = Added(added=added, suppressed=left_suppressed, duplicate=offered - left_suppressed - added)
    _count_left_out(send, total)
    return total


def _count_left_out(send: MailSend, added: Added) -> None:
    count_suppressed(send, added.suppressed)
    send.left_out_duplicate += added.duplicate
    db.session.flush()


def count_suppressed(send: MailSend, count: int) -> None:
    """Count addresses left out as suppressed, here or by the caller's own query before they were offered
    (the mailing lists leave their suppressed members out of the recipients they hand over)."""
    _check_preparing(send)
    send.left_out_suppressed += count


def _check_preparing(send: MailSend) -> None:
    if send.status != SendStatus.PREPARING.value:
        raise SendStateError()


# --- control ---------------------------------------------------------------------------------

def start_send(send: MailSend, *, now: datetime) -> None:
    """The workers may take it (they are woken after the commit)."""
    if send.status != SendStatus.PREPARING.value:
        raise SendStateError()
    send.status = SendStatus.SENDING.value
    send.started_at = now
    _wake_after_commit()


def pause_send(send: MailSend, *, now: datetime) -> None:
    """Workers stop taking its deliveries; a message already handed to the server is recorded as it ends."""
    if send.status not in (SendStatus.SENDING.value, SendStatus.PREPARING.value):
        raise SendStateError()
    send.status = SendStatus.PAUSED.value


def resume_send(send: MailSend, *, now: datetime) -> None:
    """Carry on where it stopped: only deliveries not yet accepted are sent (never one twice)."""
    if send.status != SendStatus.PAUSED.value:
        raise SendStateError()
    send.status = SendStatus.SENDING.value
    send.started_at = send.started_at or now
    # A delivery claimed when the pause came is queued again (its worker has let it go or died).
    db.session.execute(
        update(Delivery)
        .where(Delivery.send_id == send.id, Delivery.status == DeliveryStatus.SENDING.value,
               Delivery.next_attempt_at < now)
        .values(status=DeliveryStatus.QUEUED.value, next_attempt_at=now)
        .execution_options(synchronize_session=False))
    _wake_after_commit()


def cancel_send(send: MailSend, *, now: datetime) -> int:
    """Nothing more leaves; what was not sent is marked skipped. Returns how many were skipped."""
    if send.status in (SendStatus.CANCELLED.value, SendStatus.DONE.value):
        raise SendStateError()
    send.status = SendStatus.CANCELLED.value
    send.finished_at = now
    result = db.session.execute(
        update(Delivery)
        .where(Delivery.send_id == send.id, Delivery.status == DeliveryStatus.QUEUED.value)
        .values(status=DeliveryStatus.SKIPPED.value)
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def get_send(key: str) -> MailSend:
    send = db.session.scalar(select(MailSend).where(MailSend.key == key))
    if send is None:
        raise NotFound()
    return send


def _wake_after_commit() -> None:
    from inquiry_desk.mail import wakeup

    wakeup.wake_after_commit(db.session)


# --- suppression -----------------------------------------------------------------------------

def suppress(address: str, reason: str, *, now: datetime, smtp_code: int | None = None) -> None:
    """Leave this address out of every future send (the mailing lists add unsubscribes; a 5xx adds a bounce)."""
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    db.session.execute(insert(MailSuppression).values(address_key=normalise_address(address), reason=reason,
                                                  smtp_code=smtp_code, created_at=now)
                       .on_conflict_do_nothing(index_elements=["address_key"]))


def is_suppressed(address: str) -> bool:
    return db.session.get(MailSuppression, normalise_address(address)) is not None


# --- progress --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Progress:
    status: str
    counts: dict[str, int]  # by delivery status
    total: int
    left_out_suppressed: int
    left_out_duplicate: int
    rate_per_second: float  # accepted in the last minute
    seconds_left: float | None  # at that rate; None when nothing is moving

    @property
    def done(self) -> int:
        return sum(self.counts.get(s, 0) for s in ("sent", "failed", "skipped"))


def send_progress(send: MailSend, *, now: datetime, window: timedelta = timedelta(minutes=1)) -> Progress:
    """What a progress bar shows: deliveries per status, the rate of the last minute, the time left."""
    counts = {status.value: 0 for status in DeliveryStatus}
    counts.update({status: count for status, count in db.session.execute(
        select(Delivery.status, func.count()).where(Delivery.send_id == send.id).group_by(Delivery.status))})
    recent = db.session.scalar(select(func.count()).where(
        and_(Delivery.send_id == send.id, Delivery.status == DeliveryStatus.SENT.value,
             Delivery.accepted_at > now - window))) or 0
    rate = recent / window.total_seconds()
    remaining = counts["queued"] + counts["sending"]
    seconds_left = remaining / rate if rate > 0 else (0.0 if remaining == 0 else None)
    return Progress(status=send.status, counts=counts, total=sum(counts.values()),
                    left_out_suppressed=send.left_out_suppressed, left_out_duplicate=send.left_out_duplicate,
                    rate_per_second=rate, seconds_left=seconds_left)


def finish_sends(now: datetime) -> int:
    """Mark done the running sends that have nothing left to send (a worker calls it when idle)."""
    pending = exists().where(Delivery.send_id == MailSend.id,
                             Delivery.status.in_((DeliveryStatus.QUEUED.value, DeliveryStatus.SENDING.value)))
    result = db.session.execute(
        update(MailSend).where(MailSend.status == SendStatus.SENDING.value, ~pending)
        .values(status=SendStatus.DONE.value, finished_at=now).execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)
