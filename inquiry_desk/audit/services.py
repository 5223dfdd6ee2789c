"""Writing to and reading the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db


class Actor(Protocol):
    """Whoever acted: a staff user (the audit log is a leaf and imports no capability)."""

    id: int


def record(
    action: str,
    *,
    actor: Actor | None = None,
    actor_id: int | None = None,
    subject_type: str | None = None,
    subject_id: int | None = None,
    details: dict[str, Any] | None = None,
    ip_address: str | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Add one entry to the audit log in the caller's transaction; the actor by object or by id."""
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor is not None else actor_id,
        subject_type=subject_type,
        subject_id=subject_id,
        details=details or {},
        ip_address=ip_address,
        at=now or utcnow(),
    )
    db.session.add(event)
    return event


def recent_events(limit: int = 100, before_id: int | None = None) -> Sequence[AuditEvent]:
    """Newest first, paged by id (keyset)."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return db.session.scalars(query).all()


def events_for(subject_type: str, subject_id: int) -> Sequence[AuditEvent]:
    query = (
        select(AuditEvent)
        .where(AuditEvent.subject_type == subject_type, AuditEvent.subject_id == subject_id)
        .order_by(AuditEvent.id)
    )
    return db.session.scalars(query).all()
