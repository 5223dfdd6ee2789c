"""The daily roll-up agrees with the live query, for every reader, filter and day (DST included),
and stays right when an inquiry changes after its days were rolled up."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import time_machine
from flask import Flask
from sqlalchemy import func, select

from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import services as inquiries
from inquiry_desk.inquiries import triage
from inquiry_desk.inquiries.access import Reader
from inquiry_desk.reports import periods, rolled, rollup
from inquiry_desk.reports import services as reports
from inquiry_desk.reports.models import FACETS, DailyFacet, DailyRollup, InquiryTime, RolledDay
from inquiry_desk.reports.services import Filters, Scope

from . import dataset
from .dataset import FIRST, LAST, NOW, TORONTO, Dataset


def fortnight() -> periods.Period:
    return periods.resolve("custom", today=NOW.date(), zone=TORONTO, first=FIRST, last=LAST)


PERIODS = (fortnight(), fortnight().previous(), periods.resolve("4weeks", today=NOW.date(), zone=TORONTO))


def scope(user: Any, filters: Filters, now: datetime, live: bool = False) -> Scope:
    found = Scope(Reader(user), filters, now=now)
    if live:
        found.memo["rolled"] = set()  # no day from the roll-up: the live query alone
    return found


def figures(period: periods.Period, user: Any, filters: Filters, now: datetime, live: bool = False) -> dict[str, Any]:
    """Every figure the roll-up can give, for one reader, period and filters."""
    s = scope(user, filters, now, live)
    times = {}
    for name, found in (("first", reports.first_response_times(period, s)),
                        ("resolution", reports.resolution_times(period, s))):
        groups = {"overall": found.overall, **{f"p:{k}": v for k, v in found.by_priority.items()},
                  **{f"t:{k}": v for k, v in found.by_topic.items()}}
        times[name] = {key: (group.minutes, group.median, group.p90, group.met) for key, group in groups.items()}
    return {"received": reports.received(period, s).rows, "count": reports.received_count(period, s),
            **{by: reports.breakdown(period, s, by) for by in reports.DIMENSIONS}, "times": times,
            "backlog": [value for _bucket, value in reports.backlog(period, s, now)],
            "headline": reports.headline(period, s, now), "workload": reports.workload(period, s, now)}


def rolled_days(user: Any, period: periods.Period, now: datetime) -> set[date]:
    covered = rolled.coverage(scope(user, Filters(), now), period.first_day, period.end_day)
    return {first + timedelta(days=n) for first, end in covered.rolled for n in range((end - first).days)}


def test_rollup_and_live_query_agree(app: Flask) -> None:
    with time_machine.travel(NOW, tick=False):
        data = dataset.build()
    readers = (data.lead, data.officer, data.bob)
    # Every figure: the fortnight (rolled-up days and today's) for each reader with and without a filter on
    # content, the 4 weeks and the previous fortnight (all rolled up) once; the counts by channel for the rest.
    full = [(fortnight(), user, Filters()) for user in readers]
    full += [(fortnight(), data.officer, Filters(topic_id=data.t2)), (PERIODS[2], data.bob, Filters(language="fr"))]
    counts = [(period, user, filters) for period in PERIODS[1:] for user in readers
              for filters in (Filters(assignee_id=data.alice.id), Filters(trusted=True))]
    live = [figures(p, u, f, NOW, live=True) for p, u, f in full]
    live_received = [reports.received(p, scope(u, f, NOW, live=True)).rows for p, u, f in counts]

    first_day = FIRST - timedelta(days=40)
    written = rollup.rebuild(first_day, LAST + timedelta(days=1), NOW)
    db.session.commit()
    assert written > 0
    # Rebuilding again gives the same rows (the span is deleted first).
    assert rollup.rebuild(first_day, LAST + timedelta(days=1), NOW) == written
    db.session.commit()
    assert db.session.scalar(select(func.sum(DailyRollup.received))) == 9
    # Each facet sums the same rows over its other dimensions; the figures without a filter on a dimension
    # the facets leave out read a facet, the others the full roll-up (both compared with live below).
    for facet in FACETS:
        assert db.session.scalar(select(func.sum(DailyFacet.received)).where(DailyFacet.facet == facet)) == 9
        assert db.session.scalar(select(func.count(func.distinct(DailyFacet.day))).where(
            DailyFacet.facet == facet)) == db.session.scalar(select(func.count(func.distinct(DailyRollup.day))))
    assert rolled._counts(scope(data.officer, Filters(topic_id=data.t2), NOW), "channel") is not DailyRollup
    assert rolled._counts(scope(data.officer, Filters(language="fr"), NOW), "channel") is DailyRollup
    assert db.session.scalar(select(func.count()).select_from(InquiryTime)) == 6 + 4  # P1 and A to F
    # The rows written are counted (the daily rows come from INSERT … SELECT, the times by batches).
    assert written == db.session.scalar(select(func.count()).select_from(DailyRollup)) + 6 + 4
    # The days before today are complete and read from the roll-up; today and after, live.
    assert rolled_days(data.lead, fortnight(), NOW) == {FIRST + timedelta(days=n) for n in range(9)}

    for (period, user, filters), expected in zip(full, live, strict=True):
        assert figures(period, user, filters, NOW) == expected, (period, user.name, filters)
    for (period, user, filters), expected in zip(counts, live_received, strict=True):
        assert reports.received(period, scope(user, filters, NOW)).rows == expected, (period, user.name, filters)
    # The workload's resolutions come from the roll-up on its days, as live (and there are some).
    assert sum(w.resolved for w in figures(fortnight(), data.lead, Filters(), NOW)["workload"]) > 0
    # D is Bob's: he reads it in the roll-up too; the officer sees it restricted, as live.
    officer = reports.received(fortnight(), scope(data.officer, Filters(), NOW))
    assert sum(officer.rows["restricted"]) == 1
    # The hand-built medians and percentiles, from the roll-up alone (the fortnight's days up to the 3rd).
    past = periods.resolve("custom", today=NOW.date(), zone=TORONTO, first=FIRST, last=date(2026, 11, 3))
    lead = scope(data.lead, Filters(), NOW)
    first = reports.first_response_times(past, lead)
    assert (first.overall.minutes, first.overall.median, first.overall.p90, first.overall.met) == (
        [30, 60, 60, 240], 60, 240, 3)


def _change_after_rollup(data: Dataset, later: datetime) -> None:
    """A's topic changes, C is reopened (its resolution on 30 October is undone), B is resolved now."""
    inquiry = data.inquiries
    triage.set_topic(inquiry["A"], inquiries.topic_by_code("other"), actor=data.lead, now=later)
    triage.set_status(inquiry["C"], "open", actor=data.lead, now=later)
    triage.set_status(inquiry["B"], "resolved", actor=data.lead, now=later)
    db.session.commit()


