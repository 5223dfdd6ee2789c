"""Service-level targets: each inquiry's due times, in business hours, and the settings behind them.

Due times
    ``first_response_due_at`` and ``resolution_due_at`` are counted from
    ``received_at`` in business minutes (business_hours.py) with the target for
    the inquiry's priority and topic. ``due_at`` is the next of them still to
    meet, and empty while the clock is stopped.

The clock stops while the inquiry is ``waiting`` on the stakeholder, and while it
is ``resolved`` or ``closed``: ``paused_at`` holds the moment it stopped. When the
inquiry goes back to ``new`` or ``open``, the business minutes of the stop are
added to ``resolution_due_at`` (and to ``first_response_due_at`` while the first
response is still owed), so a reopened inquiry is not overdue for the time it
was out of the team's hands.

Pause credit
    The business minutes of finished stops are not stored apart: they are read
    back from the stored ``resolution_due_at`` (its distance from
    ``received_at`` minus the target that produced it). That is exact while the
    calendar and targets are those the due times were computed with
    (``targets_version`` is current), including after a priority or topic change
    in the same session (the values before the change are remembered, see
    ``_remember_inputs``). After a calendar or target change the credit cannot be
    told apart from the change, so ``recompute_stale`` counts the due times from
    ``received_at`` with no credit: an inquiry that had waited becomes due
    earlier, never later. A column holding the credit would make this exact.

Both ``apply_targets`` and ``on_status_change`` work from the inquiry's current
state only, so calling either again, or both, changes nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import holidays
from babel.dates import format_timedelta
from flask import current_app, g
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import event, inspect, or_, select

from inquiry_desk.audit import services as audit
from inquiry_desk.core.clock import team_timezone
from inquiry_desk.core.domain import DomainError
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.models import OPEN_STATUSES, Inquiry, Priority, Status
from inquiry_desk.inquiries.targets.business_hours import (
    CANADIAN_SUBDIVISIONS,
    WorkingCalendar,
    add_business_minutes,
    business_minutes_between,
    closed_days,
)
from inquiry_desk.inquiries.targets.models import Closure, ServiceTarget, TeamCalendar

# Used only when the service_targets table lacks a default (migration 0003 seeds these).
FALLBACK_MINUTES = {"urgent": (4 * 60, 16 * 60), "high": (8 * 60, 40 * 60), "normal": (16 * 60, 80 * 60),
                    "low": (40 * 60, 160 * 60)}
CLOCK_STOPPED = (Status.WAITING.value, Status.RESOLVED.value, Status.CLOSED.value)
_SNAPSHOT_KEY = "_service_targets_snapshot"
_INPUTS_KEY = "service_targets_inputs_before_change"


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
class _Snapshot:
    version: int
    calendar: WorkingCalendar
    minutes: dict[tuple[str, int | None], tuple[int, int]]

    def target(self, priority: str, topic_id: int | None) -> tuple[int, int]:
        """(first response, resolution) minutes: the topic's own target, else the default."""
        found = self.minutes.get((priority, topic_id)) or self.minutes.get((priority, None))
        return found or FALLBACK_MINUTES.get(priority, FALLBACK_MINUTES[Priority.NORMAL.value])


# -- the calendar and targets in force


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


def _snapshot() -> _Snapshot:
    """The calendar and targets, read once per app context and calendar version."""
    row = team_calendar()
    cached: _Snapshot | None = g.get(_SNAPSHOT_KEY)
    if cached is not None and cached.version == row.version:
        return cached
    minutes = {
        (target.priority, target.topic_id): (target.first_response_minutes, target.resolution_minutes)
        for target in db.session.scalars(select(ServiceTarget))
    }
    snapshot = _Snapshot(row.version, _build_calendar(row), minutes)
    setattr(g, _SNAPSHOT_KEY, snapshot)
    return snapshot


def working_calendar() -> WorkingCalendar:
    """The team's calendar (working week, hours, holidays, closures) in force."""
    return _snapshot().calendar


def calendar_version() -> int:
    return team_calendar().version


