"""Reporting periods in the team's time zone: this week, the last 4 weeks, this quarter, or custom days.

A period is a span of whole local days ``[first_day, end_day)``; its bounds in UTC are the
local midnights, so a period that crosses a daylight-saving change is 23 or 25 hours longer
or shorter in UTC and still holds exactly its days. Short periods are charted by day, long
ones (more than 31 days) by week (weeks begin on Monday; the first and last may be partial).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from inquiry_desk.core.domain import InvalidInput

KINDS = ("week", "4weeks", "quarter", "custom")
MAX_DAYS = 366
DAILY_UP_TO = 31
ONE_DAY = timedelta(days=1)


class InvalidPeriod(InvalidInput):
    code = "invalid_period"
    default_message = _l("Choose a period: both dates, the first not after the last, at most a year apart.")


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC moment at which a local day begins."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class Bucket:
    """One bar of a chart: local days ``[first_day, end_day)`` and its UTC bounds."""

    first_day: date
    end_day: date
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Period:
    kind: str
    first_day: date  # local, included
    end_day: date  # local, excluded
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        return local_midnight(self.first_day, self.zone)

    @property
    def end(self) -> datetime:
        return local_midnight(self.end_day, self.zone)

    @property
    def last_day(self) -> date:
        return self.end_day - ONE_DAY

    @property
    def days(self) -> int:
        return (self.end_day - self.first_day).days

    @property
    def granularity(self) -> str:
        return "day" if self.days <= DAILY_UP_TO else "week"

    def buckets(self) -> list[Bucket]:
        bounds = [self.first_day]
        day = self.first_day
        while True:
            if self.granularity == "day":
                day += ONE_DAY
            else:
                day += timedelta(days=7 - day.weekday())  # the next Monday
            if day >= self.end_day:
                break
            bounds.append(day)
        bounds.append(self.end_day)
        return [Bucket(a, b, local_midnight(a, self.zone), local_midnight(b, self.zone))
                for a, b in itertools.pairwise(bounds)]

    def previous(self) -> Period:
        """The period just before, to compare with: the week, 4 weeks or quarter before, or as many days."""
        if self.kind == "quarter":
            end = self.first_day
            return Period(self.kind, _quarter_start(end - ONE_DAY), end, self.zone)
        return Period(self.kind, self.first_day - (self.end_day - self.first_day), self.first_day, self.zone)


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def resolve(kind: str, *, today: date, zone: ZoneInfo, first: date | None = None, last: date | None = None) -> Period:
    """The period of that kind that holds ``today`` (a local date); ``custom`` takes ``first`` and ``last``."""
    if kind == "week":
        monday = today - timedelta(days=today.weekday())
        return Period(kind, monday, monday + timedelta(days=7), zone)
    if kind == "4weeks":
        return Period(kind, today - timedelta(days=27), today + ONE_DAY, zone)
    if kind == "quarter":
        start = _quarter_start(today)
        following = _quarter_start(start + timedelta(days=95))
        return Period(kind, start, following, zone)
    if kind == "custom":
        if first is None or last is None or last < first or (last - first).days >= MAX_DAYS:
            raise InvalidPeriod()
        if not 2000 <= first.year <= 2100 or not 2000 <= last.year <= 2100:
            raise InvalidPeriod()
        return Period(kind, first, last + ONE_DAY, zone)
    raise InvalidPeriod()


def parse_day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise InvalidPeriod() from exc
