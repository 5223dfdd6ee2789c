"""Housekeeping: delete rows that have stopped meaning anything.

- private links (``portal_links``) expired, or revoked, more than ``PORTAL_LINK_GRACE`` ago
  (the grace lets the portal still say "this link has expired" rather than "unknown link"
  for a while);
- staff sessions ended, or timed out, more than ``SESSION_GRACE`` ago. A session times out
  ``SESSION_IDLE_MINUTES`` after it was last seen or ``SESSION_ABSOLUTE_MINUTES`` after it
  began (see ``services.session_user``), even if no request came to mark it ended;
- "who is looking at this" rows (``inquiry_viewers``) not refreshed for ``VIEWER_GRACE``
  (the collision warning counts them fresh for 5 minutes only).

Each kind is deleted in batches of ``BATCH_SIZE`` ids, with a commit after each.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, delete, or_, select

from inquiry_desk.accounts.models import StaffSession
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.models import InquiryViewer, PortalLink

PORTAL_LINK_GRACE = timedelta(days=30)
SESSION_GRACE = timedelta(days=7)
VIEWER_GRACE = timedelta(days=1)
BATCH_SIZE = 1000


def run_housekeeping(now: datetime) -> dict[str, int]:
    """Delete stale links, sessions and viewer rows; returns how many of each were deleted."""
    link_limit = now - PORTAL_LINK_GRACE
    links = _delete_in_batches(PortalLink, PortalLink.id, or_(
        PortalLink.expires_at < link_limit,
        and_(PortalLink.revoked_at.is_not(None), PortalLink.revoked_at < link_limit),
    ))
    config = current_app.config
    session_limit = now - SESSION_GRACE
    idle = timedelta(minutes=config["SESSION_IDLE_MINUTES"])
    absolute = timedelta(minutes=config["SESSION_ABSOLUTE_MINUTES"])
    sessions = _delete_in_batches(StaffSession, StaffSession.id, or_(
        and_(StaffSession.ended_at.is_not(None), StaffSession.ended_at < session_limit),
        StaffSession.last_seen_at < session_limit - idle,
        StaffSession.created_at < session_limit - absolute,
    ))
    viewers = db.session.execute(delete(InquiryViewer).where(InquiryViewer.seen_at < now - VIEWER_GRACE))
    db.session.commit()
    return {"portal_links": links, "staff_sessions": sessions, "inquiry_viewers": _count(viewers)}


def _delete_in_batches(model: Any, id_column: Any, condition: Any) -> int:
    deleted = 0
    while True:
        ids = db.session.scalars(select(id_column).where(condition).order_by(id_column).limit(BATCH_SIZE)).all()
        if not ids:
            return deleted
        result = db.session.execute(delete(model).where(id_column.in_(ids)), execution_options={
            "synchronize_session": False})
        deleted += _count(result)
        db.session.commit()
        if len(ids) < BATCH_SIZE:
            return deleted


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
