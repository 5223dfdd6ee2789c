"""The timeline of an organisation or a contact, read from the records that already exist.

No second copy is kept: each kind of event is read from where it lives and the newest
``limit`` of all are merged. Inquiries received (``inquiries.received_at``), replies sent
(``messages`` of kind reply), partnership status changes (``organisation_status_changes``,
with their reason), and the directory's own audit entries (created, edited, domains,
merges). Each source is read newest first with the same limit and the same ``before``
bound, so a page costs ``limit`` rows per source whatever the history's length; the
sources are read in one round trip (a UNION ALL of their keyset queries).

Each entry about an inquiry carries what need-to-know decides by (restricted, topic,
assignee: ``inquiries.access.AccessFacts``), so that the page decides for every entry it
shows, whichever page of inquiries it lists beside it.

Capabilities above this one add their own events (bulletins received, from the bulletins
issue) through ``register_source``: a source returns the newest ``limit`` entries of its
kind before ``before``, and they are merged with the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text, cast, false, literal, select, type_coerce, union_all

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.database import UTCDateTime
from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import OrganisationStatusChange
from inquiry_desk.inquiries.models import Inquiry, Message, MessageKind

LIMIT = 20


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str  # received, reply, status, audit; or a registered source's kind (bulletin)
    inquiry_id: int | None = None
    reference: str | None = None
    subject: str | None = None
    details: dict[str, Any] | None = None
    # What need-to-know decides by, for an entry about an inquiry.
    restricted: bool = False
    topic_id: int | None = None
    assignee_id: int | None = None

    @property
    def id(self) -> int:
        """The inquiry's id, as ``access.Reader.may_read`` asks of a row (0: not about an inquiry)."""
        return self.inquiry_id or 0


# A source of entries from a capability above: source(organisation_id=, contact_id=, before=, limit=).
Source = Callable[..., Sequence[Entry]]
_SOURCES: list[Source] = []


def register_source(source: Source) -> None:
    """Add a kind of event to every timeline (bulletins received register here)."""
    if source not in _SOURCES:
        _SOURCES.append(source)


def _inquiry_condition(organisation_id: int | None, contact_id: int | None) -> Any:
    if organisation_id is not None:
        return Inquiry.organisation_id == organisation_id
    return Inquiry.contact_id == contact_id


def _columns(kind: str, at: Any, *, inquiry: bool = False, action: Any = None, details: Any = None,
             status: tuple[Any, Any, Any] | None = None) -> list[Any]:
    """The columns every part of the union has, in one order and one type."""
    none_int, none_text = cast(None, Integer), cast(None, Text)
    return [
        literal(kind, String(16)).label("kind"), type_coerce(at, UTCDateTime()).label("at"),
        (Inquiry.id if inquiry else none_int).label("inquiry_id"),
        (Inquiry.reference if inquiry else none_text).label("reference"),
        (Inquiry.subject if inquiry else none_text).label("subject"),
        (Inquiry.restricted if inquiry else cast(false(), Boolean)).label("restricted"),
        (Inquiry.topic_id if inquiry else none_int).label("topic_id"),
        (Inquiry.assignee_id if inquiry else none_int).label("assignee_id"),
        (action if action is not None else none_text).label("action"),
        (details if details is not None else cast(None, JSON)).label("details"),
        *(column.label(name) for column, name in zip(status or (none_text, none_text, none_text),
                                                     ("status_before", "status_after", "reason"), strict=True)),
    ]


def timeline(*, organisation_id: int | None = None, contact_id: int | None = None,
             before: datetime | None = None, limit: int = LIMIT,
             status_changes: Sequence[OrganisationStatusChange] | None = None,
             newest_inquiries: Sequence[Any] | None = None) -> list[Entry]:
    """The newest ``limit`` events (before ``before``), newest first, in one query.

    What the caller has read already is not read again: ``status_changes``, the organisation's
    status history; ``newest_inquiries``, rows with ``received_at``, ``id``, ``reference``,
    ``subject`` and the access facts that hold the newest ``limit`` inquiries (the first pages
    of its open and past inquiries together do: each of the newest is among the newest of its kind).
    """
    condition = _inquiry_condition(organisation_id, contact_id)
    entries: list[Entry] = []
    parts = []

    if newest_inquiries is None or before is not None:
        received = select(*_columns("received", Inquiry.received_at, inquiry=True)).where(condition)
        if before is not None:
            received = received.where(Inquiry.received_at < before)
        parts.append(received.order_by(Inquiry.received_at.desc()).limit(limit))
    else:
        entries.extend(Entry(row.received_at, "received", row.id, row.reference, row.subject,
                             restricted=bool(row.restricted), topic_id=row.topic_id, assignee_id=row.assignee_id)
                       for row in newest_inquiries)

    # Through the messages index (inquiry_id, created_at) of each of their inquiries: a join would
    # let the planner walk every message in time order.
    replies = (select(*_columns("reply", Message.created_at, inquiry=True))
               .join(Inquiry, Inquiry.id == Message.inquiry_id)
               .where(Message.inquiry_id.in_(select(Inquiry.id).where(condition).scalar_subquery()),
                      Message.kind == MessageKind.REPLY.value))
    if before is not None:
        replies = replies.where(Message.created_at < before)
    parts.append(replies.order_by(Message.created_at.desc()).limit(limit))

    if organisation_id is not None and status_changes is None:
        changes = select(*_columns("status", OrganisationStatusChange.at, status=(
            OrganisationStatusChange.status_before, OrganisationStatusChange.status_after,
            OrganisationStatusChange.reason))).where(OrganisationStatusChange.organisation_id == organisation_id)
        if before is not None:
            changes = changes.where(OrganisationStatusChange.at < before)
        parts.append(changes.order_by(OrganisationStatusChange.at.desc()).limit(limit))
    for change in status_changes or ():
        if before is None or change.at < before:
            entries.append(Entry(change.at, "status", details={
                "before": change.status_before, "after": change.status_after, "reason": change.reason}))

    subject_type, subject_id = ("organisation", organisation_id) if organisation_id is not None \
        else ("contact", contact_id)
    audits = select(*_columns("audit", AuditEvent.at, action=AuditEvent.action, details=AuditEvent.details)).where(
        AuditEvent.subject_type == subject_type, AuditEvent.subject_id == subject_id,
        AuditEvent.action != "organisation.status_changed")
    if before is not None:
        audits = audits.where(AuditEvent.at < before)
    parts.append(audits.order_by(AuditEvent.id.desc()).limit(limit))

    union = union_all(*(select(part.subquery()) for part in parts)).subquery()
    rows = db.session.execute(select(*(union.c[name] for name in (
        "kind", "at", "inquiry_id", "reference", "subject", "restricted", "topic_id", "assignee_id", "action")),
        type_coerce(union.c.details, JSON).label("details"), union.c.status_before, union.c.status_after,
        union.c.reason)).all()
    for row in rows:
        entries.append(_entry(row))

    for source in _SOURCES:
        entries.extend(source(organisation_id=organisation_id, contact_id=contact_id, before=before, limit=limit))
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]


def _entry(row: Any) -> Entry:
    if row.kind == "status":
        return Entry(row.at, "status", details={"before": row.status_before, "after": row.status_after,
                                                "reason": row.reason})
    if row.kind == "audit":
        return Entry(row.at, "audit", details={"action": row.action, **(row.details or {})})
    return Entry(row.at, row.kind, row.inquiry_id, row.reference, row.subject, restricted=bool(row.restricted),
                 topic_id=row.topic_id, assignee_id=row.assignee_id)
