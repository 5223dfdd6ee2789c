"""Business-hours arithmetic: pure, framework-free, and fast over long spans.

Business time is counted in the team's local wall time: every open day runs
from ``opens`` to ``closes`` on the clock in the team's office, on both sides
of a daylight-saving switch, and the result is converted to UTC with
``zoneinfo``. A day is open when its ISO weekday is a working day and it is
not a closed day (a statutory holiday or a closure the team added).

Whole days and weeks are skipped arithmetically; nothing loops minute by
minute, and statutory holidays are looked up once per (country, subdivision,
year).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from holidays.countries.canada import Canada

ONE_DAY = timedelta(days=1)
ONE_MINUTE = timedelta(minutes=1)
# A calendar with no open day for this long is a mistake, not a slow week.
MAX_SEARCH_DAYS = 3 * 366
# Provinces and territories whose statutory holidays the package knows.
CANADIAN_SUBDIVISIONS: tuple[str, ...] = tuple(Canada.subdivisions)


@lru_cache(maxsize=512)
def statutory_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """The public holidays of one year (observed days included), from the ``holidays`` package."""
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year).keys())


@dataclass(frozen=True)
class ClosedDays:
    """Days the team does not work although they are working weekdays: holidays and closures.

    Callable as ``closed(day) -> bool``; ``between(start, end)`` lists the closed
    days in ``[start, end)`` in order, which keeps long spans cheap.
    """

    country: str | None = "CA"
    subdivision: str | None = "ON"
    closures: frozenset[date] = field(default_factory=frozenset)
    _sorted_closures: tuple[date, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "closures", frozenset(self.closures))
        object.__setattr__(self, "_sorted_closures", tuple(sorted(self.closures)))

    def _holidays(self, year: int) -> frozenset[date]:
        if not self.country:
            return frozenset()
        return statutory_holidays(self.country, self.subdivision, year)

    def __call__(self, day: date) -> bool:
        return day in self.closures or day in self._holidays(day.year)

    def between(self, start: date, end: date) -> list[date]:
        """Closed days in ``[start, end)``, sorted, without duplicates."""
        if end <= start:
            return []
        days: set[date] = set()
        for year in range(start.year, end.year + 1):
            days.update(day for day in self._holidays(year) if start <= day < end)
        low = bisect.bisect_left(self._sorted_closures, start)
        high = bisect.bisect_left(self._sorted_closures, end)
        days.update(self._sorted_closures[low:high])
        return sorted(days)


@dataclass(frozen=True)
class WorkingCalendar:
    """The team's working week in its own time zone, and the days it is closed."""

    timezone: ZoneInfo
    working_days: frozenset[int]  # ISO weekdays, 1 = Monday … 7 = Sunday
    opens: time
    closes: time
    # Statutory holidays and closures; none unless given (see ``closed_days()``).
    closed_days: ClosedDays = field(default_factory=lambda: ClosedDays(country=None, subdivision=None))

    def __post_init__(self) -> None:
        object.__setattr__(self, "working_days", frozenset(self.working_days))
        if not self.working_days or not self.working_days <= set(range(1, 8)):
            raise ValueError("working_days must be a non-empty set of ISO weekdays (1 to 7)")
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("opens and closes are wall-clock times without a time zone")
        if _offset(self.closes) <= _offset(self.opens):
            raise ValueError("closes must be after opens")

    @property
    def day_length(self) -> timedelta:
        """Business time in one open day."""
        return _offset(self.closes) - _offset(self.opens)

    def is_open_day(self, day: date) -> bool:
        return day.isoweekday() in self.working_days and not self.closed_days(day)

    def next_open_day(self, day: date) -> date:
        """The first open day strictly after ``day``."""
        for _ in range(MAX_SEARCH_DAYS):
            day += ONE_DAY
            if self.is_open_day(day):
                return day
        raise ValueError(f"no open day within {MAX_SEARCH_DAYS} days after {day}")

    def open_days_between(self, start: date, end: date) -> int:
        """How many open days lie in ``[start, end)``, without walking the span day by day."""
        if end <= start:
            return 0
        weeks, extra = divmod((end - start).days, 7)
        count = weeks * len(self.working_days)
        count += sum(1 for i in range(extra) if (start + i * ONE_DAY).isoweekday() in self.working_days)
        count -= sum(1 for day in self.closed_days.between(start, end) if day.isoweekday() in self.working_days)
        return count

    def nth_open_day_after(self, day: date, n: int) -> date:
        """The ``n``-th open day strictly after ``day`` (``n`` ≥ 1)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        per_week = len(self.working_days)
        travelled = 0
        # Jump whole weeks while more than a week of open days is left; a week never
        # holds more than per_week open days, so a jump can never overshoot.
        while (weeks := (n - 1) // per_week) > 0:
            target = day + timedelta(weeks=weeks)
            n -= self.open_days_between(day + ONE_DAY, target + ONE_DAY)
            travelled += weeks * 7
            day = target
            if travelled > 100 * 366 and n > 0:
                raise ValueError("the calendar has too few open days")
        while n > 0:
            day = self.next_open_day(day)
            n -= 1
        return day

    # -- conversions between UTC moments and (local day, offset into the business day)

    def _locate(self, moment: datetime) -> tuple[date, timedelta]:
        """The business position of a moment: an open day and the time since opening, in [0, day_length).

        A moment outside business hours is placed at the next opening.
        """
        if moment.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware times")
        local = moment.astimezone(self.timezone)
        day = local.date()
        wall = _offset(local.time())
        opens, closes = _offset(self.opens), _offset(self.closes)
        if self.is_open_day(day) and wall < closes:
            return day, max(wall - opens, timedelta(0))
        return self.next_open_day(day), timedelta(0)

    def _moment(self, day: date, since_opening: timedelta) -> datetime:
        """The UTC moment at a wall-clock time of a local day (fold=0 for a repeated hour)."""
        wall = datetime.combine(day, time()) + _offset(self.opens) + since_opening
        return wall.replace(tzinfo=self.timezone).astimezone(UTC)


def _offset(value: time) -> timedelta:
    return timedelta(hours=value.hour, minutes=value.minute, seconds=value.second, microseconds=value.microsecond)


def add_business_minutes(start: datetime, minutes: int, cal: WorkingCalendar) -> datetime:
    """The moment (in UTC) when ``minutes`` of business time have passed after ``start``.

    A start outside business hours begins at the next opening. A result that falls
    exactly at the end of a business day is that day's closing time.
    """
    if minutes < 0:
        raise ValueError("minutes must not be negative")
    day, position = cal._locate(start)
    remaining = timedelta(minutes=minutes)
    left_today = cal.day_length - position
    if remaining <= left_today:
        return cal._moment(day, position + remaining)
    full_days, rest = divmod(remaining - left_today, cal.day_length)
    if not rest:
        return cal._moment(cal.nth_open_day_after(day, full_days), cal.day_length)
    return cal._moment(cal.nth_open_day_after(day, full_days + 1), rest)


def business_minutes_between(start: datetime, end: datetime, cal: WorkingCalendar) -> int:
    """Whole minutes of business time from ``start`` to ``end`` (0 when ``end`` is not after ``start``).

    The inverse of :func:`add_business_minutes`: ``add(start, between(start, end))``
    is ``end`` for an ``end`` inside business hours, a whole number of minutes on.
    """
    if end <= start:
        return 0
    start_day, start_position = cal._locate(start)
    end_day, end_position = cal._locate(end)
    elapsed = cal.open_days_between(start_day, end_day) * cal.day_length + end_position - start_position
    return max(elapsed // ONE_MINUTE, 0)


def closed_days(subdivision: str | None, closures: Iterable[date], country: str | None = "CA") -> ClosedDays:
    """Statutory holidays of ``country`` and ``subdivision``, plus the team's own closures."""
    return ClosedDays(country=country, subdivision=subdivision, closures=frozenset(closures))


