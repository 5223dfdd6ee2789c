"""Writing to and reading the audit log."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Select, and_, literal, or_, select, tuple_

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.database import UTCDateTime
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


def events_for(subject_type: str, subject_id: int) -> Sequence[AuditEvent]:
    query = (
        select(AuditEvent)
        .where(AuditEvent.subject_type == subject_type, AuditEvent.subject_id == subject_id)
        .order_by(AuditEvent.id)
    )
    return db.session.scalars(query).all()


@dataclass(frozen=True)
class Query:
    """What the audit log page asks for; every part optional.

    ``actor_ids`` and ``no_actor`` (entries made by the system or a stakeholder) are alternatives;
    ``subjects`` are (type, id) pairs, or (type, None) for every entry of a type.
    """

    actor_ids: tuple[int, ...] = ()
    no_actor: bool = False
    actions: tuple[str, ...] = ()
    subjects: tuple[tuple[str, int | None], ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    # Set when a subject was asked for but matched nothing: the answer is empty.
    nothing: bool = False


def search(query: Query, *, limit: int, before: AuditEvent | None = None) -> Sequence[AuditEvent]:
    """Entries matching ``query``, newest first by (at, id), after the ``before`` entry (the keyset).

    Each filter walks an index in that order (``ix_audit_events_at_id``, ``_actor_at``,
    ``_action_at``, ``_subject``), so a page costs the same on a log of any size.
    """
    if query.nothing:
        return []
    return db.session.scalars(search_statement(query, limit=limit, before=before)).all()


def search_statement(query: Query, *, limit: int, before: AuditEvent | None = None) -> Select[AuditEvent]:
    """The SELECT of ``search`` (the tests read its plan)."""
    statement = select(AuditEvent)
    if query.actor_ids or query.no_actor:
        wanted = [AuditEvent.actor_id.in_(query.actor_ids)] if query.actor_ids else []
        if query.no_actor:
            wanted.append(AuditEvent.actor_id.is_(None))
        statement = statement.where(or_(*wanted))
    if query.actions:
        statement = statement.where(AuditEvent.action.in_(query.actions))
    if query.subjects:
        by_type: dict[str, list[int]] = {}
        whole: list[str] = []
        for subject_type, subject_id in query.subjects:
            if subject_id is None:
                whole.append(subject_type)
            else:
                by_type.setdefault(subject_type, []).append(subject_id)
        statement = statement.where(or_(
            *(and_(AuditEvent.subject_type == kind, AuditEvent.subject_id.in_(ids)) for kind, ids in by_type.items()),
            *((AuditEvent.subject_type.in_(whole),) if whole else ())))
    if query.since is not None:
        statement = statement.where(AuditEvent.at >= query.since)
    if query.until is not None:
        statement = statement.where(AuditEvent.at < query.until)
    if before is not None:
        statement = statement.where(tuple_(AuditEvent.at, AuditEvent.id) < tuple_(
            literal(before.at, UTCDateTime()), literal(before.id)))
    return statement.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)


def iter_search(query: Query, *, page: int = 500, max_rows: int | None = None) -> Iterator[AuditEvent]:
    """Every entry matching ``query``, newest first, read a keyset page at a time (for a streamed export)."""
    before: AuditEvent | None = None
    given = 0
    while True:
        events = search(query, limit=page, before=before)
        for event in events:
            if max_rows is not None and given >= max_rows:
                return
            yield event
            given += 1
        if len(events) < page:
            return
        before = events[-1]
        for loaded in events:  # keep memory flat over a long log
            db.session.expunge(loaded)