def bump_calendar_version() -> int:
    """Mark every stored due time as out of date (after a change to the calendar, closures or targets)."""
    row = team_calendar(create=True)
    row.version = TeamCalendar.version + 1  # in SQL, so that two changes at once both count
    db.session.flush()
    g.pop(_SNAPSHOT_KEY, None)
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


# -- due times of one inquiry


@event.listens_for(Inquiry.priority, "set")
@event.listens_for(Inquiry.topic_id, "set")
@event.listens_for(Inquiry.topic, "set")
def _remember_inputs(target: Inquiry, value: Any, oldvalue: Any, initiator: Any) -> None:
    """Keep the priority and topic the stored due times were computed with, until apply_targets runs."""
    state = inspect(target)
    if state.key is None or _INPUTS_KEY in state.info:
        return
    if "priority" in state.dict and "topic_id" in state.dict:
        state.info[_INPUTS_KEY] = (state.dict["priority"], state.dict["topic_id"])
    else:  # not loaded: unknown, so no credit can be read back
        state.info[_INPUTS_KEY] = None


def _pause_credit(inquiry: Inquiry, snapshot: _Snapshot, now: datetime) -> int:
    """Business minutes of finished stops already added to the stored resolution due time."""
    state = inspect(inquiry)
    inputs = state.info.get(_INPUTS_KEY, (inquiry.priority, inquiry.topic_id))
    if inputs is None or inquiry.resolution_due_at is None or inquiry.targets_version != snapshot.version:
        return 0
    calendar = snapshot.calendar
    _first, resolution = snapshot.target(*inputs)
    credit = business_minutes_between(inquiry.received_at, inquiry.resolution_due_at, calendar) - resolution
    # Stops cannot have lasted longer than the inquiry has existed.
    return max(0, min(credit, business_minutes_between(inquiry.received_at, now, calendar)))


def _sync_clock(inquiry: Inquiry, now: datetime, calendar: WorkingCalendar) -> None:
    """Stop the clock in waiting/resolved/closed; on the way back, push the due times by the stop."""
    if inquiry.status in CLOCK_STOPPED:
        if inquiry.paused_at is None:
            inquiry.paused_at = now
        return
    if inquiry.paused_at is None:
        return
    stopped = business_minutes_between(inquiry.paused_at, now, calendar)
    if inquiry.resolution_due_at is not None:
        inquiry.resolution_due_at = add_business_minutes(inquiry.resolution_due_at, stopped, calendar)
    if inquiry.first_response_at is None and inquiry.first_response_due_at is not None:
        inquiry.first_response_due_at = add_business_minutes(inquiry.first_response_due_at, stopped, calendar)
    inquiry.paused_at = None


def _next_due(inquiry: Inquiry) -> datetime | None:
    if inquiry.status in CLOCK_STOPPED:
        return None
    return inquiry.first_response_due_at if inquiry.first_response_at is None else inquiry.resolution_due_at


def apply_targets(inquiry: Inquiry, *, now: datetime) -> None:
    """(Re)compute the inquiry's due times from received_at, its targets, its stops and its status.

    Call on creation, after a change of priority or topic, and when the first
    response is recorded. Once the first response is recorded, its due time is
    history and kept as it was.
    """
    snapshot = _snapshot()
    calendar = snapshot.calendar
    credit = _pause_credit(inquiry, snapshot, now)
    inspect(inquiry).info.pop(_INPUTS_KEY, None)
    first, resolution = snapshot.target(inquiry.priority, inquiry.topic_id)
    received = inquiry.received_at or now
    if inquiry.first_response_at is None or inquiry.first_response_due_at is None:
        # Every finished stop came before the first response while it is still owed.
        owed = first + (credit if inquiry.first_response_at is None else 0)
        inquiry.first_response_due_at = add_business_minutes(received, owed, calendar)
    inquiry.resolution_due_at = add_business_minutes(received, resolution + credit, calendar)
    inquiry.targets_version = snapshot.version
    _sync_clock(inquiry, now, calendar)
    inquiry.due_at = _next_due(inquiry)


