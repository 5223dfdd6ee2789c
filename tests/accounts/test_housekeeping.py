"""Housekeeping of accounts: staff sessions ended or timed out long ago are deleted, in batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select

from inquiry_desk.accounts.housekeeping import delete_stale_sessions
from inquiry_desk.accounts.models import StaffSession
from inquiry_desk.core.extensions import db

from ..helpers import make_user

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _staff_session(user_id: int, name: str, *, created: datetime, seen: datetime,
                   ended: datetime | None = None) -> None:
    db.session.add(StaffSession(token_hash=name.ljust(64, "0"), user_id=user_id, created_at=created,
                                last_seen_at=seen, ended_at=ended))


def test_deletes_sessions_ended_or_timed_out_long_ago(app: Flask) -> None:
    user = make_user()
    _staff_session(user.id, "ended-long-ago", created=NOW - 10 * DAY, seen=NOW - 10 * DAY, ended=NOW - 8 * DAY)
    _staff_session(user.id, "ended-lately", created=NOW - 6 * DAY, seen=NOW - 6 * DAY, ended=NOW - 6 * DAY)
    _staff_session(user.id, "idle-long-ago", created=NOW - 9 * DAY, seen=NOW - 9 * DAY)  # never marked ended
    _staff_session(user.id, "absolute-long-ago", created=NOW - 9 * DAY, seen=NOW - 7 * DAY - timedelta(hours=1))
    _staff_session(user.id, "idle-lately", created=NOW - 3 * DAY, seen=NOW - 3 * DAY)
    _staff_session(user.id, "live", created=NOW - timedelta(hours=1), seen=NOW - timedelta(minutes=1))
    db.session.commit()

    assert delete_stale_sessions(NOW) == 3
    remaining = {row.token_hash.rstrip("0") for row in db.session.scalars(select(StaffSession))}
    assert remaining == {"ended-lately", "idle-lately", "live"}
    assert delete_stale_sessions(NOW) == 0


def test_deletes_in_batches(app: Flask) -> None:
    user = make_user()
    for number in range(5):
        _staff_session(user.id, f"old-{number}", created=NOW - 20 * DAY, seen=NOW - 20 * DAY, ended=NOW - 19 * DAY)
    db.session.commit()
    assert delete_stale_sessions(NOW, batch_size=2) == 5
    assert db.session.scalars(select(StaffSession)).all() == []
