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

from datetime import datetime
from typing import Any

from sqlalchemy import event, inspect, select

from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.models import OPEN_STATUSES, Inquiry, Status
from inquiry_desk.inquiries.targets.business_hours import (
    WorkingCalendar,
    add_business_minutes,
    business_minutes_between,
)
from inquiry_desk.inquiries.targets.calendar import Snapshot, calendar_version, snapshot, working_calendar

CLOCK_STOPPED = (Status.WAITING.value, Status.RESOLVED.value, Status.CLOSED.value)
_INPUTS_KEY = "service_targets_inputs_before_change"


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


def _pause_credit(inquiry: Inquiry, in_force: Snapshot, now: datetime) -> int:
    """Business minutes of finished stops already added to the stored resolution due time."""
    state = inspect(inquiry)
    inputs = state.info.get(_INPUTS_KEY, (inquiry.priority, inquiry.topic_id))
    if inputs is None or inquiry.resolution_due_at is None or inquiry.targets_version != in_force.version:
        return 0
    calendar = in_force.calendar
    _first, resolution = in_force.target(*inputs)
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
    in_force = snapshot()
    calendar = in_force.calendar
    credit = _pause_credit(inquiry, in_force, now)
    inspect(inquiry).info.pop(_INPUTS_KEY, None)
    first, resolution = in_force.target(inquiry.priority, inquiry.topic_id)
    received = inquiry.received_at or now
    if inquiry.first_response_at is None or inquiry.first_response_due_at is None:
        # Every finished stop came before the first response while it is still owed.
        owed = first + (credit if inquiry.first_response_at is None else 0)
        inquiry.first_response_due_at = add_business_minutes(received, owed, calendar)
    inquiry.resolution_due_at = add_business_minutes(received, resolution + credit, calendar)
    inquiry.targets_version = in_force.version
    _sync_clock(inquiry, now, calendar)
    inquiry.due_at = _next_due(inquiry)


def on_status_change(inquiry: Inquiry, old_status: str, *, now: datetime) -> None:
    """Stop or restart the clock after ``inquiry.status`` changed from ``old_status``.

    Entering waiting, resolved or closed stops it (``paused_at = now``, ``due_at``
    empty); going back to new or open pushes the due times by the business time
    stopped. The result depends on the current state only, so a repeated call is harmless.
    """
    if inquiry.resolution_due_at is None or inquiry.targets_version != snapshot().version:
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