class BusinessMinutes:
    """``business_minutes_between`` for many pairs of moments at once (the dashboard's response times).

    The same calendar and the same rule (a moment outside business hours counts from the next
    opening; wall-clock hours on both sides of a daylight-saving change), but each local day's
    position is looked up in a running total of open days built once, so a pair costs two time
    zone conversions instead of a walk over the calendar.
    """

    def __init__(self, cal: WorkingCalendar) -> None:
        self.cal = cal
        self._day_length = cal.day_length
        self._opens = _offset(cal.opens)
        self._anchor: date | None = None  # the first day met: positions are differences, any fixed day will do
        self._open_before: dict[date, int] = {}  # open days from the anchor to each day met (negative before)

    def _days_before(self, day: date) -> int:
        found = self._open_before.get(day)
        if found is None:
            anchor = self._anchor = self._anchor or day
            found = self._open_before[day] = (self.cal.open_days_between(anchor, day) if day >= anchor
                                              else -self.cal.open_days_between(day, anchor))
        return found

    def _position(self, moment: datetime) -> timedelta:
        if moment.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware times")
        local = moment.astimezone(self.cal.timezone)
        day = local.date()
        before = self._days_before(day) * self._day_length
        if not self.cal.is_open_day(day):
            return before
        since_opening = _offset(local.time()) - self._opens
        return before + min(max(since_opening, timedelta(0)), self._day_length)

    def between(self, start: datetime, end: datetime) -> int:
        if end <= start:
            return 0
        elapsed = self._position(end) - self._position(start)
        return max(elapsed // ONE_MINUTE, 0)
