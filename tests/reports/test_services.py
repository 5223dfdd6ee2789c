"""The dashboard's figures on a hand-built data set whose figures are known in advance (see dataset.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
import time_machine
from flask import Flask

from inquiry_desk.inquiries.access import Reader
from inquiry_desk.reports import periods
from inquiry_desk.reports import services as reports
from inquiry_desk.reports.services import RESTRICTED, RESTRICTED_TOPIC, Filters, Scope

from . import dataset
from .dataset import FIRST, LAST, NOW, TORONTO, Dataset


@pytest.fixture
def data(app: Flask) -> Iterator[Dataset]:
    with time_machine.travel(NOW, tick=False):
        yield dataset.build()


def fortnight() -> periods.Period:
    return periods.resolve("custom", today=NOW.date(), zone=TORONTO, first=FIRST, last=LAST)


def scope(user, **filters) -> Scope:  # type: ignore[no-untyped-def]
    return Scope(Reader(user), Filters(**filters))


# --- periods ----------------------------------------------------------------------------------------


def test_periods_in_the_team_time_zone_across_daylight_saving() -> None:
    today = date(2026, 11, 4)
    week = periods.resolve("week", today=today, zone=TORONTO)
    assert (week.first_day, week.end_day) == (date(2026, 11, 2), date(2026, 11, 9))
    assert (week.previous().first_day, week.previous().end_day) == (date(2026, 10, 26), date(2026, 11, 2))
    four = periods.resolve("4weeks", today=today, zone=TORONTO)
    assert (four.first_day, four.last_day, four.days) == (date(2026, 10, 8), today, 28)
    quarter = periods.resolve("quarter", today=today, zone=TORONTO)
    assert (quarter.first_day, quarter.end_day) == (date(2026, 10, 1), date(2027, 1, 1))
    assert (quarter.previous().first_day, quarter.previous().end_day) == (date(2026, 7, 1), date(2026, 10, 1))
    assert quarter.granularity == "week"
    weeks = quarter.buckets()
    assert weeks[0].first_day == date(2026, 10, 1) and weeks[0].end_day == date(2026, 10, 5)  # Thursday to Monday
    assert all(bucket.first_day.weekday() == 0 for bucket in weeks[1:])
    assert weeks[-1].end_day == date(2027, 1, 1)

    period = fortnight()
    days = period.buckets()
    assert len(days) == 14 and period.granularity == "day"
    # Local midnights: 04:00 UTC before the change, 05:00 UTC after; 1 November lasts 25 hours.
    assert period.start == datetime(2026, 10, 26, 4, tzinfo=period.start.tzinfo)
    assert period.end == datetime(2026, 11, 9, 5, tzinfo=period.end.tzinfo)
    sunday = days[6]
    assert sunday.first_day == date(2026, 11, 1) and sunday.end - sunday.start == timedelta(hours=25)
    assert (period.previous().first_day, period.previous().end_day) == (date(2026, 10, 12), FIRST)


@pytest.mark.parametrize("first, last", [(None, date(2026, 1, 1)), (date(2026, 2, 1), date(2026, 1, 1)),
                                         (date(2025, 1, 1), date(2026, 1, 2)), (date(1900, 1, 1), date(1900, 1, 2))])
def test_custom_periods_refused(first: date | None, last: date | None) -> None:
    with pytest.raises(periods.InvalidPeriod):
        periods.resolve("custom", today=date(2026, 11, 4), zone=TORONTO, first=first, last=last)
    with pytest.raises(periods.InvalidPeriod):
        periods.resolve("decade", today=date(2026, 11, 4), zone=TORONTO)


# --- received, breakdowns, backlog ------------------------------------------------------------------


def test_received_per_local_day_by_channel(data: Dataset) -> None:
    series = reports.received(fortnight(), scope(data.lead))
    assert series.total == 6
    by_day = {bucket.first_day.isoformat(): total for bucket, total in zip(series.buckets, series.totals(),
                                                                            strict=True) if total}
    # D (Saturday 23:30 EDT, Sunday in UTC) is Saturday's; E (Sunday 23:30 EST, Monday in UTC) Sunday's.
    assert by_day == {"2026-10-26": 1, "2026-10-27": 1, "2026-10-30": 1, "2026-10-31": 1, "2026-11-01": 1,
                      "2026-11-04": 1}
    assert {key: sum(values) for key, values in series.rows.items()} == {"web": 3, "email": 2, "phone": 1}
    # The previous fortnight holds P1 and P2 (Sunday 25 October 23:30 in Toronto, the 26th in UTC).
    assert reports.received(fortnight().previous(), scope(data.lead)).total == 2


def test_breakdowns_and_top_organisations(data: Dataset) -> None:
    lead = scope(data.lead)
    assert reports.breakdown(fortnight(), lead, "topic") == {data.t1: 4, data.t2: 2}
    assert reports.breakdown(fortnight(), lead, "organisation_kind") == {"ngo": 5, "government": 1}
    top = reports.top_organisations(fortnight(), lead)
    assert [(o.name, o.count) for o in top] == [("Organisation One", 3), ("Organisation Two", 2),
                                                ("Organisation Three", 1)]


def test_need_to_know_restricted_counted_but_never_revealed(data: Dataset) -> None:
    officer = scope(data.officer)
    assert reports.received(fortnight(), officer).total == 6  # D counts: its date is metadata
    assert reports.breakdown(fortnight(), officer, "topic") == {data.t1: 4, data.t2: 1, RESTRICTED_TOPIC: 1}
    assert reports.breakdown(fortnight(), officer, "channel") == {"web": 3, "email": 1, RESTRICTED: 1, "phone": 1}
    assert reports.breakdown(fortnight(), officer, "language") == {"en": 5, RESTRICTED: 1}
    # D's organisation is not among the officer's top organisations.
    assert [(o.name, o.count) for o in reports.top_organisations(fortnight(), officer)] == [
        ("Organisation One", 3), ("Organisation Two", 1), ("Organisation Three", 1)]
    # A filter on content never matches what one may not read; the assignee (Bob) reads it.
    assert reports.received_count(fortnight(), scope(data.officer, topic_id=data.t2)) == 1
    assert reports.received_count(fortnight(), scope(data.lead, topic_id=data.t2)) == 2
    assert reports.received_count(fortnight(), scope(data.bob, topic_id=data.t2)) == 2
    assert reports.received_count(fortnight(), scope(data.officer, language="fr")) == 0
    assert reports.breakdown(fortnight(), scope(data.bob), "topic") == {data.t1: 4, data.t2: 2}
    # Times by topic put D in the restricted group for the officer.
    times = reports.first_response_times(fortnight(), officer)
    assert set(times.by_topic) == {data.t1, data.t2, RESTRICTED_TOPIC}


def test_filters(data: Dataset) -> None:
    lead = data.lead
    assert reports.received_count(fortnight(), scope(lead, topic_id=data.t1)) == 4
    assert reports.received_count(fortnight(), scope(lead, organisation_kind="government")) == 1
    assert reports.received_count(fortnight(), scope(lead, trusted=True)) == 1
    assert reports.received_count(fortnight(), scope(lead, language="fr")) == 1
    assert reports.received_count(fortnight(), scope(lead, assignee_id=data.alice.id)) == 3
    assert reports.received_count(fortnight(), scope(lead, assignee_id=data.alice.id, topic_id=data.t2)) == 0


def test_open_backlog_at_the_end_of_each_day(data: Dataset) -> None:
    values = [value for _bucket, value in reports.backlog(fortnight(), scope(data.lead), NOW)]
    # OLD and P2 open throughout; B from the 27th; D from the 31st; E from 1 November; the 4th is under way.
    assert values == [2, 3, 3, 3, 3, 4, 5, 5, 5, 5, None, None, None, None]


# --- times and targets --------------------------------------------------------------------------------


def test_times_in_business_hours_and_targets_met(data: Dataset) -> None:
    first = reports.first_response_times(fortnight(), scope(data.lead))
    # D came in on Saturday night; its reply at 09:30 on Monday (after the change) is 60 business minutes.
    assert sorted(first.overall.minutes) == [10, 30, 60, 60, 240]
    assert (first.overall.median, first.overall.p90, first.overall.met, first.overall.count) == (60, 240, 4, 5)
    assert first.overall.met_share == pytest.approx(0.8)
    normal, high = first.by_priority["normal"], first.by_priority["high"]
    assert (normal.median, normal.p90, normal.met, normal.count) == (60, 240, 4, 4)
    assert (high.median, high.met_share) == (30, 0.0)
    assert (first.by_topic[data.t1].median, first.by_topic[data.t1].count) == (30, 3)
    assert (first.by_topic[data.t2].median, first.by_topic[data.t2].met) == (60, 2)

    resolution = reports.resolution_times(fortnight(), scope(data.lead))
    assert (resolution.overall.median, resolution.overall.p90, resolution.overall.met) == (120, 300, 2)
    assert resolution.overall.met_share == pytest.approx(2 / 3)


def test_percentile_nearest_rank() -> None:
    assert reports.percentile([], 0.5) is None
    assert reports.percentile([7], 0.9) == 7
    assert reports.percentile(list(range(1, 11)), 0.5) == 5
    assert reports.percentile(list(range(1, 11)), 0.9) == 9
    assert reports.percentile(list(range(1, 101)), 0.9) == 90


def test_workload_per_team_member(data: Dataset) -> None:
    rows = {w.name: (w.open, w.due_soon, w.overdue, w.resolved) for w in reports.workload(fortnight(),
                                                                                            scope(data.lead), NOW)}
    assert rows == {"Alice Martin": (1, 1, 0, 2), "Bob Tremblay": (1, 0, 1, 1)}


def test_headline_against_the_previous_period(data: Dataset) -> None:
    figures = reports.headline(fortnight(), scope(data.lead), NOW)
    assert (figures.received.current, figures.received.previous, figures.received.change) == (6, 2, 4)
    assert (figures.resolved.current, figures.resolved.previous) == (3, 1)
    assert (figures.first_response_median.current, figures.first_response_median.previous) == (60, 120)
    assert (figures.resolution_median.current, figures.resolution_median.previous) == (120, 180)
    assert (figures.first_response_met.previous, figures.resolution_met.previous) == (1.0, 1.0)
    # Open now (the period's end is in the future): OLD, P2, B, D, E.
    assert figures.open_at_end.current == 5
    # Open at the end of the previous fortnight (Monday 26 October, 00:00): OLD and P2.
    assert figures.open_at_end.previous == 2
