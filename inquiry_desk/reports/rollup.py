"""Keeping the daily roll-up: count local days again, mark them complete, follow inquiries that changed.

``rebuild(first_day, end_day, now)`` deletes the span's rows and counts again, 31 days per
statement, with the same bucketing as the live figures (local midnights in UTC): counts per day
and dimensions (``DailyRollup``) and the business minutes of each first response and resolution
(``InquiryTime``), each on the local day of its event. Every day of the span that is over at
``now`` is marked complete (``RolledDay``); only those are read from the roll-up, the rest live.

An inquiry that changes after its days were rolled up (resolved or reopened later, topic,
priority, assignee or restriction changed, merged) has its ``updated_at`` set by the recorder.
Its days, the local days of its receipt, first response and resolution now and the days its
rows in ``InquiryTime`` had before, are "touched": the dashboard reads them live until the job
has counted them again (``touched_days``), so that a figure never shows the roll-up's old view.
``refresh(now)``, the ``report_rollup`` job (hourly), counts again the touched days that were
rolled up and the last ``RECENT_DAYS`` complete days not rolled up yet, then records the moment
it checked changes up to (``RollupState``). It is incremental and idempotent: a second run with
nothing changed counts nothing. ``flask reports rollup --from --to`` rebuilds any span (after a
change of the team calendar: business minutes follow the calendar of the day they were counted).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Insert, Table, case, delete, func, literal, or_, select

from inquiry_desk.core.clock import team_timezone
from inquiry_desk.core.extensions import Model, db
from inquiry_desk.inquiries.models import Inquiry
from inquiry_desk.inquiries.targets import working_calendar
from inquiry_desk.inquiries.targets.business_hours import BusinessMinutes
from inquiry_desk.reports.models import DailyRollup, InquiryTime, RolledDay, RollupState
from inquiry_desk.reports.periods import Period
from inquiry_desk.reports.scope import bucket_of

CHUNK_DAYS = 31
RECENT_DAYS = 7
# A change is committed a little after its updated_at: changes this close to a check are looked at again.
MARGIN = timedelta(minutes=10)
DIMENSIONS = ("channel", "topic_id", "organisation_kind", "language", "trusted_partner", "priority", "assignee_id",
              "restricted")
MEASURES = {"first_response": (Inquiry.first_response_at, Inquiry.first_response_due_at, "first_responses",
                               "first_response_met"),
            "resolution": (Inquiry.resolved_at, Inquiry.resolution_due_at, "resolved", "resolution_met")}


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
    met_column = case((or_(due.is_(None), at <= due), 1), else_=0) if due is not None else literal(0)
    inner = (select(bucket_of(at, buckets).label("bucket"), *[getattr(Inquiry, name) for name in DIMENSIONS],
                    met_column.label("met"))
             .where(at >= chunk.start, at < chunk.end, Inquiry.merged_into_id.is_(None)).subquery())
    keys = [inner.c.bucket, *[inner.c[name] for name in DIMENSIONS]]
    for row in db.session.execute(select(*keys, func.count(), func.sum(inner.c.met)).group_by(*keys)):
        key = (buckets[int(row[0])].first_day, *row[1:len(keys)])
        entry = rows.setdefault(key, {"received": 0, "first_responses": 0, "first_response_met": 0,
                                      "resolved": 0, "resolution_met": 0})
        entry[total] += int(row[len(keys)])
        if met:
            entry[met] += int(row[len(keys) + 1] or 0)


def _times(chunk: Period, measure: str, minutes_between: Any) -> list[dict[str, Any]]:
    """One row per inquiry whose first response (resolution) falls in the chunk: its business minutes."""
    at, due, _total, _met = MEASURES[measure]
    zone = chunk.zone
    rows = db.session.execute(
        select(Inquiry.id, Inquiry.received_at, at, due, *[getattr(Inquiry, name) for name in DIMENSIONS])
        .where(at >= chunk.start, at < chunk.end, Inquiry.merged_into_id.is_(None)))
    return [{"inquiry_id": row[0], "measure": measure, "day": row[2].astimezone(zone).date(),
             "minutes": minutes_between(row[1], row[2]), "met": row[3] is None or row[2] <= row[3],
             **dict(zip(DIMENSIONS, row[4:], strict=True))} for row in rows]


def rebuild(first_day: date, end_day: date, now: datetime) -> int:
    """Count local days ``[first_day, end_day)`` again; returns the rows written. The caller commits."""
    db.session.execute(delete(DailyRollup).where(DailyRollup.day >= first_day, DailyRollup.day < end_day))
    db.session.execute(delete(InquiryTime).where(InquiryTime.day >= first_day, InquiryTime.day < end_day))
    minutes_between = BusinessMinutes(working_calendar()).between
    written = 0
    for chunk in _chunks(first_day, end_day):
        rows: Rows = {}
        _count(chunk, rows, Inquiry.received_at, None, "received", None)
        for at, due, total, met in MEASURES.values():
            _count(chunk, rows, at, due, total, met)
        values = [{"day": key[0], **dict(zip(DIMENSIONS, key[1:], strict=True)), **entry}
                  for key, entry in rows.items()]
        if values:
            db.session.execute(_core(DailyRollup), values)
        times = [row for measure in MEASURES for row in _times(chunk, measure, minutes_between)]
        if times:
            db.session.execute(_core(InquiryTime), times)
        written += len(values) + len(times)
    _mark(first_day, min(end_day, _today(now)), now)
    return written


def _core(model: type[Model]) -> Insert:
    """A Core insert into the model's table: one executemany, no primary keys fetched back row by row."""
    return cast(Table, model.__table__).insert()


