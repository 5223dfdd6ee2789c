"""Housekeeping: old private links, old staff sessions and stale "looking at this" rows are deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select

from inquiry_desk.accounts.housekeeping import run_housekeeping
from inquiry_desk.accounts.models import StaffSession
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.models import InquiryViewer, PortalLink

from ..helpers import make_inquiry, make_user

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_deletes_what_is_stale_and_keeps_the_rest(app: Flask) -> None:
    inquiry = make_inquiry(now=NOW - 200 * DAY)  # its own link expired 110 days ago
    user = make_user()

    def link(name: str, *, expires: datetime, revoked: datetime | None = None) -> None:
        db.session.add(PortalLink(inquiry_id=inquiry.id, token_hash=name.ljust(64, "0"), created_at=NOW - 100 * DAY,
                                  expires_at=expires, revoked_at=revoked))

    link("expired-long-ago", expires=NOW - 31 * DAY)
    link("expired-lately", expires=NOW - 29 * DAY)
    link("revoked-long-ago", expires=NOW + 60 * DAY, revoked=NOW - 31 * DAY)
    link("revoked-lately", expires=NOW + 60 * DAY, revoked=NOW - 2 * DAY)
    link("live", expires=NOW + 60 * DAY)

    def staff_session(name: str, *, created: datetime, seen: datetime, ended: datetime | None = None) -> None:
        db.session.add(StaffSession(token_hash=name.ljust(64, "0"), user_id=user.id, created_at=created,
                                    last_seen_at=seen, ended_at=ended))

    staff_session("ended-long-ago", created=NOW - 10 * DAY, seen=NOW - 10 * DAY, ended=NOW - 8 * DAY)
    staff_session("ended-lately", created=NOW - 6 * DAY, seen=NOW - 6 * DAY, ended=NOW - 6 * DAY)
    staff_session("idle-long-ago", created=NOW - 9 * DAY, seen=NOW - 9 * DAY)  # timed out, never marked ended
    staff_session("absolute-long-ago", created=NOW - 9 * DAY, seen=NOW - 7 * DAY - timedelta(hours=1))
    staff_session("idle-lately", created=NOW - 3 * DAY, seen=NOW - 3 * DAY)
    staff_session("live", created=NOW - timedelta(hours=1), seen=NOW - timedelta(minutes=1))

    other = make_user()
    db.session.add(InquiryViewer(inquiry_id=inquiry.id, user_id=user.id, seen_at=NOW - 2 * DAY))
    db.session.add(InquiryViewer(inquiry_id=inquiry.id, user_id=other.id, seen_at=NOW - timedelta(minutes=2)))
    db.session.commit()

    assert run_housekeeping(NOW) == {"portal_links": 3, "staff_sessions": 3, "inquiry_viewers": 1}

    remaining_links = {row.token_hash.rstrip("0") for row in db.session.scalars(select(PortalLink))}
    assert remaining_links == {"expired-lately", "revoked-lately", "live"}
    remaining_sessions = {row.token_hash.rstrip("0") for row in db.session.scalars(select(StaffSession))}
    assert remaining_sessions == {"ended-lately", "idle-lately", "live"}
    assert [row.user_id for row in db.session.scalars(select(InquiryViewer))] == [other.id]

    assert run_housekeeping(NOW) == {"portal_links": 0, "staff_sessions": 0, "inquiry_viewers": 0}


def test_deletes_in_batches(app: Flask, monkeypatch) -> None:
    from inquiry_desk.accounts import housekeeping

    monkeypatch.setattr(housekeeping, "BATCH_SIZE", 2)
    inquiry = make_inquiry(now=NOW - 10 * DAY)
    for number in range(5):
        db.session.add(PortalLink(inquiry_id=inquiry.id, token_hash=f"old-{number}".ljust(64, "0"),
                                  created_at=NOW - 100 * DAY, expires_at=NOW - 40 * DAY))
    db.session.commit()
    assert run_housekeeping(NOW)["portal_links"] == 5
    assert len(db.session.scalars(select(PortalLink)).all()) == 1  # the inquiry's own, still live
