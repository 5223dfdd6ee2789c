"""Need-to-know: who may read a restricted inquiry. Every list, search, export and email asks here.

An inquiry is *restricted* when it was restricted one by one (``Inquiry.restricted``) or its
topic is (``Topic.restricted``). A restricted inquiry's content (subject, stakeholder,
organisation, tags, topic, messages) is readable only by:

- its assignee;
- the staff named on it (``NamedStaff``);
- leads and administrators. A lead who is neither assignee nor named gives a reason before
  opening its page (``justify``); the reason is in the audit log and opens the inquiry to that
  lead for ``JUSTIFICATION_HOURS``. In lists and search results a lead sees the content.

Anyone else sees its reference, status, priority, dates and target in queues and counts, and
nothing more: the row is masked (``Reader.mask``), a filter or a search on content never
matches it (``Reader.content_condition``), its page shows the metadata only.

``Reader`` is made once per list, export or email: it reads the restricted topics and the
inquiries the user is named on once, so that checking a row costs no query.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, literal, or_, select, true, union_all

from inquiry_desk.accounts.models import Role, User
from inquiry_desk.audit import services as audit
from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.models import Inquiry, NamedStaff, Topic

JUSTIFICATION_HOURS = 8
JUSTIFIED = "inquiry.access_justified"
VIEWED = "inquiry.viewed"
# A restricted inquiry's content reached someone through a list: a search result or an export row.
FOUND = "inquiry.found_by_search"
EXPORTED = "inquiry.exported_content"
# A file of the thread downloaded (inquiries/attachments.py): "who saw this" as much as an opening.
ATTACHMENT_DOWNLOADED = "inquiry.attachment_downloaded"
# What the access report lists, and the history leaves out (they are readings, not changes).
READINGS = (VIEWED, JUSTIFIED, FOUND, EXPORTED, ATTACHMENT_DOWNLOADED)
# Filters that look into an inquiry's content: a restricted inquiry one may not read never matches them.
CONTENT_FILTERS = ("q", "topic", "tag", "organisation", "organisation_kind", "trusted", "language", "channel")


# What an email shows instead of a restricted inquiry's subject to someone who may not read it.
RESTRICTED_SUBJECT = {"en": "(restricted)", "fr": "(accès restreint)"}


class AccessFacts(Protocol):
    """What deciding needs of an inquiry (an ``Inquiry`` or a list's summary row)."""

    @property
    def id(self) -> int: ...
    @property
    def restricted(self) -> bool: ...
    @property
    def topic_id(self) -> int | None: ...
    @property
    def assignee_id(self) -> int | None: ...


def restricted_topic_ids() -> set[int]:
    return set(db.session.scalars(select(Topic.id).where(Topic.restricted.is_(True))))


def restricted_condition() -> ColumnElement[bool]:
    """SQL: the inquiry is restricted (by hand or by its topic)."""
    return or_(Inquiry.restricted.is_(True),
               Inquiry.topic_id.in_(select(Topic.id).where(Topic.restricted.is_(True))))


def is_restricted(inquiry: Inquiry) -> bool:
    return bool(inquiry.restricted or (inquiry.topic is not None and inquiry.topic.restricted))


def is_named(inquiry_id: int, user_id: int) -> bool:
    found = db.session.get(NamedStaff, (inquiry_id, user_id))
    return found is not None


def named_staff(inquiry_id: int) -> Sequence[User]:
    return db.session.scalars(
        select(User).join(NamedStaff, NamedStaff.user_id == User.id)
        .where(NamedStaff.inquiry_id == inquiry_id).order_by(User.name)
    ).all()


class Reader:
    """One user's access, read once: ask ``may_read(row)`` of each row of a list."""

    def __init__(self, user: User | None) -> None:
        self.user = user
        self.is_lead = user is not None and user.has_role(Role.LEAD)
        self.topics: set[int] = set()
        self.named: set[int] = set()
        # The restricted topics and the inquiries the user is named on, in one round trip.
        topics = select(Topic.id, literal(True).label("is_topic")).where(Topic.restricted.is_(True))
        if user is None or self.is_lead:
            self.topics = set(db.session.scalars(select(topics.subquery().c.id)))
            return
        named = select(NamedStaff.inquiry_id, literal(False).label("is_topic")).where(NamedStaff.user_id == user.id)
        for found_id, is_topic in db.session.execute(union_all(topics, named)):
            (self.topics if is_topic else self.named).add(found_id)

    def restricted(self, row: AccessFacts) -> bool:
        return bool(row.restricted or (row.topic_id is not None and row.topic_id in self.topics))

    def may_read(self, row: AccessFacts) -> bool:
        """May this user see the row's content in a list, a search, an export or an email?"""
        if not self.restricted(row) or self.is_lead:
            return True
        if self.user is None:
            return False
        return row.assignee_id == self.user.id or row.id in self.named

    def content_condition(self) -> ColumnElement[bool]:
        """SQL: the inquiries whose content this user may search and filter on."""
        if self.is_lead:
            return true()
        unrestricted = and_(Inquiry.restricted.is_(False),
                            or_(Inquiry.topic_id.is_(None), Inquiry.topic_id.not_in(self.topics))
                            if self.topics else true())
        if self.user is None:
            return unrestricted
        return or_(unrestricted, Inquiry.assignee_id == self.user.id,
                   Inquiry.id.in_(select(NamedStaff.inquiry_id).where(NamedStaff.user_id == self.user.id)))

    def mask(self, rows: Iterable[Any]) -> list[Any]:
        """Summary rows with the content of those this user may not read blanked out."""
        return [row if self.may_read(row) else dataclasses.replace(
            row, subject="", contact_name="", organisation_name=None, trusted_partner=False, trusted_name=None,
            tags=(), topic_id=None, hidden=True) for row in rows]


def record_readings(action: str, rows: Iterable[Any], reader: Reader, *, now: datetime) -> int:
    """Audit each restricted inquiry whose content ``rows`` showed the reader (a search page, export rows)."""
    if reader.user is None:
        return 0
    count = 0
    for row in rows:
        if reader.restricted(row) and reader.may_read(row):
            audit.record(action, actor_id=reader.user.id, subject_type="inquiry", subject_id=row.id, now=now)
            count += 1
    return count


def uses_content(filters: Any) -> bool:
    return any(getattr(filters, name, "") for name in CONTENT_FILTERS)


# --- one inquiry ---------------------------------------------------------------------------


def may_read(inquiry: Inquiry, user: User | None) -> bool:
    """The content rule for one inquiry (its page still asks an unnamed lead for a reason: ``may_open``)."""
    if not is_restricted(inquiry):
        return True
    if user is None:
        return False
    if user.has_role(Role.LEAD) or inquiry.assignee_id == user.id:
        return True
    return is_named(inquiry.id, user.id)


def needs_reason(inquiry: Inquiry, user: User, now: datetime) -> bool:
    """A lead who is neither assignee nor named, without a recent reason on file, is asked for one."""
    if not is_restricted(inquiry) or not user.has_role(Role.LEAD):
        return False
    if inquiry.assignee_id == user.id or is_named(inquiry.id, user.id):
        return False
    since = now - timedelta(hours=JUSTIFICATION_HOURS)
    found = db.session.scalar(
        select(AuditEvent.id).where(AuditEvent.subject_type == "inquiry", AuditEvent.subject_id == inquiry.id,
                                    AuditEvent.action == JUSTIFIED, AuditEvent.actor_id == user.id,
                                    AuditEvent.at >= since).limit(1))
    return found is None


def may_open(inquiry: Inquiry, user: User, now: datetime) -> bool:
    """May this user open the inquiry's page with its content, and act on it?"""
    return may_read(inquiry, user) and not needs_reason(inquiry, user, now)


