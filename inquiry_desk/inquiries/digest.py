"""The daily digest: one email a day to each active staff member who asked for it.

It lists the inquiries received in the last 24 hours (how many, and the newest
``LISTED`` of them), and the reader's own inquiries that are due soon (within
``INBOX_DUE_SOON_MINUTES``) or overdue. It is written in the reader's language and
sent even when every list is empty, so that a missing digest means a problem.

Once a day is kept by the outbox: the cause key ``digest:<user id>:<team-local date>``
is unique, so calling ``send_daily_digests`` again on the same day (in the team's time
zone) sends nothing more. The scheduler calls it at ``DIGEST_HOUR``; the function itself
does not look at the hour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, func, select

from inquiry_desk.accounts.models import User
from inquiry_desk.core.clock import team_timezone
from inquiry_desk.core.extensions import db
from inquiry_desk.core.urls import external_url
from inquiry_desk.inquiries.models import Inquiry, Status
from inquiry_desk.mail import services as mail
from inquiry_desk.mail.models import OutgoingEmail
from inquiry_desk.mail.rendering import render_email

LISTED = 20
BATCH_SIZE = 50
RUNNING = (Status.NEW.value, Status.OPEN.value)


@dataclass(frozen=True)
class DigestItem:
    reference: str
    subject: str
    due_at: datetime | None
    url: str


def send_daily_digests(now: datetime) -> int:
    """Queue today's digest for every active staff member with ``wants_digest``; returns how many were queued.

    A digest already queued today is not queued again (and not counted). Commits every
    ``BATCH_SIZE`` users.
    """
    config = current_app.config
    day = now.astimezone(team_timezone()).date()
    since = now - timedelta(hours=24)
    new_count, new_items = _new_inquiries(since, now)
    horizon = now + timedelta(minutes=config["INBOX_DUE_SOON_MINUTES"])
    queued = 0
    after = 0
    while True:
        users = db.session.scalars(
            select(User).where(User.active.is_(True), User.wants_digest.is_(True), User.id > after)
            .order_by(User.id).limit(BATCH_SIZE)
        ).all()
        if not users:
            break
        for user in users:
            queued += _queue_digest(user, day=day.isoformat(), now=now, horizon=horizon,
                                    new_count=new_count, new_items=new_items)
        after = users[-1].id
        db.session.commit()
    return queued


def _queue_digest(user: User, *, day: str, now: datetime, horizon: datetime, new_count: int,
                  new_items: Sequence[DigestItem]) -> int:
    cause_key = f"digest:{user.id}:{day}"
    if db.session.scalar(select(OutgoingEmail.id).where(OutgoingEmail.cause_key == cause_key)) is not None:
        return 0
    language = user.language if user.language in ("en", "fr") else "en"
    overdue = _own(user, Inquiry.due_at < now)
    due_soon = _own(user, Inquiry.due_at >= now, Inquiry.due_at <= horizon)
    rendered = render_email(
        "daily_digest", language, name=user.name, new_count=new_count, new_items=new_items, overdue=overdue,
        due_soon=due_soon, listed=LISTED, inbox_url=external_url("inbox.index"),
    )
    mail.queue_email(cause_key=cause_key, to=user.email, rendered=rendered, language=language,
                     automatic=mail.AUTO_GENERATED, now=now)
    return 1


def _item(inquiry: Inquiry) -> DigestItem:
    return DigestItem(reference=inquiry.reference or "", subject=inquiry.subject, due_at=inquiry.due_at,
                      url=external_url("inbox.show", inquiry_id=inquiry.id))


def _new_inquiries(since: datetime, now: datetime) -> tuple[int, list[DigestItem]]:
    """How many inquiries arrived in (since, now], and the newest ``LISTED`` of them (ix_inquiries_received)."""
    window = (Inquiry.received_at > since, Inquiry.received_at <= now, Inquiry.merged_into_id.is_(None))
    count = db.session.scalar(select(func.count()).select_from(Inquiry).where(*window)) or 0
    newest = db.session.scalars(
        select(Inquiry).where(*window).order_by(Inquiry.received_at.desc(), Inquiry.id.desc()).limit(LISTED)
    ).all()
    return count, [_item(inquiry) for inquiry in newest]


def _own(user: User, *conditions: ColumnElement[bool]) -> list[DigestItem]:
    """The user's running inquiries matching ``conditions`` on the due time, soonest first (ix_inquiries_due)."""
    inquiries = db.session.scalars(
        select(Inquiry)
        .where(Inquiry.assignee_id == user.id, Inquiry.status.in_(RUNNING), Inquiry.due_at.is_not(None),
               *conditions)
        .order_by(Inquiry.due_at, Inquiry.id).limit(LISTED)
    ).all()
    return [_item(inquiry) for inquiry in inquiries]

