"""Housekeeping of accounts: delete staff sessions that have stopped meaning anything.

A session is deleted ``SESSION_GRACE`` after it ended, or after it timed out: a session
times out ``SESSION_IDLE_MINUTES`` after it was last seen or ``SESSION_ABSOLUTE_MINUTES``
after it began (see ``services.session_user``), even if no request came to mark it ended.

The scheduler's ``housekeeping`` job calls this (and the inquiries' own housekeeping).
Rows go in batches, with a commit after each (``core.batches``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_

from inquiry_desk.accounts.models import StaffSession
from inquiry_desk.core.batches import BATCH_SIZE, delete_in_batches

SESSION_GRACE = timedelta(days=7)


def delete_stale_sessions(now: datetime, *, batch_size: int = BATCH_SIZE) -> int:
    """Delete staff sessions ended or timed out more than ``SESSION_GRACE`` ago; returns how many."""
    config = current_app.config
    limit = now - SESSION_GRACE
    idle = timedelta(minutes=config["SESSION_IDLE_MINUTES"])
    absolute = timedelta(minutes=config["SESSION_ABSOLUTE_MINUTES"])
    return delete_in_batches(StaffSession.id, or_(
        and_(StaffSession.ended_at.is_not(None), StaffSession.ended_at < limit),
        StaffSession.last_seen_at < limit - idle,
        StaffSession.created_at < limit - absolute,
    ), batch_size=batch_size)
