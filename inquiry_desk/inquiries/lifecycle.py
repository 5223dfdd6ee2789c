"""How an inquiry ends: resolved ones close by themselves, and a lead's hold keeps one from the purge.

Auto-close
    A resolved inquiry nobody touched for ``AUTO_CLOSE_DAYS`` days (no reply, no change:
    ``updated_at``) is closed by the ``auto_close`` job, as the system, with an
    ``inquiry.auto_closed`` event. Closed, it reaches the retention purge in its time; before
    this job, resolved inquiries never did, and their personal data stayed for ever.

Hold
    A lead puts an inquiry on hold with a reason (an access-to-information request, a legal
    matter): the page shows it, the retention purge skips the inquiry while it lasts. Placing
    and lifting a hold are changes recorded in the inquiry's history (``hold_placed`` with the
    reason, ``hold_lifted``). A hold does not stop auto-close: a held inquiry may close, it is
    only never purged.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from inquiry_desk.accounts.models import Role, User
from inquiry_desk.core.extensions import db
from inquiry_desk.core.text import TextRequired, parse_line
from inquiry_desk.inquiries import recorder
from inquiry_desk.inquiries.models import Inquiry, Status
from inquiry_desk.inquiries.triage import InvalidValue, require_role

HOLD_REASON_MAX = 500
BATCH_SIZE = 100


def place_hold(inquiry: Inquiry, reason: str, *, actor: User, now: datetime) -> None:
    """Keep the inquiry from the retention purge until a lead lifts the hold. Leads only."""
    require_role(actor, Role.LEAD)
    try:
        reason = parse_line(reason, max_length=HOLD_REASON_MAX)
    except TextRequired as exc:
        raise InvalidValue(_l("Give the reason for the hold.")) from exc
    if inquiry.purged_at is not None:
        raise InvalidValue(_l("This inquiry was already purged under the retention rule."))
    if inquiry.hold_reason == reason:
        return
    with recorder.change(inquiry, actor=actor, now=now) as change:
        before = inquiry.hold_reason
        inquiry.hold_reason = reason
        inquiry.held_at = inquiry.held_at if before else now
        change.event("hold_placed", reason=reason, before=before)


def lift_hold(inquiry: Inquiry, *, actor: User, now: datetime) -> None:
    """End a hold (audited); the inquiry is again subject to the retention rule. Leads only."""
    require_role(actor, Role.LEAD)
    if inquiry.hold_reason is None:
        raise InvalidValue(_l("This inquiry is not on hold."))
    with recorder.change(inquiry, actor=actor, now=now) as change:
        reason = inquiry.hold_reason
        inquiry.hold_reason = None
        inquiry.held_at = None
        change.event("hold_lifted", reason=reason)


def auto_close_cutoff(now: datetime) -> datetime:
    return now - timedelta(days=current_app.config["AUTO_CLOSE_DAYS"])


def close_quiet_resolved(now: datetime) -> int:
    """Close every resolved inquiry quiet since before the cut-off; returns how many.

    A batch job: it commits after each ``BATCH_SIZE`` inquiries, so that it never holds one
    long transaction (an inquiry changed meanwhile is simply left for the next run).
    """
    cutoff = auto_close_cutoff(now)
    closed = 0
    while True:
        batch = db.session.scalars(
            select(Inquiry)
            .where(Inquiry.status == Status.RESOLVED.value, Inquiry.updated_at < cutoff)
            .order_by(Inquiry.updated_at, Inquiry.id)
            .limit(BATCH_SIZE)
        ).all()
        if not batch:
            break
        for inquiry in batch:
            with recorder.change(inquiry, actor=None, now=now) as change:
                inquiry.status = Status.CLOSED.value
                inquiry.resolved_at = inquiry.resolved_at or now
                change.event("auto_closed", quiet_days=current_app.config["AUTO_CLOSE_DAYS"])
        db.session.commit()
        closed += len(batch)
        if len(batch) < BATCH_SIZE:
            break
    return closed
