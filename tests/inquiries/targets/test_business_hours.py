"""Business-hours arithmetic: weekends, statutory holidays, closures, daylight saving, long spans."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from inquiry_desk.inquiries.targets.business_hours import (
    ClosedDays,
    WorkingCalendar,
    add_business_minutes,
    business_minutes_between,
    closed_days,
    statutory_holidays,
)

TORONTO = ZoneInfo("America/Toronto")
WEEKDAYS = frozenset({1, 2, 3, 4, 5})
DAY = 8 * 60  # 08:30 to 16:30


def calendar(subdivision: str = "ON", closures: tuple[date, ...] = (), working_days: frozenset[int] = WEEKDAYS,
             opens: time = time(8, 30), closes: time = time(16, 30)) -> WorkingCalendar:
    return WorkingCalendar(TORONTO, working_days, opens, closes, closed_days(subdivision, closures))


def local(*args: int) -> datetime:
    """A moment on the wall clock in Toronto."""
    return datetime(*args, tzinfo=TORONTO)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def add(start: datetime, minutes: int, cal: WorkingCalendar | None = None) -> datetime:
    result = add_business_minutes(start, minutes, cal or calendar())
    assert result.tzinfo is UTC
    return result


# -- within days, weekends


def test_within_one_day() -> None:
    assert add(local(2026, 3, 3, 9, 0), 60) == local(2026, 3, 3, 10, 0)


def test_the_end_of_a_day_is_its_closing_time_not_the_next_opening() -> None:
    assert add(local(2026, 3, 3, 8, 30), DAY) == local(2026, 3, 3, 16, 30)


def test_across_the_end_of_a_day() -> None:
    assert add(local(2026, 3, 3, 16, 0), 60) == local(2026, 3, 4, 9, 0)


def test_across_a_weekend() -> None:
    assert add(local(2026, 1, 9, 16, 0), 60) == local(2026, 1, 12, 9, 0)  # Friday to Monday
    assert business_minutes_between(local(2026, 1, 9, 16, 0), local(2026, 1, 12, 9, 0), calendar()) == 60


def test_seconds_are_carried_along() -> None:
    start = local(2026, 3, 3, 9, 0, 30)
    assert add(start, 90) == local(2026, 3, 3, 10, 30, 30)
    assert business_minutes_between(start, local(2026, 3, 3, 10, 30, 29), calendar()) == 89


# -- starting outside business hours


@pytest.mark.parametrize(("start", "expected"), [
    (local(2026, 3, 3, 6, 0), local(2026, 3, 3, 9, 0)),  # before opening
    (local(2026, 3, 3, 16, 30), local(2026, 3, 4, 9, 0)),  # at closing
    (local(2026, 3, 3, 22, 15), local(2026, 3, 4, 9, 0)),  # evening
    (local(2026, 3, 7, 11, 0), local(2026, 3, 9, 9, 0)),  # Saturday
    (local(2026, 2, 16, 10, 0), local(2026, 2, 17, 9, 0)),  # Family Day (Ontario)
])
def test_a_start_outside_hours_begins_at_the_next_opening(start: datetime, expected: datetime) -> None:
    assert add(start, 30) == expected


def test_zero_minutes_outside_hours_is_the_next_opening() -> None:
    assert add(local(2026, 1, 10, 12, 0), 0) == local(2026, 1, 12, 8, 30)
    assert add(local(2026, 1, 13, 12, 0), 0) == local(2026, 1, 13, 12, 0)


# -- statutory holidays and closures


def test_canada_day_is_skipped() -> None:
    assert add(local(2026, 6, 30, 16, 0), 60) == local(2026, 7, 2, 9, 0)  # Wednesday 1 July is closed


def test_ontario_family_day_is_skipped_but_not_in_quebec() -> None:
    friday = local(2026, 2, 13, 16, 0)
    assert add(friday, 60) == local(2026, 2, 17, 9, 0)
    assert add(friday, 60, calendar("QC")) == local(2026, 2, 16, 9, 0)


def test_quebec_fete_nationale_is_closed_only_in_quebec() -> None:
    start = local(2026, 6, 23, 16, 0)
    assert add(start, 60, calendar("QC")) == local(2026, 6, 25, 9, 0)
    assert add(start, 60, calendar("ON")) == local(2026, 6, 24, 9, 0)


def test_a_team_closure_is_skipped() -> None:
    cal = calendar(closures=(date(2026, 12, 24),))
    # Thursday 24 (closure), Friday 25 (Christmas), the weekend, Monday 28 (Boxing Day observed).
    assert add(local(2026, 12, 23, 16, 0), 60, cal) == local(2026, 12, 29, 9, 0)
    assert add(local(2026, 12, 23, 16, 0), 60) == local(2026, 12, 24, 9, 0)
    assert business_minutes_between(local(2026, 12, 21, 8, 30), local(2026, 12, 31, 16, 30), cal) == 6 * DAY


def test_closed_days_lists_holidays_and_closures_in_order() -> None:
    days = ClosedDays("CA", "ON", frozenset({date(2026, 12, 24), date(2026, 12, 25)}))
    assert days(date(2026, 7, 1)) and days(date(2026, 12, 24)) and not days(date(2026, 7, 2))
    assert days.between(date(2026, 12, 20), date(2027, 1, 3)) == [
        date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26), date(2026, 12, 28), date(2027, 1, 1)]


# -- daylight saving time: opening hours hold on the team's wall clock


def test_across_the_march_change_to_daylight_saving_time() -> None:
    # Sunday 8 March 2026 the clocks go forward: 09:00 is 14:00 UTC before, 13:00 UTC after.
    start = local(2026, 3, 6, 9, 0)
    assert start.astimezone(UTC) == utc(2026, 3, 6, 14, 0)
    due = add(start, 2 * DAY)
    assert due == utc(2026, 3, 10, 13, 0) == local(2026, 3, 10, 9, 0)
    assert business_minutes_between(start, due, calendar()) == 2 * DAY
    assert add(local(2026, 3, 6, 15, 30), 120) == utc(2026, 3, 9, 13, 30)  # Monday 09:30 EDT


def test_across_the_november_change_back_to_standard_time() -> None:
    # Sunday 1 November 2026 the clocks go back: 09:00 is 13:00 UTC before, 14:00 UTC after.
    start = local(2026, 10, 30, 16, 0)
    assert start.astimezone(UTC) == utc(2026, 10, 30, 20, 0)
    due = add(start, 60)
    assert due == utc(2026, 11, 2, 14, 0) == local(2026, 11, 2, 9, 0)
    assert business_minutes_between(start, due, calendar()) == 60


def test_on_the_day_of_a_change_when_the_team_works_every_day() -> None:
    every_day = calendar(working_days=frozenset(range(1, 8)))
    assert add(local(2026, 3, 7, 16, 0), 60, every_day) == utc(2026, 3, 8, 13, 0)  # Sunday 09:00 EDT
    assert add(local(2026, 10, 31, 16, 0), 60, every_day) == utc(2026, 11, 1, 14, 0)  # Sunday 09:00 EST
    assert add(local(2026, 3, 8, 8, 30), DAY, every_day) == local(2026, 3, 8, 16, 30)


# -- long spans


def test_a_whole_year_of_business_days() -> None:
    # 2026 in Ontario: 261 weekdays, 9 of them holidays; Friday 2 January is one more before Monday 5.
    start = local(2026, 1, 5, 9, 0)
    due = add(start, 250 * DAY)
    assert due == local(2026, 12, 31, 9, 0)
    assert business_minutes_between(start, due, calendar()) == 250 * DAY
    assert business_minutes_between(local(2026, 1, 1, 0, 0), local(2027, 1, 1, 0, 0), calendar()) == 252 * DAY


def test_holidays_are_looked_up_once_per_year() -> None:
    cal = calendar()
    add(local(2026, 1, 5, 9, 0), 5 * 250 * DAY, cal)
    misses = statutory_holidays.cache_info().misses
    add(local(2026, 1, 5, 9, 0), 5 * 250 * DAY, cal)
    business_minutes_between(local(2026, 1, 5, 9, 0), local(2030, 6, 3, 9, 0), cal)
    assert statutory_holidays.cache_info().misses == misses


def _reference_add(start: datetime, minutes: int, cal: WorkingCalendar) -> datetime:
    """The slow, obvious way: walk day by day on the wall clock."""
    moment = start.astimezone(TORONTO)
    day, wall = moment.date(), datetime.combine(date.min, moment.time().replace(tzinfo=None)) - datetime.min
    opens = timedelta(hours=cal.opens.hour, minutes=cal.opens.minute)
    closes = timedelta(hours=cal.closes.hour, minutes=cal.closes.minute)
    remaining = timedelta(minutes=minutes)
    while True:
        if cal.is_open_day(day) and wall < closes:
            position = max(wall, opens)
            if remaining <= closes - position:
                return (datetime.combine(day, time()) + position + remaining).replace(tzinfo=TORONTO).astimezone(UTC)
            remaining -= closes - position
        day, wall = day + timedelta(days=1), timedelta(0)


def test_agrees_with_a_day_by_day_walk_and_between_is_the_inverse() -> None:
    rng = random.Random(20260701)
    closures = tuple(date(2026, 1, 1) + timedelta(days=rng.randrange(0, 3 * 365)) for _ in range(25))
    cal = calendar("ON", closures)
    for _ in range(300):
        start = utc(2026, 1, 1) + timedelta(minutes=rng.randrange(0, 3 * 365 * 24 * 60))
        minutes = rng.choice([0, 1, 59, 60, DAY, DAY + 1, rng.randrange(0, 40 * DAY), rng.randrange(0, 400 * DAY)])
        due = add_business_minutes(start, minutes, cal)
        assert due == _reference_add(start, minutes, cal), (start, minutes)
        assert business_minutes_between(start, due, cal) == minutes, (start, minutes)
        # And the other way round, for an end a whole number of minutes after an in-hours start.
        end = due + timedelta(minutes=rng.randrange(0, 5 * 24 * 60))
        located = add_business_minutes(end, 0, cal)
        start_in_hours = add_business_minutes(start.replace(second=0, microsecond=0), 0, cal)
        between = business_minutes_between(start_in_hours, located, cal)
        if located > start_in_hours:
            assert add_business_minutes(start_in_hours, between, cal) in (located, _closing_before(located, cal))


def _closing_before(moment: datetime, cal: WorkingCalendar) -> datetime:
    """The opening of a day and the closing of the open day before it are the same business moment."""
    day = moment.astimezone(TORONTO).date() - timedelta(days=1)
    while not cal.is_open_day(day):
        day -= timedelta(days=1)
    return datetime.combine(day, cal.closes).replace(tzinfo=TORONTO).astimezone(UTC)


def test_ten_years_are_counted_without_walking_the_days() -> None:
    cal = calendar()
    calls = 0
    original = cal.is_open_day

    def counting(day: date) -> bool:
        nonlocal calls
        calls += 1
        return original(day)

    object.__setattr__(cal, "is_open_day", counting)
    start = local(2026, 1, 5, 9, 0)
    due = add_business_minutes(start, 2500 * DAY, cal)
    assert business_minutes_between(start, due, cal) == 2500 * DAY
    assert calls < 100


# -- what is refused


def test_between_is_zero_when_the_end_is_not_after_the_start() -> None:
    cal = calendar()
    assert business_minutes_between(local(2026, 3, 3, 10, 0), local(2026, 3, 3, 9, 0), cal) == 0
    assert business_minutes_between(local(2026, 3, 7, 10, 0), local(2026, 3, 8, 9, 0), cal) == 0  # a weekend


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        add_business_minutes(datetime(2026, 3, 3, 9, 0), 10, calendar())
    with pytest.raises(ValueError, match="negative"):
        add_business_minutes(local(2026, 3, 3, 9, 0), -1, calendar())
    with pytest.raises(ValueError, match="working_days"):
        calendar(working_days=frozenset())
    with pytest.raises(ValueError, match="closes"):
        calendar(opens=time(17, 0), closes=time(9, 0))
