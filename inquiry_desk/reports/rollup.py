"""Keeping the daily roll-up: count local days again, mark them complete, follow inquiries that changed.

``rebuild(first_day, end_day, now)`` deletes the span's rows and counts again, 31 days per
statement, with the same bucketing as the live figures (local midnights in UTC): counts per day
and dimensions (``DailyRollup``), the same summed per facet (``DailyFacet``), and the business
minutes of each first response and resolution
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

from sqlalchemy import Date, Insert, String, Table, case, delete, func, literal, null, or_, select, union_all

from inquiry_desk.core.clock import team_timezone
from inquiry_desk.core.extensions import Model, db
from inquiry_desk.inquiries.models import Inquiry
from inquiry_desk.inquiries.targets import working_calendar
from inquiry_desk.inquiries.targets.business_hours import BusinessMinutes
from inquiry_desk.reports.models import FACETS, DailyFacet, DailyRollup, InquiryTime, RolledDay, RollupState
from inquiry_desk.reports.periods import Period

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


TIMES_BATCH = 5000


def _day_of(at: Any, chunk: Period) -> Any:
    """The local day (a date) on which ``at`` falls, for a moment inside the chunk: local midnights in UTC."""
    return case(*[(at < bucket.end, literal(bucket.first_day, Date)) for bucket in chunk.buckets()],
                else_=literal(chunk.end_day, Date))


def _counted(chunk: Period) -> Any:
    """One row per event in the chunk (a receipt, a first response, a resolution), with its day,
    dimensions and what it adds to each count; the roll-up sums them per day and dimensions."""
    dimensions = [getattr(Inquiry, name) for name in DIMENSIONS]
    zero, one = literal(0), literal(1)
    parts = [select(_day_of(Inquiry.received_at, chunk).label("day"), *dimensions, one.label("received"),
                    zero.label("first_responses"), zero.label("first_response_met"), zero.label("resolved"),
                    zero.label("resolution_met"))
             .where(Inquiry.received_at >= chunk.start, Inquiry.received_at < chunk.end,
                    Inquiry.merged_into_id.is_(None))]
    for at, due, total, _met in MEASURES.values():
        met = case((or_(due.is_(None), at <= due), 1), else_=0)
        counts = {"received": zero, "first_responses": zero, "first_response_met": zero, "resolved": zero,
                  "resolution_met": zero, total: one, _met: met}
        parts.append(select(_day_of(at, chunk).label("day"), *dimensions,
                            *[value.label(name) for name, value in counts.items()])
                     .where(at >= chunk.start, at < chunk.end, Inquiry.merged_into_id.is_(None)))
    return union_all(*parts).subquery()


COUNTS = ("received", "first_responses", "first_response_met", "resolved", "resolution_met")


def _roll(chunk: Period) -> int:
    """``INSERT … SELECT … GROUP BY``: the chunk's daily rows, counted in the database."""
    events = _counted(chunk)
    keys = [events.c.day, *[events.c[name] for name in DIMENSIONS]]
    summed = (select(*keys, *[func.sum(events.c[name]) for name in COUNTS]).group_by(*keys))
    db.session.execute(_core(DailyRollup).from_select(["day", *DIMENSIONS, *COUNTS], summed))
    _roll_facets(chunk.first_day, chunk.end_day)
    # psycopg does not report the rows of this INSERT … SELECT (rowcount -1): counted by the day index.
    return int(db.session.scalar(select(func.count()).select_from(DailyRollup).where(
        DailyRollup.day >= chunk.first_day, DailyRollup.day < chunk.end_day)) or 0)


READER_KEYS = ("topic_id", "assignee_id", "restricted")  # what need-to-know reads: kept in every facet


def _roll_facets(first_day: date, end_day: date) -> None:
    """The days' roll-up rows summed once per facet (``DailyFacet``), in the database."""
    for facet in FACETS:
        key = null().cast(String(40)) if facet == "all" else getattr(DailyRollup, facet)
        keys = [DailyRollup.day, *[getattr(DailyRollup, name) for name in READER_KEYS]]
        summed = (select(DailyRollup.day, literal(facet, String(20)), key, *keys[1:],
                         *[func.sum(getattr(DailyRollup, name)) for name in COUNTS])
                  .where(DailyRollup.day >= first_day, DailyRollup.day < end_day)
                  .group_by(*keys, *([] if facet == "all" else [key])))
        db.session.execute(_core(DailyFacet).from_select(["day", "facet", "key", *READER_KEYS, *COUNTS], summed))


def _times(chunk: Period, measure: str, minutes_between: Any) -> Iterator[dict[str, Any]]:
    """One row per inquiry whose first response (resolution) falls in the chunk: its business minutes.
    Streamed (``yield_per``): the business minutes follow the team calendar, counted in Python."""
    at, due, _total, _met = MEASURES[measure]
    zone = chunk.zone
    rows = db.session.execute(
        select(Inquiry.id, Inquiry.received_at, at, due, *[getattr(Inquiry, name) for name in DIMENSIONS])
        .where(at >= chunk.start, at < chunk.end, Inquiry.merged_into_id.is_(None))
        .execution_options(yield_per=TIMES_BATCH))
    for row in rows:
        yield {"inquiry_id": row[0], "measure": measure, "day": row[2].astimezone(zone).date(),
               "minutes": minutes_between(row[1], row[2]), "met": row[3] is None or row[2] <= row[3],
               **dict(zip(DIMENSIONS, row[4:], strict=True))}


def _write_times(chunk: Period, minutes_between: Any) -> int:
    """The chunk's times, read in batches and inserted in batches (one executemany each)."""
    written = 0
    batch: list[dict[str, Any]] = []
    for measure in MEASURES:
        for row in _times(chunk, measure, minutes_between):
            batch.append(row)
            if len(batch) >= TIMES_BATCH:
                written += _insert_times(batch)
                batch = []
    return written + (_insert_times(batch) if batch else 0)


TIME_COLUMNS = ("inquiry_id", "measure", "day", "minutes", "met", *DIMENSIONS)


def _insert_times(batch: list[dict[str, Any]]) -> int:
    """One batch of times: by ``COPY`` on PostgreSQL (several times faster than an INSERT of many rows),
    one executemany elsewhere."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        raw = cast(Any, connection.connection.dbapi_connection)
        with raw.cursor() as cursor, cursor.copy(
                f"COPY {InquiryTime.__tablename__} ({', '.join(TIME_COLUMNS)}) FROM STDIN") as copy:
            for row in batch:
                copy.write_row([row[name] for name in TIME_COLUMNS])
    else:
        db.session.execute(_core(InquiryTime), batch)
    return len(batch)


def rebuild(first_day: date, end_day: date, now: datetime) -> int:
    """Count local days ``[first_day, end_day)`` again; returns the rows written. The caller commits."""
    db.session.execute(delete(DailyRollup).where(DailyRollup.day >= first_day, DailyRollup.day < end_day))
    db.session.execute(delete(DailyFacet).where(DailyFacet.day >= first_day, DailyFacet.day < end_day))
    db.session.execute(delete(InquiryTime).where(InquiryTime.day >= first_day, InquiryTime.day < end_day))
    minutes_between = BusinessMinutes(working_calendar()).between
    written = 0
    for chunk in _chunks(first_day, end_day):
        written += _roll(chunk)
        written += _write_times(chunk, minutes_between)
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