def test_an_inquiry_changed_after_its_days_were_rolled_up(app: Flask) -> None:
    with time_machine.travel(NOW, tick=False):
        data = dataset.build()
    rollup.rebuild(FIRST - timedelta(days=40), LAST + timedelta(days=1), NOW)
    db.session.commit()
    later = NOW + timedelta(hours=1)
    _change_after_rollup(data, later)

    # Until the job runs, the touched days (A's 26 October, C's resolution on the 30th) are read live.
    assert {date(2026, 10, 26), date(2026, 10, 30)}.isdisjoint(rolled_days(data.lead, fortnight(), later))
    for user in (data.lead, data.officer):
        assert figures(fortnight(), user, Filters(), later) == figures(fortnight(), user, Filters(), later, live=True)
    resolution = reports.resolution_times(fortnight(), scope(data.lead, Filters(), later))
    assert resolution.overall.count == 3  # A, F and B now; C no longer

    # The job counts the touched days again; then they come from the roll-up, with the same figures.
    assert rollup.refresh(later + timedelta(hours=1)).startswith("rolled up 3 days")  # A, B and C's days
    assert {date(2026, 10, 26), date(2026, 10, 30)} <= rolled_days(data.lead, fortnight(), later)
    for user, filters in ((data.lead, Filters()), (data.officer, Filters(topic_id=data.t2))):
        assert figures(fortnight(), user, filters, later) == figures(fortnight(), user, filters, later, live=True)
    # Nothing changed since: a second run counts nothing (incremental and idempotent).
    assert rollup.refresh(later + timedelta(hours=2)) == "rolled up 0 days: 0 rows"


def test_the_job_rolls_up_the_recent_days_once(app: Flask) -> None:
    with time_machine.travel(NOW, tick=False):
        dataset.build()
    from inquiry_desk.jobs.registry import report_rollup

    assert report_rollup(NOW).startswith("rolled up 7 days")
    days = set(db.session.scalars(select(RolledDay.day)))
    assert days == {NOW.date() - timedelta(days=n) for n in range(1, 8)}  # today is never complete
    assert report_rollup(NOW + timedelta(hours=1)) == "rolled up 0 days: 0 rows"


def test_rebuild_on_demand_from_the_command_line(app: Flask) -> None:
    with time_machine.travel(NOW, tick=False):
        dataset.build()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reports", "rollup", "--from", "2026-10-01", "--to", "2026-11-08"])
    assert result.exit_code == 0, result.output
    assert "rolled up 39 days" in result.output
    assert db.session.scalar(select(func.sum(DailyRollup.received))) == 9
    assert runner.invoke(args=["reports", "rollup", "--from", "2026-11-08", "--to", "2026-10-01"]).exit_code != 0
