"""Time: stored in UTC, shown and scheduled in the team's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app


def utcnow() -> datetime:
    """The current time in UTC, timezone-aware."""
    return datetime.now(UTC)


def team_timezone() -> ZoneInfo:
    """The team's time zone (``TIMEZONE``, ``America/Toronto`` by default)."""
    return zone_named(current_app.config["TIMEZONE"])


@lru_cache(maxsize=8)
def zone_named(name: str) -> ZoneInfo:
    return ZoneInfo(name)
