"""Suppressed addresses: never sent to, never imported. Lifting keeps the entry and is audited.

This is the mailing lists' register (reason, source, who and when, lifting with
a reason). The send engine checks it through ``is_suppressed`` (and, once its own
table is on main, both are kept in step: see docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from inquiry_desk.audit import services as audit
from inquiry_desk.core.domain import Conflict, InvalidInput, NotFound
from inquiry_desk.core.extensions import db
from inquiry_desk.core.text import parse_email_address, parse_line
from inquiry_desk.mailing.models import Suppression, SuppressionReason


class Actor(Protocol):
    id: int


class AddressSuppressed(Conflict):
    code = "address_suppressed"
    default_message = _l("This address is on the suppression list: nothing is sent to it.")


class LiftReasonRequired(InvalidInput):
    code = "lift_reason_required"
    default_message = _l("Say why this address may receive email again.")


def normalise(address: str) -> str:
    return address.strip().lower()


def active_for(address: str) -> Suppression | None:
    return db.session.scalar(
        select(Suppression).where(Suppression.address == normalise(address), Suppression.lifted_at.is_(None))
        .order_by(Suppression.id.desc()).limit(1)
    )


def is_suppressed(address: str) -> bool:
    return active_for(address) is not None


def suppressed_among(addresses: Iterable[str]) -> set[str]:
    """Which of these (normalised) addresses are suppressed: one query per 500."""
    keys = sorted({normalise(address) for address in addresses})
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        found.update(db.session.scalars(
            select(Suppression.address).where(Suppression.address.in_(keys[start:start + 500]),
                                              Suppression.lifted_at.is_(None))
        ))
    return found


def suppress(address: str, reason: SuppressionReason | str, *, source: str, actor: Actor | None,
             now: datetime) -> Suppression:
    """Suppress an address (a second time is the same entry)."""
    address = normalise(parse_email_address(address))
    reason = SuppressionReason(reason)
    existing = active_for(address)
    if existing is not None:
        return existing
    entry = Suppression(address=address, reason=reason.value, source=source[:200], created_at=now,
                        created_by_id=actor.id if actor else None)
    db.session.add(entry)
    db.session.flush()
    audit.record("suppression.added", actor=actor, subject_type="suppression", subject_id=entry.id,
                 details={"reason": reason.value, "source": source[:200]}, now=now)
    return entry


def lift(entry: Suppression, *, reason: str, actor: Actor | None, now: datetime) -> None:
    reason = parse_line(reason, max_length=500, required=False)
    if not reason:
        raise LiftReasonRequired()
    if entry.lifted_at is not None:
        return
    entry.lifted_at = now
    entry.lifted_by_id = actor.id if actor else None
    entry.lift_reason = reason
    audit.record("suppression.lifted", actor=actor, subject_type="suppression", subject_id=entry.id,
                 details={"reason": reason}, now=now)


def lift_unsubscribed(address: str, *, reason: str, now: datetime) -> None:
    """The person asked again: an "unsubscribed from everything" entry no longer stands."""
    entry = active_for(address)
    if entry is not None and entry.reason == SuppressionReason.UNSUBSCRIBED.value:
        lift(entry, reason=reason, actor=None, now=now)


def get(entry_id: int) -> Suppression:
    entry = db.session.get(Suppression, entry_id)
    if entry is None:
        raise NotFound()
    return entry


def entries(*, search: str = "", before_id: int | None = None, limit: int = 50) -> Sequence[Suppression]:
    query = select(Suppression).order_by(Suppression.id.desc()).limit(limit)
    if search:
        query = query.where(Suppression.address.contains(normalise(search), autoescape=True))
    if before_id is not None:
        query = query.where(Suppression.id < before_id)
    return db.session.scalars(query).all()


def count_active() -> int:
    return db.session.scalar(select(func.count()).select_from(Suppression)
                             .where(Suppression.lifted_at.is_(None))) or 0
