"""Suppressed addresses: never sent to, never imported. Lifting keeps the entry and is audited.

This is the mailing lists' register (reason, source, who and when, lifting with
a reason). The send engine keeps its own set of addresses (``mail_suppressions``,
which every bulk send leaves out, and where its hard bounces land): each entry
added here is added there, a lift here removes it there, and every check here
(imports, staff additions, sign-ups) also reads that set.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from inquiry_desk.audit import services as audit
from inquiry_desk.core.domain import Conflict, InvalidInput, NotFound
from inquiry_desk.core.extensions import db
from inquiry_desk.core.text import parse_email_key, parse_line
from inquiry_desk.mail import sending as mail_sending
from inquiry_desk.mail.models import MailSuppression
from inquiry_desk.mailing.models import SuppressionEntry, SuppressionReason


class Actor(Protocol):
    id: int


class AddressSuppressed(Conflict):
    code = "address_suppressed"
    default_message = _l("This address is on the suppression list: nothing is sent to it.")


class LiftReasonRequired(InvalidInput):
    code = "lift_reason_required"
    default_message = _l("Say why this address may receive email again.")


# The send engine's words for the same reasons (mail/models.py MailSuppression.reason).
ENGINE_REASONS = {SuppressionReason.HARD_BOUNCE: "bounce", SuppressionReason.COMPLAINT: "complaint",
                  SuppressionReason.UNSUBSCRIBED: "unsubscribed", SuppressionReason.LEAD: "manual"}


def normalise(address: str) -> str:
    return address.strip().lower()


def active_for(address: str) -> SuppressionEntry | None:
    return db.session.scalar(
        select(SuppressionEntry)
        .where(SuppressionEntry.address == normalise(address), SuppressionEntry.lifted_at.is_(None))
        .order_by(SuppressionEntry.id.desc()).limit(1)
    )


def blocking_reason(address: str) -> str | None:
    """Why nothing may be sent to this address (this register first, then the send engine's), or None."""
    entry = active_for(address)
    if entry is not None:
        return entry.reason
    engine = db.session.get(MailSuppression, mail_sending.normalise_address(address))
    return engine.reason if engine is not None else None


def is_suppressed(address: str) -> bool:
    return blocking_reason(address) is not None


def suppressed_among(addresses: Iterable[str]) -> set[str]:
    """Which of these (normalised) addresses are suppressed: one query per 500."""
    keys = sorted({normalise(address) for address in addresses})
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        found.update(db.session.scalars(
            select(SuppressionEntry.address).where(SuppressionEntry.address.in_(keys[start:start + 500]),
                                                   SuppressionEntry.lifted_at.is_(None))
        ))
        found.update(db.session.scalars(
            select(MailSuppression.address_key).where(MailSuppression.address_key.in_(keys[start:start + 500]))
        ))
    return found


def suppress(address: str, reason: SuppressionReason | str, *, source: str, actor: Actor | None,
             now: datetime) -> SuppressionEntry:
    """Suppress an address (a second time is the same entry)."""
    address = parse_email_key(address)
    reason = SuppressionReason(reason)
    existing = active_for(address)
    if existing is not None:
        return existing
    entry = SuppressionEntry(address=address, reason=reason.value, source=source[:200], created_at=now,
                        created_by_id=actor.id if actor else None)
    db.session.add(entry)
    db.session.flush()
    mail_sending.suppress(address, ENGINE_REASONS[reason], now=now)
    audit.record("suppression.added", actor=actor, subject_type="suppression", subject_id=entry.id,
                 details={"reason": reason.value, "source": source[:200]}, now=now)
    return entry


def lift(entry: SuppressionEntry, *, reason: str, actor: Actor | None, now: datetime) -> None:
    reason = parse_line(reason, max_length=500, required=False)
    if not reason:
        raise LiftReasonRequired()
    if entry.lifted_at is not None:
        return
    entry.lifted_at = now
    entry.lifted_by_id = actor.id if actor else None
    entry.lift_reason = reason
    db.session.execute(delete(MailSuppression).where(
        MailSuppression.address_key == mail_sending.normalise_address(entry.address)))
    audit.record("suppression.lifted", actor=actor, subject_type="suppression", subject_id=entry.id,
                 details={"reason": reason}, now=now)


def lift_unsubscribed(address: str, *, reason: str, now: datetime) -> None:
    """The person asked again: an "unsubscribed from everything" entry no longer stands."""
    entry = active_for(address)
    if entry is not None and entry.reason == SuppressionReason.UNSUBSCRIBED.value:
        lift(entry, reason=reason, actor=None, now=now)


def get(entry_id: int) -> SuppressionEntry:
    entry = db.session.get(SuppressionEntry, entry_id)
    if entry is None:
        raise NotFound()
    return entry


def entries(*, search: str = "", before_id: int | None = None, limit: int = 50) -> Sequence[SuppressionEntry]:
    query = select(SuppressionEntry).order_by(SuppressionEntry.id.desc()).limit(limit)
    if search:
        query = query.where(SuppressionEntry.address.contains(normalise(search), autoescape=True))
    if before_id is not None:
        query = query.where(SuppressionEntry.id < before_id)
    return db.session.scalars(query).all()


def count_active() -> int:
    return db.session.scalar(select(func.count()).select_from(SuppressionEntry)
                             .where(SuppressionEntry.lifted_at.is_(None))) or 0
