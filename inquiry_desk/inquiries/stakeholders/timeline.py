"""The timeline of an organisation or a contact, read from the records that already exist.

No second copy is kept: each kind of event is read from where it lives and the newest
``limit`` of all are merged. Inquiries received (``inquiries.received_at``), replies sent
(``messages`` of kind reply), partnership status changes (``organisation_status_changes``,
with their reason), and the directory's own audit entries (created, edited, domains,
merges). Each source is read newest first with the same limit and the same ``before``
bound, so a page costs ``limit`` rows per source whatever the history's length.
Bulletins received join here once bulletins exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import OrganisationStatusChange
from inquiry_desk.inquiries.models import Inquiry, Message, MessageKind

LIMIT = 20


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str  # received, reply, status, audit
    inquiry_id: int | None = None
    reference: str | None = None
    subject: str | None = None
    details: dict[str, Any] | None = None


def _inquiry_condition(organisation_id: int | None, contact_id: int | None) -> Any:
    if organisation_id is not None:
        return Inquiry.organisation_id == organisation_id
    return Inquiry.contact_id == contact_id


def timeline(*, organisation_id: int | None = None, contact_id: int | None = None,
             before: datetime | None = None, limit: int = LIMIT,
             status_changes: Sequence[OrganisationStatusChange] | None = None,
             newest_inquiries: Sequence[Any] | None = None) -> list[Entry]:
    """The newest ``limit`` events (before ``before``), newest first.

    What the caller has read already is not read again: ``status_changes``, the organisation's
    status history; ``newest_inquiries``, rows with ``received_at``, ``id``, ``reference`` and
    ``subject`` that hold the newest ``limit`` inquiries (the first pages of its open and past
    inquiries together do: each of the newest is among the newest of its kind).
    """
    condition = _inquiry_condition(organisation_id, contact_id)
    entries: list[Entry] = []

    if newest_inquiries is None or before is not None:
        received = select(Inquiry.id, Inquiry.reference, Inquiry.subject, Inquiry.received_at).where(condition)
        if before is not None:
            received = received.where(Inquiry.received_at < before)
        newest_inquiries = db.session.execute(received.order_by(Inquiry.received_at.desc()).limit(limit)).all()
    for row in newest_inquiries:
        entries.append(Entry(row.received_at, "received", row.id, row.reference, row.subject))

    # Through the messages index (inquiry_id, created_at) of each of their inquiries: a join would
    # let the planner walk every message in time order.
    replies = (select(Message.created_at, Inquiry.id, Inquiry.reference, Inquiry.subject)
               .join(Inquiry, Inquiry.id == Message.inquiry_id)
               .where(Message.inquiry_id.in_(select(Inquiry.id).where(condition).scalar_subquery()),
                      Message.kind == MessageKind.REPLY.value))
    if before is not None:
        replies = replies.where(Message.created_at < before)
    for reply in db.session.execute(replies.order_by(Message.created_at.desc()).limit(limit)):
        entries.append(Entry(reply.created_at, "reply", reply.id, reply.reference, reply.subject))

    if organisation_id is not None:
        if status_changes is None:
            changes = select(OrganisationStatusChange).where(
                OrganisationStatusChange.organisation_id == organisation_id)
            if before is not None:
                changes = changes.where(OrganisationStatusChange.at < before)
            status_changes = db.session.scalars(changes.order_by(OrganisationStatusChange.at.desc()).limit(limit)).all()
        for change in status_changes:
            if before is not None and change.at >= before:
                continue
            entries.append(Entry(change.at, "status", details={
                "before": change.status_before, "after": change.status_after, "reason": change.reason}))

    subject_type, subject_id = ("organisation", organisation_id) if organisation_id is not None \
        else ("contact", contact_id)
    audits = select(AuditEvent).where(AuditEvent.subject_type == subject_type, AuditEvent.subject_id == subject_id,
                                      AuditEvent.action != "organisation.status_changed")
    if before is not None:
        audits = audits.where(AuditEvent.at < before)
    for event in db.session.scalars(audits.order_by(AuditEvent.id.desc()).limit(limit)):
        entries.append(Entry(event.at, "audit", details={"action": event.action, **(event.details or {})}))

    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]
