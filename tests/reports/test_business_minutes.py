"""The dashboard's batch business minutes agree with the targets' own arithmetic (one calendar, one rule)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from inquiry_desk.inquiries.targets.business_hours import (
    BusinessMinutes,
    WorkingCalendar,
    business_minutes_between,
    closed_days,
)

CALENDAR = WorkingCalendar(timezone=ZoneInfo("America/Toronto"), working_days=frozenset({1, 2, 3, 4, 5}),
                           opens=time(8, 30), closes=time(16, 30),
                           closed_days=closed_days("ON", [date(2026, 11, 3)]))
BASE = datetime(2026, 10, 1, tzinfo=UTC)
moments = st.integers(min_value=0, max_value=120 * 24 * 60 * 60).map(lambda s: BASE + timedelta(seconds=s))


@settings(max_examples=300, deadline=None)
@given(start=moments, length=st.integers(min_value=-3600, max_value=40 * 24 * 3600))
def test_batch_agrees_with_business_minutes_between(start: datetime, length: int) -> None:
    end = start + timedelta(seconds=length)
    assert BusinessMinutes(CALENDAR).between(start, end) == business_minutes_between(start, end, CALENDAR)


def test_one_instance_for_many_pairs_across_daylight_saving() -> None:
    batch = BusinessMinutes(CALENDAR)
    pairs = [(BASE + timedelta(hours=h), BASE + timedelta(hours=h + 7 * k)) for h in range(0, 2000, 37)
             for k in (1, 5, 30)]
    for start, end in reversed(pairs):  # the running total grows backwards as well
        assert batch.between(start, end) == business_minutes_between(start, end, CALENDAR)
