"""Reading the daily roll-up: which days of a span come from it, and its figures for those days.

``coverage(scope, first_day, end_day)`` splits a span of local days in two: the days rolled up,
complete (before today) and untouched since (see ``rollup.touched_days``), read here; and the rest
as spans of UTC time, read live by ``services``. Both give the same figures for a day (the tests
compare them), so a period may mix the two.

Need-to-know as in ``services``: a row restricted one by one or by its topic (the topics
restricted now, from the ``Reader``) that the reader may not read (not a lead, not its assignee)
is counted in the ``RESTRICTED`` group and never matches a content filter. Being named on one
inquiry is not in the roll-up: such a reader sees it as restricted on rolled-up days (never more).

Counts read the facet that holds the dimension asked for (``DailyFacet``: a few hundred rows a day),
or the full ``DailyRollup`` when a filter names a dimension the facets sum over (organisation kind,
language, trusted partners). Both carry the need-to-know columns, so both give the same figures.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, func, literal, or_, select, true

from inquiry_desk.core.clock import team_timezone
from inquiry_desk.core.extensions import db
from inquiry_desk.reports import rollup
from inquiry_desk.reports.models import FACETS, DailyFacet, DailyRollup, InquiryTime, RolledDay
from inquiry_desk.reports.periods import Bucket, local_midnight
from inquiry_desk.reports.scope import RESTRICTED, RESTRICTED_TOPIC, Scope

Table = Any  # DailyRollup, InquiryTime or a facet's columns (``_counts``): each has the inquiry's dimensions
Days = Sequence[tuple[date, date]]


@dataclass(frozen=True)
class Coverage:
    rolled: list[tuple[date, date]]  # runs of local days [first, end) read from the roll-up
    live: list[tuple[datetime, datetime]]  # spans of UTC time read live


def _usable(scope: Scope) -> set[date]:
    """The days rolled up and untouched since, once per request."""
    if "rolled" not in scope.memo:
        marked = set(db.session.scalars(select(RolledDay.day)))
        since = rollup.changes_since() if marked else None
        scope.memo["rolled"] = marked - rollup.touched_days(since) if since is not None else marked
    found: set[date] = scope.memo["rolled"]
    return found


def coverage(scope: Scope, first_day: date, end_day: date) -> Coverage:
    """Which days of ``[first_day, end_day)`` the roll-up gives, and the UTC spans of the others."""
    usable = _usable(scope)
    zone = team_timezone()
    today = scope.now.astimezone(zone).date()
    days = [first_day + timedelta(days=n) for n in range((end_day - first_day).days)]
    rolled = [day for day in days if day < today and day in usable]
    live = rollup.runs(set(days) - set(rolled))
    return Coverage(rollup.runs(rolled), [(local_midnight(a, zone), local_midnight(b, zone)) for a, b in live])


def _counts(scope: Scope, by: str | None) -> Table:
    """Where the counts by ``by`` (a dimension, or ``None``) are read: its facet (``"all"`` for none, the
    topic or the assignee, which every facet keeps), unless a filter needs a dimension the facets sum over."""
    filters = scope.filters
    if filters.organisation_kind or filters.language or filters.trusted:
        return DailyRollup
    facet = by if by in FACETS else "all"
    columns = [DailyFacet.day, DailyFacet.topic_id, DailyFacet.assignee_id, DailyFacet.restricted,
               *[getattr(DailyFacet, name) for name in rollup.COUNTS]]
    if facet != "all":
        columns.append(DailyFacet.key.label(facet))
    return select(*columns).where(DailyFacet.facet == facet).subquery(f"facet_{facet}").c


def _in(table: Table, days: Days) -> ColumnElement[bool]:
    return or_(*[and_(table.day >= first, table.day < end) for first, end in days])


def readable(scope: Scope, table: Table) -> ColumnElement[bool]:
    reader = scope.reader
    if reader.is_lead:
        return true()
    open_topic = or_(table.topic_id.is_(None), table.topic_id.not_in(reader.topics)) if reader.topics else true()
    mine = table.assignee_id == reader.user.id if reader.user is not None else false()
    return or_(and_(table.restricted.is_(False), open_topic), mine)


def conditions(scope: Scope, table: Table, days: Days) -> list[ColumnElement[bool]]:
    return [_in(table, days), *scope.filtered(table, readable(scope, table))]


def dimension(scope: Scope, table: Table, name: str | None) -> Any:
    """A dimension as the reader may see it (``None``: no dimension, one group)."""
    if name is None:
        return literal(0)
    column = getattr(table, "topic_id" if name == "topic" else name)
    if scope.reader.is_lead:
        return column
    return case((readable(scope, table), column), else_=literal(RESTRICTED_TOPIC if name == "topic" else RESTRICTED))


def per_bucket(scope: Scope, days: Days, buckets: Sequence[Bucket], measure: str,
               by: str | None) -> list[tuple[int, Any, int]]:
    """(bucket index, key, count) of ``measure`` (``received`` or ``resolved``) on the rolled-up days."""
    if not days:
        return []
    table = _counts(scope, by)
    count = getattr(table, measure)
    inner = (select(table.day.label("day"), dimension(scope, table, by).label("key"), count.label("n"))
             .where(count > 0, *conditions(scope, table, days)).subquery())
    # Summed per day and key in the database (a few rows a day), put in their buckets here.
    ends = [bucket.end_day for bucket in buckets]
    return [(bisect.bisect_right(ends, day), key, int(total or 0)) for day, key, total in db.session.execute(
        select(inner.c.day, inner.c.key, func.sum(inner.c.n)).group_by(inner.c.day, inner.c.key))]


def breakdown(scope: Scope, days: Days, by: str) -> dict[Any, int]:
    if not days:
        return {}
    table = _counts(scope, by)
    inner = (select(dimension(scope, table, by).label("key"), table.received.label("n"))
             .where(table.received > 0, *conditions(scope, table, days)).subquery())
    return {key: int(total or 0) for key, total in db.session.execute(
        select(inner.c.key, func.sum(inner.c.n)).group_by(inner.c.key))}


def per_assignee(scope: Scope, days: Days, measure: str) -> dict[int, int]:
    """Received (resolved) on the rolled-up days per assignee (the inquiry's at roll-up time; a change of
    assignee touches the inquiry's days, read live until they are rolled up again)."""
    if not days:
        return {}
    table = _counts(scope, None)
    column = getattr(table, measure)
    return {int(assignee): int(total or 0) for assignee, total in db.session.execute(
        select(table.assignee_id, func.sum(column))
        .where(table.assignee_id.is_not(None), column > 0, *conditions(scope, table, days))
        .group_by(table.assignee_id))}


def count(scope: Scope, days: Days, measure: str) -> int:
    """Received (resolved) on the rolled-up days; both sums in one statement, kept for the request."""
    if not days:
        return 0
    key = ("rolled count", tuple(days))
    if key not in scope.memo:
        table = _counts(scope, None)
        row = db.session.execute(select(func.sum(table.received), func.sum(table.resolved))
                                 .where(*conditions(scope, table, days))).one()
        scope.memo[key] = {"received": int(row[0] or 0), "resolved": int(row[1] or 0)}
    found: int = scope.memo[key][measure]
    return found


def times(scope: Scope, days: Days, measure: str, detail: bool = True) -> list[tuple[str, Any, int, int, int]]:
    """(priority, topic as the reader may see it, business minutes, inquiries, of which met) on the days;
    without ``detail``, per minutes alone (priority and topic left empty)."""
    if not days:
        return []
    priority = InquiryTime.priority if detail else literal("")
    topic = dimension(scope, InquiryTime, "topic") if detail else literal(0)
    inner = (select(priority.label("priority"), topic.label("topic"),
                    InquiryTime.minutes.label("minutes"), case((InquiryTime.met, 1), else_=0).label("met"))
             .where(InquiryTime.measure == measure, *conditions(scope, InquiryTime, days)).subquery())
    keys = [inner.c.priority, inner.c.topic, inner.c.minutes] if detail else [inner.c.minutes]
    # Tens of thousands of rows at a million inquiries: read as plain tuples (Core), not through the ORM.
    rows: Any = db.session.connection().execute(
        select(*keys, func.count(), func.sum(inner.c.met)).group_by(*keys)).all()  # fetchall: one call
    if not detail:
        return [("", None, minutes, count, met) for minutes, count, met in rows]
    return rows  # type: ignore[no-any-return]  # rows of (priority, topic, minutes, count, met)