def on_status_change(inquiry: Inquiry, old_status: str, *, now: datetime) -> None:
    """Stop or restart the clock after ``inquiry.status`` changed from ``old_status``.

    Entering waiting, resolved or closed stops it (``paused_at = now``, ``due_at``
    empty); going back to new or open pushes the due times by the business time
    stopped. The result depends on the current state only, so a repeated call is harmless.
    """
    if inquiry.resolution_due_at is None or inquiry.targets_version != _snapshot().version:
        apply_targets(inquiry, now=now)
        return
    _sync_clock(inquiry, now, working_calendar())
    inquiry.due_at = _next_due(inquiry)


def recompute_stale(now: datetime, *, batch: int = 500) -> int:
    """Recompute the due times of open inquiries computed with an older calendar version.

    For the targets job: walks by id in batches and commits after each, so that a
    long run holds no long transaction and a second run carries on where one
    stopped. A waiting inquiry keeps its stop (``paused_at``) and gets new stored
    due times; see the module notes on pause credit. Returns how many were recomputed.
    """
    version = calendar_version()
    done = 0
    last_id = 0
    while True:
        query = (
            select(Inquiry)
            .where(Inquiry.status.in_(OPEN_STATUSES), Inquiry.targets_version < version, Inquiry.id > last_id)
            .order_by(Inquiry.id)
            .limit(batch)
        )
        if db.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        inquiries = db.session.scalars(query).all()
        if not inquiries:
            return done
        for inquiry in inquiries:
            apply_targets(inquiry, now=now)
        done += len(inquiries)
        last_id = inquiries[-1].id
        db.session.commit()


def describe_due(due_at: datetime | None, now: datetime, *, width: str = "short") -> tuple[str, str]:
    """("overdue" | "soon" | "ok", "due in 3 hr" / "overdue by 1 day") in the current language.

    Needs a request (or ``force_locale``), as every translated text does.

    ("none", "") when there is no due time (waiting, resolved or closed). "soon"
    is within INBOX_DUE_SOON_MINUTES (240 by default). ``width`` is Babel's
    "long", "short" or "narrow".
    """
    if due_at is None:
        return "none", ""
    left = due_at - now
    if left < timedelta(0):
        return "overdue", _("overdue by %(time)s", time=_format_span(-left, width))
    if left < timedelta(minutes=1):
        return "soon", _("due now")
    soon = timedelta(minutes=current_app.config.get("INBOX_DUE_SOON_MINUTES", 240))
    return ("soon" if left < soon else "ok"), _("due in %(time)s", time=_format_span(left, width))


def _format_span(span: timedelta, width: str) -> str:
    span = max(span, timedelta(minutes=1))
    return format_timedelta(span, granularity="minute", threshold=0.85, format=width, locale=get_locale())


# -- settings (lead-only pages): every change is audited and bumps the calendar version


def parse_working_days(value: str) -> list[int]:
    return sorted({int(part) for part in value.split(",") if part.strip().isdigit()} & set(range(1, 8)))


