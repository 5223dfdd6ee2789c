"""The lead-only settings behind service targets: target minutes, the working week, closures.

Every change is audited and bumps the calendar version, so that the targets job recomputes
the due times of open inquiries (``due.recompute_stale``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from inquiry_desk.accounts.models import User
from inquiry_desk.audit import services as audit
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.models import Priority
from inquiry_desk.inquiries.targets.business_hours import CANADIAN_SUBDIVISIONS
from inquiry_desk.inquiries.targets.calendar import (
    ClosureExists,
    InvalidCalendar,
    NotFound,
    TargetExists,
    bump_calendar_version,
    team_calendar,
)
from inquiry_desk.inquiries.targets.models import Closure, ServiceTarget


def list_targets() -> list[ServiceTarget]:
    """Defaults first (most pressing priority first), then each topic's own targets."""
    rank = {priority.value: priority.rank for priority in Priority}
    rows = db.session.scalars(select(ServiceTarget)).all()
    return sorted(rows, key=lambda row: (row.topic_id is not None, row.topic.position if row.topic else 0,
                                         row.topic_id or 0, -rank.get(row.priority, 0)))


def update_targets(minutes: dict[int, tuple[int, int]], *, actor: User | None, now: datetime) -> int:
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
        audit.record("targets.update", actor=actor, subject_type="service_targets",
                     details={"changes": changes}, now=now)
        bump_calendar_version()
    return len(changes)


def add_topic_target(*, topic_id: int, priority: str, first_response_minutes: int, resolution_minutes: int,
                     actor: User | None, now: datetime) -> ServiceTarget:
    exists = db.session.scalar(select(ServiceTarget.id).where(ServiceTarget.priority == priority,
                                                              ServiceTarget.topic_id == topic_id))
    if exists is not None:
        raise TargetExists()
    target = ServiceTarget(priority=Priority(priority).value, topic_id=topic_id,
                           first_response_minutes=first_response_minutes, resolution_minutes=resolution_minutes)
    db.session.add(target)
    db.session.flush()
    audit.record("targets.add", actor=actor, subject_type="service_target", subject_id=target.id,
                 details={"priority": priority, "topic_id": topic_id, "first_response_minutes": first_response_minutes,
                          "resolution_minutes": resolution_minutes}, now=now)
    bump_calendar_version()
    return target


def remove_topic_target(target_id: int, *, actor: User | None, now: datetime) -> None:
    target = db.session.get(ServiceTarget, target_id)
    if target is None or target.topic_id is None:
        raise NotFound()
    audit.record("targets.remove", actor=actor, subject_type="service_target", subject_id=target.id,
                 details={"priority": target.priority, "topic_id": target.topic_id}, now=now)
    db.session.delete(target)
    db.session.flush()
    bump_calendar_version()


def update_calendar(*, working_days: list[int], opens_minute: int, closes_minute: int, subdivision: str,
                    actor: User | None, now: datetime) -> bool:
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
    audit.record("calendar.update", actor=actor, subject_type="team_calendar", subject_id=row.id,
                 details=changes, now=now)
    bump_calendar_version()
    return True


def list_closures() -> list[Closure]:
    return list(db.session.scalars(select(Closure).order_by(Closure.day)))


def add_closure(day: date, reason: str, *, actor: User | None, now: datetime) -> Closure:
    if db.session.scalar(select(Closure.id).where(Closure.day == day)) is not None:
        raise ClosureExists()
    closure = Closure(day=day, reason=reason.strip())
    db.session.add(closure)
    db.session.flush()
    audit.record("closure.add", actor=actor, subject_type="closure", subject_id=closure.id,
                 details={"day": day.isoformat(), "reason": closure.reason}, now=now)
    bump_calendar_version()
    return closure


def remove_closure(closure_id: int, *, actor: User | None, now: datetime) -> Closure:
    closure = db.session.get(Closure, closure_id)
    if closure is None:
        raise NotFound()
    audit.record("closure.remove", actor=actor, subject_type="closure", subject_id=closure.id,
                 details={"day": closure.day.isoformat(), "reason": closure.reason}, now=now)
    db.session.delete(closure)
    db.session.flush()
    bump_calendar_version()
    return closure
