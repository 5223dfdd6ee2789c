"""The inbox's lists: queues, filters, sorts, keyset pages and cheap counts.

Every list is one indexed query paged by keyset (``WHERE (key, id) < cursor``),
never OFFSET, so that page 1 and page 1,000 cost the same at a million rows.
Counts come from tally rows the database keeps as inquiries change (tallies.py), and are
shown capped (``COUNT_CAP``: "10,000+"): no page counts a million rows.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from flask import current_app
from sqlalchemy import Select, and_, func, or_, select, tuple_
from sqlalchemy.orm import joinedload, selectinload

from inquiry_desk.accounts.models import User
from inquiry_desk.core.clock import team_timezone
from inquiry_desk.core.domain import DomainError
from inquiry_desk.core.extensions import db
from inquiry_desk.core.ids import MAX_ID, parse_id
from inquiry_desk.core.text import has_control_characters
from inquiry_desk.directory.models import Contact, Organisation
from inquiry_desk.inquiries import search, tallies
from inquiry_desk.inquiries.access import Reader, uses_content
from inquiry_desk.inquiries.models import (
    Channel,
    Inquiry,
    Priority,
    Status,
    Tag,
    Topic,
    inquiry_tags,
)

QUEUES = ("new", "mine", "unassigned", "due_soon", "overdue", "waiting", "resolved", "all")
SORTS = ("received", "due", "updated", "priority")
PAGE_SIZE = 50
COUNT_CAP = 10_000
ACTIVE = (Status.NEW.value, Status.OPEN.value)


# What a list row shows, loaded with the page: stakeholder and organisation in the same query, tags in one more.
LIST_LOADING = (joinedload(Inquiry.contact), joinedload(Inquiry.organisation), selectinload(Inquiry.tags))


class InvalidFilter(DomainError, ValueError):
    """A filter value that does not name anything real (shown as a message, not a 500)."""


@dataclass(frozen=True)
class Filters:
    """What staff can narrow a list by; every field is optional and they combine (AND)."""

    status: str = ""
    priority: str = ""
    topic: str = ""  # topic code
    tag: str = ""
    assignee: str = ""  # user id, or "none"
    organisation: str = ""  # organisation id
    organisation_kind: str = ""
    trusted: str = ""  # "yes" / "no"
    language: str = ""
    channel: str = ""
    received_from: str = ""  # YYYY-MM-DD, team time
    received_to: str = ""
    q: str = ""  # full-text search

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        return cls(**{f.name: (args.get(f.name) or "").strip()[:200] for f in fields(cls)})

    def as_args(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    def is_empty(self) -> bool:
        return not self.as_args()


@dataclass
class Page:
    items: Sequence[Any]  # Inquiry objects, or Summary rows when asked for summaries
    next_cursor: str | None
    filters: Filters
    queue: str
    sort: str
    search_capped: bool = False
    notes: list[str] = field(default_factory=list)
    reader: Reader | None = None  # who the page was made for (need-to-know)


# Dates a filter may name: wide enough for any real inquiry, narrow enough that a day added or a
# time zone applied never leaves the calendar (received_to=9999-12-31 was an OverflowError).
FIRST_YEAR, LAST_YEAR = 1900, 9000
CURSOR_MAX_LENGTH = 400


def _day_start(text: str) -> datetime:
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidFilter("date") from exc
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidFilter("date")
    return datetime.combine(day, clock_time.min, tzinfo=team_timezone())


def _queue_condition(queue: str, actor: User, now: datetime) -> Any:
    soon = now + timedelta(minutes=current_app.config["INBOX_DUE_SOON_MINUTES"])
    conditions = {
        "new": Inquiry.status == Status.NEW.value,
        "mine": and_(Inquiry.assignee_id == actor.id,
                     Inquiry.status.in_((Status.NEW.value, Status.OPEN.value, Status.WAITING.value))),
        "unassigned": and_(Inquiry.assignee_id.is_(None), Inquiry.status.in_(ACTIVE)),
        "due_soon": and_(Inquiry.due_at >= now, Inquiry.due_at < soon),
        "overdue": Inquiry.due_at < now,
        "waiting": Inquiry.status == Status.WAITING.value,
        "resolved": Inquiry.status == Status.RESOLVED.value,
        "all": None,
    }
    if queue not in conditions:
        raise InvalidFilter("queue")
    return conditions[queue]


def _filter_conditions(filters: Filters) -> list[Any]:
    if any(has_control_characters(value) for value in filters.as_args().values()):
        raise InvalidFilter("text")  # NUL cannot even reach PostgreSQL in a comparison
    conditions: list[Any] = []
    if filters.status:
        if filters.status not in {s.value for s in Status}:
            raise InvalidFilter("status")
        conditions.append(Inquiry.status == filters.status)
    if filters.priority:
        if filters.priority not in {p.value for p in Priority}:
            raise InvalidFilter("priority")
        conditions.append(Inquiry.priority == filters.priority)
    if filters.topic:
        conditions.append(Inquiry.topic_id == select(Topic.id).where(Topic.code == filters.topic).scalar_subquery())
    if filters.tag:
        tagged = select(inquiry_tags.c.inquiry_id).join(Tag, Tag.id == inquiry_tags.c.tag_id)
        conditions.append(Inquiry.id.in_(tagged.where(Tag.name == filters.tag.lower())))
    if filters.assignee:
        if filters.assignee == "none":
            conditions.append(Inquiry.assignee_id.is_(None))
        elif (assignee_id := parse_id(filters.assignee)) is not None:
            conditions.append(Inquiry.assignee_id == assignee_id)
        else:
            raise InvalidFilter("assignee")
    if filters.organisation:
        if (organisation_id := parse_id(filters.organisation)) is None:
            raise InvalidFilter("organisation")
        conditions.append(Inquiry.organisation_id == organisation_id)
    if filters.organisation_kind:
        kind_of_match = select(Organisation.id).where(Organisation.kind == filters.organisation_kind)
        conditions.append(or_(Inquiry.organisation_kind == filters.organisation_kind,
                              Inquiry.organisation_id.in_(kind_of_match)))
    if filters.trusted in ("yes", "no"):
        conditions.append(Inquiry.trusted_partner.is_(filters.trusted == "yes"))
    if filters.language:
        if filters.language not in ("en", "fr"):
            raise InvalidFilter("language")
        conditions.append(Inquiry.language == filters.language)
    if filters.channel:
        if filters.channel not in {c.value for c in Channel}:
            raise InvalidFilter("channel")
        conditions.append(Inquiry.channel == filters.channel)
    if filters.received_from:
        conditions.append(Inquiry.received_at >= _day_start(filters.received_from))
    if filters.received_to:
        conditions.append(Inquiry.received_at < _day_start(filters.received_to) + timedelta(days=1))
    return conditions


def _sort_keys(sort: str) -> list[Any]:
    """Columns of the keyset, most significant first; all descending except the due time."""
    keys: dict[str, list[Any]] = {
        "received": [Inquiry.received_at, Inquiry.id],
        "due": [Inquiry.due_at, Inquiry.id],
        "updated": [Inquiry.updated_at, Inquiry.id],
        "priority": [Inquiry.priority_rank, Inquiry.received_at, Inquiry.id],
    }
    if sort not in keys:
        raise InvalidFilter("sort")
    return keys[sort]


def encode_cursor(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> list[Any]:
    """The keyset values of a cursor made by ``encode_cursor``; InvalidFilter for anything else.

    Bounded before it is read (length, so no deep nesting), and each value checked for its
    column: an aware time in the calendar's range, an int that fits.
    """
    try:
        if len(cursor) > CURSOR_MAX_LENGTH:
            raise ValueError
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        keys = _sort_keys(sort)
        if not isinstance(raw, list) or len(raw) != len(keys):
            raise ValueError
        values: list[Any] = []
        for key, value in zip(keys, raw, strict=True):
            if key.key.endswith("_at"):
                moment = datetime.fromisoformat(value)
                if moment.tzinfo is None or not FIRST_YEAR <= moment.year <= LAST_YEAR:
                    raise ValueError
                values.append(moment)
            elif isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_ID:
                values.append(value)
            else:
                raise ValueError
        return values
    except (ValueError, TypeError, RecursionError, json.JSONDecodeError) as exc:
        raise InvalidFilter("cursor") from exc


def _base_query(queue: str, filters: Filters, sort: str, actor: User, now: datetime,
                reader: Reader | None = None) -> Select[Inquiry]:
    query = select(Inquiry)
    condition = _queue_condition(queue, actor, now)
    if condition is not None:
        query = query.where(condition)
    conditions = _filter_conditions(filters)
    if conditions:
        query = query.where(*conditions)
    if reader is not None and uses_content(filters):
        # Need-to-know: a restricted inquiry one may not read never matches a filter or search on content.
        query = query.where(reader.content_condition())
    if sort == "due":
        query = query.where(Inquiry.due_at.is_not(None))
    return query


def check_filters(queue: str, filters: Filters, sort: str, *, actor: User, now: datetime) -> None:
    """Raise InvalidFilter for a list that cannot be made, without running its query."""
    _sort_keys(sort)
    _base_query(queue, filters, sort, actor, now)


def list_page(queue: str, filters: Filters, *, actor: User, now: datetime, sort: str = "received",
              cursor: str | None = None, limit: int = PAGE_SIZE, summaries: bool = False) -> Page:
    """One page of a queue with filters; ``next_cursor`` opens the next page.

    ``summaries=True`` gives light rows (``Summary``) instead of Inquiry objects:
    only what a list shows, read in one query plus one for the tags. Summaries of restricted
    inquiries the actor may not read come masked (``access.Reader.mask``); Inquiry objects
    are not masked: whoever writes them out asks ``Page.reader`` (the CSV export does).
    """
    reader = Reader(actor)
    if filters.q and queue == "all" and sort == "received" and filters == Filters(q=filters.q):
        return _search_page(filters, reader, cursor=cursor, limit=limit, summaries=summaries)
    keys = _sort_keys(sort)
    query = _base_query(queue, filters, sort, actor, now, reader)
    page_notes: list[str] = []
    if filters.q:
        ids = search.search_ids(filters.q, limit=search_limit())
        if len(ids) >= search_limit():
            page_notes.append("search_capped")
        query = query.where(Inquiry.id.in_(ids))
    ascending = sort == "due"
    if cursor:
        values = decode_cursor(cursor, sort)
        row = tuple_(*keys)
        query = query.where(row > tuple_(*values) if ascending else row < tuple_(*values))
    order = [key.asc() if ascending else key.desc() for key in keys]
    rows = _load(query.order_by(*order).limit(limit + 1), summaries)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([getattr(last, key.key) for key in keys])
    if summaries:
        rows = reader.mask(rows)
    return Page(items=rows, next_cursor=next_cursor, filters=filters, queue=queue, sort=sort,
                search_capped=bool(page_notes), notes=page_notes, reader=reader)


def _search_page(filters: Filters, reader: Reader, *, cursor: str | None, limit: int, summaries: bool) -> Page:
    """A plain search, paged by the search index itself (newest first): no cap, no IN list.

    Matches the reader may not read are dropped (their content must not be searchable), and
    the index is asked again after the last id it gave until the page is full or it runs dry.
    """
    after = tuple(decode_cursor(cursor, "received")) if cursor else None
    rows: list[Any] = []
    while len(rows) <= limit:
        wanted = limit + 1 - len(rows)
        ids = search.search_ids(filters.q, limit=wanted, after=after)
        if not ids:
            break
        query = select(Inquiry).where(Inquiry.id.in_(ids), reader.content_condition())
        found = {row.id: row for row in _load(query, summaries)}
        rows.extend(found[row_id] for row_id in ids if row_id in found)
        if len(ids) < wanted:
            break
        after = (ids[-1],)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([rows[-1].received_at, rows[-1].id])
    return Page(items=rows, next_cursor=next_cursor, filters=filters, queue="all", sort="received", reader=reader)


@dataclass(frozen=True, slots=True)
class Summary:
    """What a list row needs of an inquiry, without loading the inquiry."""

    id: int
    reference: str | None
    subject: str
    language: str
    status: str
    priority: str
    priority_rank: int
    due_at: datetime | None
    received_at: datetime
    updated_at: datetime
    organisation_name: str | None
    trusted_partner: bool
    contact_name: str
    trusted_name: str | None
    restricted: bool
    topic_id: int | None
    assignee_id: int | None
    tags: tuple[str, ...]
    hidden: bool = False  # restricted, and the reader may not read it: the content is blanked


_SUMMARY_COLUMNS = (
    Inquiry.id, Inquiry.reference, Inquiry.subject, Inquiry.language, Inquiry.status, Inquiry.priority,
    Inquiry.priority_rank, Inquiry.due_at, Inquiry.received_at, Inquiry.updated_at, Inquiry.organisation_name,
    Inquiry.trusted_partner, Contact.name.label("contact_name"), Organisation.name.label("trusted_name"),
    Inquiry.restricted, Inquiry.topic_id, Inquiry.assignee_id,
)


def _load(query: Select[Inquiry], summaries: bool) -> Sequence[Any]:
    if not summaries:
        return db.session.scalars(query.options(*LIST_LOADING)).all()
    light = (query.with_only_columns(*_SUMMARY_COLUMNS, maintain_column_froms=True)
             .outerjoin(Contact, Contact.id == Inquiry.contact_id)
             .outerjoin(Organisation, Organisation.id == Inquiry.organisation_id))
    rows = db.session.execute(light).all()
    tags: dict[int, list[str]] = {}
    if rows:
        tagged = (select(inquiry_tags.c.inquiry_id, Tag.name).join(Tag, Tag.id == inquiry_tags.c.tag_id)
                  .where(inquiry_tags.c.inquiry_id.in_([row.id for row in rows])).order_by(Tag.name))
        for inquiry_id, name in db.session.execute(tagged):
            tags.setdefault(inquiry_id, []).append(name)
    return [Summary(**row._asdict(), tags=tuple(tags.get(row.id, ()))) for row in rows]


def inquiries_by_ids(ids: Sequence[int]) -> Sequence[Inquiry]:
    return db.session.scalars(select(Inquiry).where(Inquiry.id.in_(ids)).order_by(Inquiry.received_at.desc())).all()


def search_limit() -> int:
    return int(current_app.config["INBOX_SEARCH_LIMIT"])


def iter_filtered(queue: str, filters: Filters, *, actor: User, now: datetime, sort: str = "received",
                  max_rows: int, batch: int = 500) -> Any:
    """Every inquiry of a filtered list, a keyset page at a time (for streaming exports)."""
    cursor: str | None = None
    sent = 0
    while sent < max_rows:
        page = list_page(queue, filters, actor=actor, now=now, sort=sort, cursor=cursor,
                         limit=min(batch, max_rows - sent))
        yield from page.items
        sent += len(page.items)
        db.session.expire_all()  # keep memory flat: drop what was already written out
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


# --- counts --------------------------------------------------------------------------------

def _capped_count(query: Select[Any]) -> int:
    limited = query.with_only_columns(Inquiry.id).order_by(None).limit(COUNT_CAP + 1).subquery()
    return int(db.session.scalar(select(func.count()).select_from(limited)) or 0)


def queue_counts(actor: User, now: datetime) -> dict[str, int]:
    """How many inquiries each queue holds, capped at COUNT_CAP + 1; always current, never a long count.

    The queues by status and assignee are sums of tally rows kept by the database (tallies.py):
    one small query. The two that move with the clock are read from the due-time index: due soon
    is a short range, and overdue is every inquiry with a due time less those not yet due (a
    short range too), unless that range is itself long.
    """
    counted = tallies.read(actor.id)
    soon = now + timedelta(minutes=current_app.config["INBOX_DUE_SOON_MINUTES"])
    not_yet_due = _capped_count(select(Inquiry.id).where(Inquiry.due_at >= now))
    overdue = (counted.due - not_yet_due if not_yet_due <= COUNT_CAP
               else _capped_count(select(Inquiry.id).where(Inquiry.due_at < now)))
    counts = {
        "new": counted.by_status.get(Status.NEW.value, 0),
        "mine": counted.mine,
        "unassigned": counted.unassigned,
        "due_soon": _capped_count(select(Inquiry.id).where(Inquiry.due_at >= now, Inquiry.due_at < soon)),
        "overdue": overdue,
        "waiting": counted.by_status.get(Status.WAITING.value, 0),
        "resolved": counted.by_status.get(Status.RESOLVED.value, 0),
        "all": counted.total,
    }
    return {queue: min(count, COUNT_CAP + 1) for queue, count in counts.items()}


def forget_counts() -> None:
    """Nothing to forget: counts are read from the tally rows, which change with the inquiries."""


def home_figures(actor: User, now: datetime) -> dict[str, int]:
    """The staff home's figures: the actor's open inquiries, those due soon and overdue, and new unassigned ones."""
    soon = now + timedelta(minutes=current_app.config["INBOX_DUE_SOON_MINUTES"])
    mine = select(Inquiry.id).where(Inquiry.assignee_id == actor.id, Inquiry.status.in_(ACTIVE))
    queries = {
        "mine_open": mine,
        "mine_due_soon": mine.where(Inquiry.due_at >= now, Inquiry.due_at < soon),
        "mine_overdue": mine.where(Inquiry.due_at < now),
        "new_unassigned": select(Inquiry.id).where(Inquiry.status == Status.NEW.value, Inquiry.assignee_id.is_(None)),
    }
    return {name: _capped_count(query) for name, query in queries.items()}
