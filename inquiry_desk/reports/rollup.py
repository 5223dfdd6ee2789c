"""The daily roll-up (``report_daily_rollup``): rebuilt for a span of local days, read like the live query.

``rebuild(first_day, end_day)`` deletes the span's rows and counts again, 31 days per statement,
with the same bucketing as the live figures (local midnights in UTC), so that the roll-up and the
live query agree (tests/reports/test_rollup.py). The ``report_rollup`` job rebuilds yesterday and
today every night; ``flask reports rollup --from … --to …`` rebuilds any span on demand (after a
calendar change, a topic merge, an import of old inquiries). Rows carry the inquiry's dimensions as
they are at rebuild time, and whether it is restricted.

Need-to-know as in ``services``: a restricted row the reader may not read (not a lead, not its
assignee) is counted in the ``RESTRICTED`` group and never matches a content filter. Being named
on one inquiry is not in the roll-up: such a reader sees it as restricted here (never more).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, delete, false, func, insert, literal, or_, select, true

from inquiry_desk.core.clock import team_timezone
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.access import restricted_condition
from inquiry_desk.inquiries.models import Inquiry
from inquiry_desk.reports.models import DailyRollup
from inquiry_desk.reports.periods import Period
from inquiry_desk.reports.services import RESTRICTED, Scope, Series, bucket_of

CHUNK_DAYS = 31
DIMENSIONS = ("channel", "topic_id", "organisation_kind", "language", "trusted_partner", "priority", "assignee_id")


def _chunks(first_day: date, end_day: date) -> Iterator[Period]:
    zone = team_timezone()
    day = first_day
    while day < end_day:
        end = min(day + timedelta(days=CHUNK_DAYS), end_day)
        yield Period("custom", day, end, zone)
        day = end


Rows = dict[tuple[Any, ...], dict[str, int]]


def _count(chunk: Period, rows: Rows, at: Any, due: Any | None, total: str, met: str | None) -> None:
    """Add the inquiries whose ``at`` falls in the chunk, per local day and dimensions, to ``rows``."""
    buckets = chunk.buckets()
    restricted = case((restricted_condition(), true()), else_=false())
    met_column = case((or_(due.is_(None), at <= due), 1), else_=0) if due is not None else literal(0)
    inner = (select(bucket_of(at, buckets).label("bucket"), *[getattr(Inquiry, name) for name in DIMENSIONS],
                    restricted.label("restricted"), met_column.label("met"))
             .where(at >= chunk.start, at < chunk.end, Inquiry.merged_into_id.is_(None)).subquery())
    keys = [inner.c.bucket, *[inner.c[name] for name in DIMENSIONS], inner.c.restricted]
    for row in db.session.execute(select(*keys, func.count(), func.sum(inner.c.met)).group_by(*keys)):
        key = (buckets[int(row[0])].first_day, *row[1:len(keys)])
        entry = rows.setdefault(key, {"received": 0, "first_responses": 0, "first_response_met": 0,
                                      "resolved": 0, "resolution_met": 0})
        entry[total] += int(row[len(keys)])
        if met:
            entry[met] += int(row[len(keys) + 1] or 0)


def rebuild(first_day: date, end_day: date) -> int:
    """Count local days ``[first_day, end_day)`` again; returns the rows written. The caller commits."""
    db.session.execute(delete(DailyRollup).where(DailyRollup.day >= first_day, DailyRollup.day < end_day))
    written = 0
    for chunk in _chunks(first_day, end_day):
        rows: Rows = {}
        _count(chunk, rows, Inquiry.received_at, None, "received", None)
        _count(chunk, rows, Inquiry.first_response_at, Inquiry.first_response_due_at, "first_responses",
               "first_response_met")
        _count(chunk, rows, Inquiry.resolved_at, Inquiry.resolution_due_at, "resolved", "resolution_met")
        values = [{"day": key[0], **dict(zip(DIMENSIONS, key[1:-1], strict=True)), "restricted": bool(key[-1]),
                   **entry} for key, entry in rows.items()]
        if values:
            db.session.execute(insert(DailyRollup), values)
        written += len(values)
    return written


def rebuild_recent(now: datetime) -> int:
    """The job: yesterday and today (local), so that late first responses and resolutions are counted."""
    today = now.astimezone(team_timezone()).date()
    return rebuild(today - timedelta(days=1), today + timedelta(days=1))


# --- reading it ----------------------------------------------------------------------------------


def _readable(scope: Scope) -> ColumnElement[bool]:
    if scope.reader.is_lead:
        return true()
    mine = DailyRollup.assignee_id == scope.reader.user.id if scope.reader.user is not None else false()
    return or_(DailyRollup.restricted.is_(False), mine)


def _conditions(scope: Scope) -> list[ColumnElement[bool]]:
    f = scope.filters
    found: list[ColumnElement[bool]] = []
    if f.topic_id:
        found.append(DailyRollup.topic_id == f.topic_id)
    if f.organisation_kind:
        found.append(DailyRollup.organisation_kind == f.organisation_kind)
    if f.trusted:
        found.append(DailyRollup.trusted_partner.is_(True))
    if f.language:
        found.append(DailyRollup.language == f.language)
    if f.uses_content and not scope.reader.is_lead:
        found.append(_readable(scope))
    if f.assignee_id:
        found.append(DailyRollup.assignee_id == f.assignee_id)
    return found


def received(period: Period, scope: Scope) -> Series:
    """Inquiries received per bucket by channel, from the roll-up (as ``services.received``)."""
    buckets = period.buckets()
    index = case(*[(DailyRollup.day < bucket.end_day, i) for i, bucket in enumerate(buckets)], else_=len(buckets))
    channel = DailyRollup.channel if scope.reader.is_lead else case((_readable(scope), DailyRollup.channel),
                                                                    else_=RESTRICTED)
    inner = (select(index.label("bucket"), channel.label("key"), DailyRollup.received.label("n"))
             .where(DailyRollup.day >= period.first_day, DailyRollup.day < period.end_day, DailyRollup.received > 0,
                    *_conditions(scope)).subquery())
    series = Series(buckets)
    for bucket, key, total in db.session.execute(
            select(inner.c.bucket, inner.c.key, func.sum(inner.c.n)).group_by(inner.c.bucket, inner.c.key)):
        series.add(key, int(bucket), int(total or 0))
    return series


def targets_met(period: Period, scope: Scope) -> dict[str, tuple[int, int, int, int]]:
    """Per priority: (first responses, of which met, resolutions, of which met), from the roll-up."""
    rows = db.session.execute(
        select(DailyRollup.priority, func.sum(DailyRollup.first_responses), func.sum(DailyRollup.first_response_met),
               func.sum(DailyRollup.resolved), func.sum(DailyRollup.resolution_met))
        .where(DailyRollup.day >= period.first_day, DailyRollup.day < period.end_day, *_conditions(scope))
        .group_by(DailyRollup.priority))
    result = {str(row[0]): (int(row[1] or 0), int(row[2] or 0), int(row[3] or 0), int(row[4] or 0)) for row in rows}
    return {priority: figures for priority, figures in result.items() if any(figures)}

