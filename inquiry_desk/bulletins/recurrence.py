"""When a series' editions fall: a small explicit rule in the team's time zone, times in UTC.

Two rules, nothing more: **weekly** on an ISO weekday (1 = Monday), or **monthly** on the
Nth business day of the month (the open days of the inbox's calendar: its working week,
statutory holidays and closures, ``inquiries.targets``), each at a wall-clock time. The
local day and time are converted to UTC one occurrence at a time, so 10:00 Toronto is
14:00 UTC in October and 15:00 UTC in November. A time the spring change skips (02:30)
falls an hour later, once; a time the autumn change repeats is its first occurrence.
A month with fewer than N business days has no edition.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from inquiry_desk.inquiries.targets.business_hours import WorkingCalendar

WEEKLY = "weekly"
MONTHLY = "monthly"
MAX_BUSINESS_DAY = 10
# A monthly rule whose day falls in no month for this long is a mistake, not a gap.
MAX_MONTHS = 36


@dataclass(frozen=True)
class Rule:
    kind: str  # WEEKLY or MONTHLY
    at: time  # local wall-clock time
    weekday: int | None = None  # WEEKLY: ISO weekday
    business_day: int | None = None  # MONTHLY: 1 = the first business day


def at_local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC moment of a local wall-clock time (fold=0: a skipped time moves on, a repeated one is the first)."""
    return datetime.combine(day, at).replace(tzinfo=zone, fold=0).astimezone(UTC)


def nth_business_day(year: int, month: int, n: int, calendar: WorkingCalendar) -> date | None:
    day = date(year, month, 1)
    if not calendar.is_open_day(day):
        day = calendar.next_open_day(day)
    for _ in range(n - 1):
        day = calendar.next_open_day(day)
    return day if (day.year, day.month) == (year, month) else None


def _local_days(rule: Rule, start: date, calendar: WorkingCalendar | None) -> Iterator[date]:
    """The rule's local days from ``start`` on, in order."""
    if rule.kind == WEEKLY:
        assert rule.weekday is not None
        day = start + timedelta(days=(rule.weekday - start.isoweekday()) % 7)
        while True:
            yield day
            day += timedelta(days=7)
    assert rule.business_day is not None and calendar is not None
    year, month = start.year, start.month
    for _ in range(MAX_MONTHS):
        found = nth_business_day(year, month, rule.business_day, calendar)
        if found is not None and found >= start:
            yield found
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def occurrences(rule: Rule, *, after: datetime, zone: ZoneInfo, calendar: WorkingCalendar | None = None,
                until: datetime | None = None, count: int = 6) -> list[datetime]:
    """Up to ``count`` occurrences strictly after ``after`` (and at or before ``until``), in UTC, in order."""
    found: list[datetime] = []
    # From the day before, in local time: an occurrence late in the local day may be early in UTC's next.
    start = after.astimezone(zone).date() - timedelta(days=1)
    for day in _local_days(rule, start, calendar):
        moment = at_local(day, rule.at, zone)
        if until is not None and moment > until:
            break
        if moment > after:
            found.append(moment)
            if len(found) >= count:
                break
    return found
