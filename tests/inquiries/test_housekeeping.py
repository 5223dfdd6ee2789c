"""Housekeeping of inquiries: old private links and stale "looking at this" rows are deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select

from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.housekeeping import delete_stale_links_and_viewers
from inquiry_desk.inquiries.models import InquiryViewer, PortalLink

from ..helpers import make_inquiry, make_user

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _link(inquiry_id: int, name: str, *, expires: datetime, revoked: datetime | None = None) -> None:
    db.session.add(PortalLink(inquiry_id=inquiry_id, token_hash=name.ljust(64, "0"), created_at=NOW - 100 * DAY,
                              expires_at=expires, revoked_at=revoked))


def test_deletes_what_is_stale_and_keeps_the_rest(app: Flask) -> None:
    inquiry = make_inquiry(now=NOW - 200 * DAY)  # its own link expired 110 days ago
    _link(inquiry.id, "expired-long-ago", expires=NOW - 31 * DAY)
    _link(inquiry.id, "expired-lately", expires=NOW - 29 * DAY)
    _link(inquiry.id, "revoked-long-ago", expires=NOW + 60 * DAY, revoked=NOW - 31 * DAY)
    _link(inquiry.id, "revoked-lately", expires=NOW + 60 * DAY, revoked=NOW - 2 * DAY)
    _link(inquiry.id, "live", expires=NOW + 60 * DAY)
    looked_long_ago, looking = make_user(), make_user()
    db.session.add(InquiryViewer(inquiry_id=inquiry.id, user_id=looked_long_ago.id, seen_at=NOW - 2 * DAY))
    db.session.add(InquiryViewer(inquiry_id=inquiry.id, user_id=looking.id, seen_at=NOW - timedelta(minutes=2)))
    db.session.commit()

    assert delete_stale_links_and_viewers(NOW) == {"portal_links": 3, "inquiry_viewers": 1}

    remaining_links = {row.token_hash.rstrip("0") for row in db.session.scalars(select(PortalLink))}
    assert remaining_links == {"expired-lately", "revoked-lately", "live"}
    assert [row.user_id for row in db.session.scalars(select(InquiryViewer))] == [looking.id]
    assert delete_stale_links_and_viewers(NOW) == {"portal_links": 0, "inquiry_viewers": 0}


def test_deletes_in_batches(app: Flask) -> None:
    inquiry = make_inquiry(now=NOW - 10 * DAY)
    for number in range(5):
        _link(inquiry.id, f"old-{number}", expires=NOW - 40 * DAY)
    db.session.commit()
    assert delete_stale_links_and_viewers(NOW, batch_size=2)["portal_links"] == 5
    assert len(db.session.scalars(select(PortalLink)).all()) == 1  # the inquiry's own, still live


def test_deletes_single_use_marks_of_old_forms(app: Flask) -> None:
    from inquiry_desk.inquiries.housekeeping import delete_old_form_submissions
    from inquiry_desk.inquiries.models import FormSubmission

    inquiry = make_inquiry(now=NOW - 20 * DAY)
    db.session.add_all([FormSubmission(nonce="old" * 6, inquiry_id=inquiry.id, created_at=NOW - 8 * DAY),
                        FormSubmission(nonce="new" * 6, inquiry_id=inquiry.id, created_at=NOW - 2 * DAY)])
    db.session.commit()
    assert delete_old_form_submissions(NOW) == 1
    assert [row.nonce for row in db.session.scalars(select(FormSubmission))] == ["new" * 6]