def _today(now: datetime) -> date:
    return now.astimezone(team_timezone()).date()


def _mark(first_day: date, end_day: date, now: datetime) -> None:
    """The complete days of the span are rolled up as of ``now``."""
    if first_day >= end_day:
        return
    db.session.execute(delete(RolledDay).where(RolledDay.day >= first_day, RolledDay.day < end_day))
    db.session.execute(_core(RolledDay), [{"day": first_day + timedelta(days=n), "rolled_at": now}
                                           for n in range((end_day - first_day).days)])


# --- changes after a day was rolled up ----------------------------------------------------------------


def changes_since() -> datetime | None:
    """Changes made from this moment on may not be in the roll-up yet (``None``: nothing rolled up)."""
    checked = db.session.get(RollupState, 1)
    if checked is not None:
        return checked.changes_checked_at - MARGIN
    oldest = db.session.scalar(select(func.min(RolledDay.rolled_at)))
    return None if oldest is None else oldest - MARGIN


def touched_days(since: datetime) -> set[date]:
    """The local days whose figures an inquiry changed at or after ``since`` may have moved."""
    zone = team_timezone()
    changed = select(Inquiry.id).where(Inquiry.updated_at >= since)
    days: set[date] = set()
    for row in db.session.execute(select(Inquiry.received_at, Inquiry.first_response_at, Inquiry.resolved_at)
                                  .where(Inquiry.updated_at >= since)):
        days.update(moment.astimezone(zone).date() for moment in row if moment is not None)
    days.update(db.session.scalars(select(InquiryTime.day).where(InquiryTime.inquiry_id.in_(changed)).distinct()))
    return days


def runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Sorted days as spans of consecutive days ``[first, end)``."""
    ordered = sorted(set(days))
    found = []
    for _key, group in itertools.groupby(enumerate(ordered), key=lambda pair: pair[1].toordinal() - pair[0]):
        members = [day for _index, day in group]
        found.append((members[0], members[-1] + timedelta(days=1)))
    return found


def refresh(now: datetime) -> str:
    """The job: count again the touched days already rolled up and the recent days not yet; idempotent."""
    today = _today(now)
    since = changes_since()
    marked = set(db.session.scalars(select(RolledDay.day)))
    dirty = {today - timedelta(days=n) for n in range(1, RECENT_DAYS + 1)} - marked
    if since is not None:
        dirty |= touched_days(since) & marked
    written = 0
    for first_day, end_day in runs(day for day in dirty if day < today):
        written += rebuild(first_day, end_day, now)
    state = db.session.get(RollupState, 1)
    if state is None:
        db.session.add(RollupState(id=1, changes_checked_at=now))
    else:
        state.changes_checked_at = now
    db.session.commit()
    return f"rolled up {len(dirty)} days: {written} rows"
