"""The directory's lists and pages: organisations (filtered, keyset-paged), contacts, and the inquiries of each.

The organisation list is walked by keyset on ``(name, id)`` (index ``ix_organisations_name_id``),
never by OFFSET, and counts nothing over the whole table: a page costs the same at 100 or
10,000 organisations. "Has open inquiries" is an EXISTS on ``inquiries.organisation_id``.
A search matches the start of any word of the English or French name or the short name,
case- and accent-blind only as far as the database's LIKE is (a directory search, not the
inquiries' full-text index).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, exists, func, literal, or_, select, tuple_, union_all
from sqlalchemy.orm import selectinload

from inquiry_desk.core.domain import InvalidInput
from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Contact, Organisation, OrganisationTag
from inquiry_desk.inquiries.models import OPEN_STATUSES, Inquiry

PAGE_SIZE = 50
INQUIRIES_PAGE = 20


@dataclass(frozen=True)
class OrganisationFilters:
    q: str = ""
    kind: str = ""
    status: str = ""
    tag: str = ""
    open_inquiries: str = ""  # "yes" / "no" / ""
    include_inactive: bool = False

    def as_args(self) -> dict[str, str]:
        args = {name: getattr(self, name) for name in ("q", "kind", "status", "tag", "open_inquiries")}
        if self.include_inactive:
            args["include_inactive"] = "1"
        return {name: value for name, value in args.items() if value}


@dataclass(frozen=True)
class OrganisationRow:
    organisation: Organisation
    open_inquiries: int


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    next_after: tuple[Any, int] | None


def _like(value: str) -> str:
    return "%" + value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _has_open() -> Any:
    return exists().where(Inquiry.organisation_id == Organisation.id, Inquiry.status.in_(OPEN_STATUSES))


def organisation_page(filters: OrganisationFilters, *, after: tuple[str, int] | None = None,
                      limit: int | None = None) -> Page:
    """One page of the organisation list, by name, after the keyset ``(name, id)`` of the last row shown."""
    limit = limit or PAGE_SIZE
    query = select(Organisation).where(Organisation.merged_into_id.is_(None))
    if not filters.include_inactive:
        query = query.where(Organisation.active.is_(True))
    if filters.q:
        pattern = _like(filters.q)
        query = query.where(or_(*(func.lower(column).like(pattern, escape="\\") for column in
                                  (Organisation.name, Organisation.name_fr, Organisation.short_name))))
    if filters.kind:
        query = query.where(Organisation.kind == filters.kind)
    if filters.status:
        query = query.where(Organisation.status == filters.status)
    if filters.tag:
        query = query.where(exists().where(OrganisationTag.organisation_id == Organisation.id,
                                           func.lower(OrganisationTag.tag) == filters.tag.lower()))
    if filters.open_inquiries == "yes":
        query = query.where(_has_open())
    elif filters.open_inquiries == "no":
        query = query.where(~_has_open())
    if after is not None:
        query = query.where(tuple_(Organisation.name, Organisation.id) > tuple_(*after))
    organisations = db.session.scalars(
        query.order_by(Organisation.name, Organisation.id).limit(limit + 1).options(selectinload(Organisation.tag_rows))
    ).all()
    more = len(organisations) > limit
    organisations = organisations[:limit]
    counts = open_counts([organisation.id for organisation in organisations])
    rows = [OrganisationRow(organisation, counts.get(organisation.id, 0)) for organisation in organisations]
    last = organisations[-1] if organisations and more else None
    return Page(rows, (last.name, last.id) if last else None)


def open_counts(organisation_ids: Sequence[int]) -> dict[int, int]:
    if not organisation_ids:
        return {}
    rows = db.session.execute(
        select(Inquiry.organisation_id, func.count()).where(Inquiry.organisation_id.in_(organisation_ids),
                                                            Inquiry.status.in_(OPEN_STATUSES))
        .group_by(Inquiry.organisation_id)
    ).all()
    return {int(organisation_id or 0): int(count) for organisation_id, count in rows}


def all_tags() -> list[str]:
    return list(db.session.scalars(select(OrganisationTag.tag).distinct().order_by(OrganisationTag.tag).limit(500)))


def contact_page(q: str = "", *, after: tuple[str, int] | None = None, limit: int | None = None) -> Page:
    """Contacts by name, searched by name or address, keyset-paged like organisations."""
    limit = limit or PAGE_SIZE
    query = select(Contact).where(Contact.merged_into_id.is_(None), Contact.erased_at.is_(None))
    if q:
        pattern = _like(q)
        query = query.where(or_(func.lower(Contact.name).like(pattern, escape="\\"),
                                Contact.email.like(pattern, escape="\\")))
    if after is not None:
        query = query.where(tuple_(Contact.name, Contact.id) > tuple_(*after))
    contacts = db.session.scalars(query.order_by(Contact.name, Contact.id).limit(limit + 1)
                                  .options(selectinload(Contact.organisation))).all()
    more = len(contacts) > limit
    contacts = contacts[:limit]
    last = contacts[-1] if contacts and more else None
    return Page(list(contacts), (last.name, last.id) if last else None)


# ------------------------------------------------------------------------------ inquiries of one


@dataclass(frozen=True, slots=True)
class InquiryRow:
    """What a list of an organisation's or a contact's inquiries shows: plain columns, no ORM objects."""

    id: int
    reference: str | None
    subject: str
    status: str
    trusted_partner: bool
    contact_id: int
    contact_name: str
    received_at: datetime
    first_response: timedelta | None
    resolution: timedelta | None
    # What need-to-know decides by (inquiries/access.py: Reader.may_read)
    restricted: bool = False
    topic_id: int | None = None
    assignee_id: int | None = None


def _inquiries_query(organisation_id: int | None, contact_id: int | None, open_: bool,
                     before: tuple[datetime, int] | None, limit: int) -> Select[*tuple[Any, ...]]:
    query = select(Inquiry.id, Inquiry.reference, Inquiry.subject, Inquiry.status, Inquiry.trusted_partner,
                   Inquiry.contact_id, Contact.name, Inquiry.received_at, Inquiry.first_response_at,
                   Inquiry.resolved_at, Inquiry.restricted, Inquiry.topic_id, Inquiry.assignee_id,
                   ).outerjoin(Contact, Contact.id == Inquiry.contact_id)
    if organisation_id is not None:
        query = query.where(Inquiry.organisation_id == organisation_id)
    if contact_id is not None:
        query = query.where(Inquiry.contact_id == contact_id)
    query = query.where(Inquiry.status.in_(OPEN_STATUSES) if open_ else Inquiry.status.not_in(OPEN_STATUSES))
    if before is not None:
        query = query.where(tuple_(Inquiry.received_at, Inquiry.id) < tuple_(*before))
    return query.order_by(Inquiry.received_at.desc(), Inquiry.id.desc()).limit(limit + 1)


def inquiries_of(*, organisation_id: int | None = None, contact_id: int | None = None, open_: bool,
                 before: tuple[datetime, int] | None = None, limit: int | None = None) -> Page:
    """Open or past inquiries of an organisation or a contact, newest first, keyset-paged on (received_at, id)."""
    limit = limit or INQUIRIES_PAGE
    rows = db.session.execute(_inquiries_query(organisation_id, contact_id, open_, before, limit)).all()
    return _page(rows, limit)


def first_pages(*, organisation_id: int | None = None, contact_id: int | None = None,
                limit: int | None = None) -> tuple[Page, Page]:
    """The first page of open and of past inquiries in one round trip (UNION ALL of the two keyset queries)."""
    limit = limit or INQUIRIES_PAGE
    parts = [select(_inquiries_query(organisation_id, contact_id, open_, None, limit).add_columns(
        literal(open_).label("is_open")).subquery()) for open_ in (True, False)]
    rows = sorted(db.session.execute(union_all(*parts)).all(), key=lambda row: (row.received_at, row.id), reverse=True)
    return _page([row for row in rows if row.is_open], limit), _page([row for row in rows if not row.is_open], limit)


def _page(rows: Sequence[Any], limit: int) -> Page:
    more = len(rows) > limit
    found = [InquiryRow(
        row.id, row.reference, row.subject, row.status, row.trusted_partner, row.contact_id, row.name,
        row.received_at, row.first_response_at - row.received_at if row.first_response_at else None,
        row.resolved_at - row.received_at if row.resolved_at else None,
        bool(row.restricted), row.topic_id, row.assignee_id) for row in rows[:limit]]
    last = found[-1] if found and more else None
    return Page(found, (last.received_at, last.id) if last else None)


@dataclass(frozen=True)
class Figures:
    total: int
    open: int


def figures(*, organisation_id: int | None = None, contact_id: int | None = None) -> Figures:
    """How many inquiries an organisation or a contact has, and how many are open (one indexed count)."""
    condition = (Inquiry.organisation_id == organisation_id) if organisation_id is not None \
        else (Inquiry.contact_id == contact_id)
    row = db.session.execute(select(func.count(), func.sum(case((Inquiry.status.in_(OPEN_STATUSES), 1), else_=0)))
                             .where(condition)).one()
    return Figures(int(row[0] or 0), int(row[1] or 0))


# ------------------------------------------------------------------------------ cursors in URLs


class BadCursor(InvalidInput):
    code = "bad_cursor"


def encode_cursor(values: tuple[Any, ...]) -> str:
    plain = [value.isoformat() if isinstance(value, datetime) else value for value in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _raw(cursor: str) -> list[Any]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError) as exc:
        raise BadCursor() from exc
    if not isinstance(raw, list) or len(raw) != 2 or not isinstance(raw[1], int) or not 0 < raw[1] < 2**31:
        raise BadCursor()
    return raw


def decode_name_cursor(cursor: str | None) -> tuple[str, int] | None:
    """The (name, id) keyset of a list's next page; None for the first page; BadCursor if malformed."""
    if not cursor:
        return None
    raw = _raw(cursor)
    if not isinstance(raw[0], str) or len(raw[0]) > 400 or "\x00" in raw[0]:
        raise BadCursor()
    return raw[0], raw[1]


def decode_time_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    raw = _raw(cursor)
    try:
        moment = datetime.fromisoformat(str(raw[0]))
    except ValueError as exc:
        raise BadCursor() from exc
    if moment.tzinfo is None:
        raise BadCursor()
    return moment, raw[1]
