"""The inbox's filtered list as CSV rows, for a streamed download.

The rows are read a keyset page at a time in the session of whoever iterates them (a
streamed response outlives the request's own session), and the export is audited just
before its first row leaves: an export that fails before that is not in the audit log as
if it had happened. This is a documented exception to "services do not commit": the audit
entry is committed on its own, because the rows after it are streamed over many pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from inquiry_desk.accounts.models import User
from inquiry_desk.audit import services as audit
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import queues
from inquiry_desk.inquiries.access import EXPORTED, Reader, record_readings
from inquiry_desk.inquiries.models import Inquiry

COLUMNS = ("reference", "received_at", "status", "priority", "topic", "language", "channel", "subject",
           "stakeholder", "email", "organisation", "trusted_partner", "assignee", "due_at", "tags")


def export_rows(queue: str, filters: queues.Filters, *, actor_id: int, now: datetime, sort: str,
                max_rows: int) -> Iterator[list[str]]:
    """The header, then one row per inquiry of the list (at most ``max_rows``); audited as it starts.

    Takes the actor's id, not the object: it runs after the request that asked for it has ended.
    """
    actor = db.session.get(User, actor_id)
    if actor is None:
        return
    rows = queues.iter_filtered(queue, filters, actor=actor, now=now, sort=sort, max_rows=max_rows)
    reader = Reader(actor)
    first = next(rows, None)
    audit.record("inquiry.exported", actor_id=actor_id, subject_type="inquiry",
                 details={"queue": queue, "sort": sort, "filters": auditable_filters(filters), "max_rows": max_rows},
                 now=now)
    db.session.commit()
    yield list(COLUMNS)
    if first is None:
        return
    # Each restricted inquiry whose content leaves in the file is audited too, committed a batch at a time.
    pending = record_readings(EXPORTED, [first], reader, now=now)
    yield _row(first, reader)
    for inquiry in rows:
        pending += record_readings(EXPORTED, [inquiry], reader, now=now)
        if pending >= 100:
            db.session.commit()
            pending = 0
        yield _row(inquiry, reader)
    db.session.commit()


def auditable_filters(filters: queues.Filters) -> dict[str, str]:
    """The filters of an export, for the audit log: a search may be a person's name, so only its presence."""
    args = filters.as_args()
    if "q" in args:
        args["q"] = "[search words not kept]"
    return args


def _row(inquiry: Inquiry, reader: Reader) -> list[str]:
    if not reader.may_read(inquiry):  # need-to-know: the metadata only
        return csv_safe([
            inquiry.reference or "", inquiry.received_at.isoformat(), inquiry.status, inquiry.priority, "", "", "",
            "", "", "", "", "", str(inquiry.assignee_id or ""), inquiry.due_at.isoformat() if inquiry.due_at else "",
            "",
        ])
    return csv_safe([
        inquiry.reference or "", inquiry.received_at.isoformat(), inquiry.status, inquiry.priority,
        inquiry.topic.code if inquiry.topic else "", inquiry.language, inquiry.channel, inquiry.subject,
        inquiry.contact.name if inquiry.contact else "", inquiry.contact.email if inquiry.contact else "",
        inquiry.organisation.name if inquiry.organisation else (inquiry.organisation_name or ""),
        "yes" if inquiry.trusted_partner else "no", str(inquiry.assignee_id or ""),
        inquiry.due_at.isoformat() if inquiry.due_at else "", " ".join(tag.name for tag in inquiry.tags),
    ])


def csv_safe(values: list[Any]) -> list[str]:
    """A cell starting with = + - @ is a formula in a spreadsheet: prefix it so that it stays text."""
    return ["'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value for value in map(str, values)]