def _minute_to_time(minute: int) -> time:
    return time(minute // 60, minute % 60)


def list_targets() -> list[ServiceTarget]:
    """Defaults first (most pressing priority first), then each topic's own targets."""
    rank = {priority.value: priority.rank for priority in Priority}
    rows = db.session.scalars(select(ServiceTarget)).all()
    return sorted(rows, key=lambda row: (row.topic_id is not None, row.topic.position if row.topic else 0,
                                         row.topic_id or 0, -rank.get(row.priority, 0)))


def update_targets(minutes: dict[int, tuple[int, int]], *, actor_id: int | None, now: datetime) -> int:
    """Set (first response, resolution) minutes of targets by id; returns how many changed."""
    changes = []
    for target in db.session.scalars(select(ServiceTarget).where(ServiceTarget.id.in_(list(minutes)))):
        first, resolution = minutes[target.id]
        if (target.first_response_minutes, target.resolution_minutes) == (first, resolution):
            continue
        changes.append({"target_id": target.id, "priority": target.priority, "topic_id": target.topic_id,
                        "first_response_minutes": [target.first_response_minutes, first],
                        "resolution_minutes": [target.resolution_minutes, resolution]})
        target.first_response_minutes, target.resolution_minutes = first, resolution
    if changes:
        audit.record("targets.update", actor_id=actor_id, subject_type="service_targets",
                     details={"changes": changes}, now=now)
        bump_calendar_version()
    return len(changes)


def add_topic_target(*, topic_id: int, priority: str, first_response_minutes: int, resolution_minutes: int,
                     actor_id: int | None, now: datetime) -> ServiceTarget:
    exists = db.session.scalar(select(ServiceTarget.id).where(ServiceTarget.priority == priority,
                                                              ServiceTarget.topic_id == topic_id))
    if exists is not None:
        raise TargetExists()
    target = ServiceTarget(priority=Priority(priority).value, topic_id=topic_id,
                           first_response_minutes=first_response_minutes, resolution_minutes=resolution_minutes)
    db.session.add(target)
    db.session.flush()
    audit.record("targets.add", actor_id=actor_id, subject_type="service_target", subject_id=target.id,
                 details={"priority": priority, "topic_id": topic_id, "first_response_minutes": first_response_minutes,
                          "resolution_minutes": resolution_minutes}, now=now)
    bump_calendar_version()
    return target


def remove_topic_target(target_id: int, *, actor_id: int | None, now: datetime) -> None:
    target = db.session.get(ServiceTarget, target_id)
    if target is None or target.topic_id is None:
        raise NotFound()
    audit.record("targets.remove", actor_id=actor_id, subject_type="service_target", subject_id=target.id,
                 details={"priority": target.priority, "topic_id": target.topic_id}, now=now)
    db.session.delete(target)
    db.session.flush()
    bump_calendar_version()


def update_calendar(*, working_days: list[int], opens_minute: int, closes_minute: int, subdivision: str,
                    actor_id: int | None, now: datetime) -> bool:
    """Change the working week, hours or province; returns whether anything changed."""
    days = sorted(set(working_days))
    if not days or not set(days) <= set(range(1, 8)):
        raise InvalidCalendar("working days")
    if not 0 <= opens_minute < closes_minute < 24 * 60:
        raise InvalidCalendar("hours")
    if subdivision not in CANADIAN_SUBDIVISIONS:
        raise InvalidCalendar("subdivision")
    row = team_calendar(create=True)
    new = {"working_days": ",".join(map(str, days)), "opens_minute": opens_minute,
           "closes_minute": closes_minute, "subdivision": subdivision}
    changes = {key: [getattr(row, key), value] for key, value in new.items() if getattr(row, key) != value}
    if not changes:
        return False
    for key, (_old, value) in changes.items():
        setattr(row, key, value)
    audit.record("calendar.update", actor_id=actor_id, subject_type="team_calendar", subject_id=row.id,
                 details=changes, now=now)
    bump_calendar_version()
    return True


def holidays_in_year(year: int, lang: str) -> list[tuple[date, str]]:
    """The statutory holidays the calendar counts as closed in one year, named in ``lang``."""
    subdivision = team_calendar().subdivision
    names = holidays.country_holidays("CA", subdiv=subdivision, years=year, language="fr" if lang == "fr" else "en_CA")
    return sorted(names.items())


def list_closures() -> list[Closure]:
    return list(db.session.scalars(select(Closure).order_by(Closure.day)))


def add_closure(day: date, reason: str, *, actor_id: int | None, now: datetime) -> Closure:
    if db.session.scalar(select(Closure.id).where(Closure.day == day)) is not None:
        raise ClosureExists()
    closure = Closure(day=day, reason=reason.strip())
    db.session.add(closure)
    db.session.flush()
    audit.record("closure.add", actor_id=actor_id, subject_type="closure", subject_id=closure.id,
                 details={"day": day.isoformat(), "reason": closure.reason}, now=now)
    bump_calendar_version()
    return closure


def remove_closure(closure_id: int, *, actor_id: int | None, now: datetime) -> Closure:
    closure = db.session.get(Closure, closure_id)
    if closure is None:
        raise NotFound()
    audit.record("closure.remove", actor_id=actor_id, subject_type="closure", subject_id=closure.id,
                 details={"day": closure.day.isoformat(), "reason": closure.reason}, now=now)
    db.session.delete(closure)
    db.session.flush()
    bump_calendar_version()
    return closure
