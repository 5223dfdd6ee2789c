"""The calendar and targets in force: the team's working week, holidays and closures, and the
target minutes per priority and topic. Read once per process and calendar version: every change to
the calendar, closures or targets bumps the version (``bump_calendar_version``), which every request
reads (one column of one row), so another process's change is seen at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import cast

import holidays
from flask import current_app, g
from sqlalchemy import Table, or_, select

from inquiry_desk.core.clock import team_timezone
from inquiry_desk.core.domain import DomainError
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.models import Priority
from inquiry_desk.inquiries.targets.business_hours import WorkingCalendar, closed_days
from inquiry_desk.inquiries.targets.models import Closure, ServiceTarget, TeamCalendar

# Used only when the service_targets table lacks a default (migration 0003 seeds these).
FALLBACK_MINUTES = {"urgent": (4 * 60, 16 * 60), "high": (8 * 60, 40 * 60), "normal": (16 * 60, 80 * 60),
                    "low": (40 * 60, 160 * 60)}
_SNAPSHOT_KEY = "_service_targets_snapshot"
_CHANGED_KEY = "_service_targets_changed"  # this app context changed them: its snapshot is its own
_SHARED_KEY = "service_targets_snapshot"  # in app.extensions: the last committed version's, for every request


class TargetsError(DomainError):
    """A settings change that cannot be made."""


class TargetExists(TargetsError):
    """This topic already has a target for this priority."""


class ClosureExists(TargetsError):
    """This day is already a closure."""


class NotFound(TargetsError):
    """No such target or closure (or it is a default target, which cannot be removed)."""


class InvalidCalendar(TargetsError):
    """The working week or hours make no sense (no day, closing before opening, unknown province)."""


@dataclass(frozen=True)
class Snapshot:
    version: int
    calendar: WorkingCalendar
    minutes: dict[tuple[str, int | None], tuple[int, int]]

    def target(self, priority: str, topic_id: int | None) -> tuple[int, int]:
        """(first response, resolution) minutes: the topic's own target, else the default."""
        found = self.minutes.get((priority, topic_id)) or self.minutes.get((priority, None))
        return found or FALLBACK_MINUTES.get(priority, FALLBACK_MINUTES[Priority.NORMAL.value])


def team_calendar(*, create: bool = False) -> TeamCalendar:
    """The team calendar row; an unsaved one with the defaults if missing (added when ``create``)."""
    row = db.session.get(TeamCalendar, 1)
    if row is None:
        row = TeamCalendar(id=1, working_days="1,2,3,4,5", opens_minute=510, closes_minute=990,
                           subdivision="ON", version=1)
        if create:
            db.session.add(row)
            db.session.flush()
    return row


def _build_calendar(row: TeamCalendar) -> WorkingCalendar:
    closures = db.session.scalars(select(Closure.day)).all()
    return WorkingCalendar(
        timezone=team_timezone(),
        working_days=frozenset(parse_working_days(row.working_days)),
        opens=_minute_to_time(row.opens_minute),
        closes=_minute_to_time(row.closes_minute),
        closed_days=closed_days(row.subdivision, closures),
    )


def snapshot() -> Snapshot:
    """The calendar and targets, read once per app context and calendar version.

    Reading them flushes nothing: a change to the calendar, closures or targets is flushed where
    it is made (``bump_calendar_version`` flushes, and a new version is what makes a fresh read),
    and a new inquiry waiting for its due times is not inserted without them
    (``inquiries.services.create_inquiry``).
    """
    with db.session.no_autoflush:
        return _snapshot()


_calendar = cast(Table, TeamCalendar.__table__)
# The version alone, by a statement built once: the whole row (an ORM load) only when it changed.
_VERSION = select(_calendar.c.version).where(_calendar.c.id == 1)


def _snapshot() -> Snapshot:
    version: int | None = db.session.execute(_VERSION).scalar()
    if version is None:  # no row yet: the defaults' (team_calendar)
        version = team_calendar().version
    cached: Snapshot | None = g.get(_SNAPSHOT_KEY)
    if cached is not None and cached.version == version:
        return cached
    changed_here = bool(g.get(_CHANGED_KEY))
    shared: Snapshot | None = current_app.extensions.get(_SHARED_KEY)
    if shared is not None and shared.version == version and not changed_here:
        setattr(g, _SNAPSHOT_KEY, shared)
        return shared
    row = team_calendar()
    minutes = {
        (target.priority, target.topic_id): (target.first_response_minutes, target.resolution_minutes)
        for target in db.session.scalars(select(ServiceTarget))
    }
    fresh = Snapshot(row.version, _build_calendar(row), minutes)
    setattr(g, _SNAPSHOT_KEY, fresh)
    if not changed_here:  # (a change not yet committed, perhaps rolled back, stays in its own context)
        current_app.extensions[_SHARED_KEY] = fresh
    return fresh


def working_calendar() -> WorkingCalendar:
    """The team's calendar (working week, hours, holidays, closures) in force."""
    return snapshot().calendar


def calendar_version() -> int:
    return team_calendar().version


def bump_calendar_version() -> int:
    """Mark every stored due time as out of date (after a change to the calendar, closures or targets)."""
    row = team_calendar(create=True)
    row.version = TeamCalendar.version + 1  # in SQL, so that two changes at once both count
    db.session.flush()
    g.pop(_SNAPSHOT_KEY, None)
    setattr(g, _CHANGED_KEY, True)
    return row.version


def target_for(priority: str, topic_id: int | None) -> ServiceTarget:
    """The topic's own target for this priority if it has one, else the default for the priority."""
    rows = db.session.scalars(
        select(ServiceTarget).where(
            ServiceTarget.priority == priority,
            or_(ServiceTarget.topic_id.is_(None), ServiceTarget.topic_id == topic_id),
        )
    ).all()
    if rows:
        return min(rows, key=lambda row: row.topic_id is None)
    first, resolution = FALLBACK_MINUTES.get(priority, FALLBACK_MINUTES[Priority.NORMAL.value])
    return ServiceTarget(priority=priority, topic_id=None, first_response_minutes=first,
                         resolution_minutes=resolution)


def parse_working_days(value: str) -> list[int]:
    return sorted({int(part) for part in value.split(",") if part.strip().isdigit()} & set(range(1, 8)))


def _minute_to_time(minute: int) -> time:
    return time(minute // 60, minute % 60)


def holidays_in_year(year: int, lang: str) -> list[tuple[date, str]]:
    """The statutory holidays the calendar counts as closed in one year, named in ``lang``."""
    subdivision = team_calendar().subdivision
    names = holidays.country_holidays("CA", subdiv=subdivision, years=year, language="fr" if lang == "fr" else "en_CA")
    return sorted(names.items())

