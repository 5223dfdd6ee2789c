"""The audit log as the privacy officer reads it: who did what, to which inquiry, user or organisation.

``entries`` pages the log newest first (keyset on (at, id): ``audit.services.search``) with the
actor's name and the subject's reference or name read for the whole page at once (one query per
kind of subject, never one per row). ``resolve_subject`` turns what was typed in the subject box
(an inquiry reference, an email address, part of a name) into the subjects it names.

Need-to-know (``access.py``): the details of an entry about a restricted inquiry (reasons, people
named) are shown only to a reader who may read that inquiry; anyone else sees that something was
done to which reference, and when. The page is for administrators, who may; the rule is applied
here so that no future reader of this service skips it.

``export_rows`` streams the same entries as CSV rows and audits the export itself
(``audit_log.exported``, with the filters but never the words typed in the subject box), committed
just before the first row leaves, as the inbox's export does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from inquiry_desk.accounts.models import User
from inquiry_desk.audit import services as audit
from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.domain import InvalidInput
from inquiry_desk.core.extensions import db
from inquiry_desk.core.text import parse_line
from inquiry_desk.directory.models import Contact, Organisation
from inquiry_desk.inquiries.access import Reader
from inquiry_desk.inquiries.models import Inquiry, Topic

EXPORTED = "audit_log.exported"
SUBJECT_MAX = 200
# A name typed in the subject box matches at most this many users, organisations and contacts each.
NAME_MATCHES = 50
REFERENCE = re.compile(r"^INQ-\d{4}-\d{1,9}$", re.IGNORECASE)


@dataclass(frozen=True)
class InquiryFacts:
    """What need-to-know asks of an inquiry named by an entry (``access.AccessFacts``)."""

    id: int
    reference: str
    restricted: bool
    topic_id: int | None
    assignee_id: int | None


@dataclass(frozen=True)
class Entry:
    """One audit entry as the page shows it."""

    id: int
    at: datetime
    action: str
    actor_id: int | None
    actor_name: str | None
    subject_type: str | None
    subject_id: int | None
    subject_name: str | None  # an inquiry's reference, a user's or organisation's name…
    details: dict[str, Any] = field(default_factory=dict)
    ip_address: str | None = None
    hidden: bool = False  # a restricted inquiry this reader may not read: no details


def resolve_subject(text: str) -> tuple[tuple[str, int | None], ...] | None:
    """The subjects named by what was typed: None when nothing was typed, () when it names nothing.

    An inquiry reference names that inquiry; an email address the staff member and the contact
    with it; anything else the users, organisations and contacts whose name contains it.
    """
    try:
        typed = parse_line(" ".join((text or "").split()), max_length=SUBJECT_MAX, required=False)
    except InvalidInput:
        return ()
    if not typed:
        return None
    if REFERENCE.match(typed):
        found = db.session.scalar(select(Inquiry.id).where(Inquiry.reference == typed.upper()))
        return (("inquiry", found),) if found is not None else ()
    if "@" in typed:
        address = typed.lower()
        # As typed or in lower case (staff addresses are kept so; a contact's domain is): equality
        # walks the unique indexes, where lower() would read every contact.
        spellings = sorted({typed, address})
        users = db.session.scalars(select(User.id).where(User.email.in_(spellings)))
        contacts = db.session.scalars(select(Contact.id).where(Contact.email.in_(spellings)))
        return (*(("user", found) for found in users), *(("contact", found) for found in contacts))
    subjects: list[tuple[str, int | None]] = []
    for kind, model in (("user", User), ("organisation", Organisation), ("contact", Contact)):
        ids = db.session.scalars(select(model.id).where(model.name.icontains(typed, autoescape=True))
                                 .order_by(model.id).limit(NAME_MATCHES))
        subjects += [(kind, found) for found in ids]
    return tuple(subjects)


def entries(query: audit.Query, *, actor: User, limit: int,
            before_id: int | None = None) -> tuple[list[Entry], int | None]:
    """A page of entries, newest first, and the id to give as ``before_id`` for the next (None at the end)."""
    before = db.session.get(AuditEvent, before_id) if before_id is not None else None
    if before_id is not None and before is None:
        return [], None
    events = audit.search(query, limit=limit + 1, before=before)
    more = len(events) > limit
    page = describe(events[:limit], Reader(actor))
    return page, (page[-1].id if more and page else None)


def describe(events: Sequence[AuditEvent], reader: Reader) -> list[Entry]:
    """Entries with names read for the whole batch (one query per kind of subject)."""
    def ids_of(kind: str) -> set[int]:
        return {event.subject_id for event in events if event.subject_type == kind and event.subject_id is not None}

    user_ids = {event.actor_id for event in events if event.actor_id is not None} | ids_of("user")
    users = _names(User, user_ids)
    inquiries = _inquiries(ids_of("inquiry"))
    names: dict[str, dict[int, str]] = {
        "user": users,
        "organisation": _names(Organisation, ids_of("organisation")),
        "contact": _names(Contact, ids_of("contact")),
        "topic": _topic_names(ids_of("topic")),
        "inquiry": {found.id: found.reference for found in inquiries.values()},
    }
    described = []
    for event in events:
        facts = inquiries.get(event.subject_id or 0) if event.subject_type == "inquiry" else None
        hidden = facts is not None and not reader.may_read(facts)
        subject_name = names.get(event.subject_type or "", {}).get(event.subject_id or 0)
        described.append(Entry(
            id=event.id, at=event.at, action=event.action, actor_id=event.actor_id,
            actor_name=users.get(event.actor_id) if event.actor_id is not None else None,
            subject_type=event.subject_type, subject_id=event.subject_id, subject_name=subject_name,
            details={} if hidden else dict(event.details or {}), ip_address=event.ip_address, hidden=hidden))
    return described


def _names(model: Any, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(ids)
    if not wanted:
        return {}
    return {row.id: row.name for row in db.session.execute(select(model.id, model.name).where(model.id.in_(wanted)))}


def _topic_names(ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(ids)
    if not wanted:
        return {}
    return {topic.id: topic.code for topic in db.session.scalars(select(Topic).where(Topic.id.in_(wanted)))}


def _inquiries(ids: Iterable[int]) -> dict[int, InquiryFacts]:
    wanted = sorted(ids)
    if not wanted:
        return {}
    rows = db.session.execute(select(Inquiry.id, Inquiry.reference, Inquiry.restricted, Inquiry.topic_id,
                                     Inquiry.assignee_id).where(Inquiry.id.in_(wanted)))
    return {row.id: InquiryFacts(row.id, row.reference or "", bool(row.restricted), row.topic_id, row.assignee_id)
            for row in rows}


def export_rows(query: audit.Query, filters: dict[str, str], *, actor_id: int, now: datetime, max_rows: int,
                columns: Sequence[str], row: Callable[[Entry], list[str]]) -> Iterator[list[str]]:
    """The header, then one row per entry (``row`` puts an entry in words); the export is audited as it starts.

    Takes the actor's id: it runs after the request that asked for it has ended. ``filters`` are
    what the audit entry keeps of the request (never the words typed in the subject box). A
    documented exception to "services do not commit": the export's own entry is committed before
    the first row leaves, so that an export that was read is always in the log.
    """
    actor = db.session.get(User, actor_id)
    if actor is None:
        return
    audit.record(EXPORTED, actor_id=actor_id, subject_type="audit_log", details={"filters": filters,
                                                                                  "max_rows": max_rows}, now=now)
    db.session.commit()
    reader = Reader(actor)
    yield list(columns)
    batch: list[AuditEvent] = []
    for event in audit.iter_search(query, max_rows=max_rows):
        batch.append(event)
        if len(batch) >= 500:
            yield from (row(entry) for entry in describe(batch, reader))
            batch = []
    yield from (row(entry) for entry in describe(batch, reader))
