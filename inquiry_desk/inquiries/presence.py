"""Who else has an inquiry open: each page view is a heartbeat that lasts a few minutes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from inquiry_desk.accounts.models import User
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.models import InquiryViewer

FRESH = timedelta(minutes=5)


def mark_viewing(inquiry_id: int, user: User, *, now: datetime) -> None:
    row = db.session.get(InquiryViewer, (inquiry_id, user.id))
    if row is not None:
        row.seen_at = now
        return
    try:
        with db.session.begin_nested():
            db.session.add(InquiryViewer(inquiry_id=inquiry_id, user_id=user.id, seen_at=now))
    except IntegrityError:
        pass  # the same user's other tab got there first: one heartbeat is enough


def others_viewing(inquiry_id: int, user: User, *, now: datetime) -> Sequence[User]:
    return db.session.scalars(
        select(User).join(InquiryViewer, InquiryViewer.user_id == User.id)
        .where(InquiryViewer.inquiry_id == inquiry_id, InquiryViewer.user_id != user.id,
               InquiryViewer.seen_at >= now - FRESH)
        .order_by(User.name)
    ).all()
