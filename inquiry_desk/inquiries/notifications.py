"""Telling staff what needs them: an inquiry assigned to them, a stakeholder's reply.

Each notice is an outbox row under a unique cause key, written in the caller's
transaction (sent after the commit, never twice):

- ``inquiry:<id>:assigned:<user id>:<time>``: to the new assignee, unless they assigned it
  to themselves;
- ``inquiry:<id>:stakeholder-reply:<message id>``: to the assignee, or to the team address
  when nobody holds the inquiry (or its assignee left). A reply also gets a ``ReplyNotice``,
  which marks the inquiry in the inbox until the person told opens it.

Staff who turned notifications off on their account page get no email (the inbox mark
stays). Emails name the inquiry and link to it; they carry no message text, since a
mailbox is not a protected channel.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask import current_app
from sqlalchemy import or_, select, update

from inquiry_desk.accounts.models import User
from inquiry_desk.core.database import rows_affected
from inquiry_desk.core.extensions import db
from inquiry_desk.core.urls import external_url
from inquiry_desk.inquiries.models import Inquiry, Message, ReplyNotice
from inquiry_desk.mail import services as mail
from inquiry_desk.mail.rendering import render_email


def _language(user: User) -> str:
    return user.language if user.language in ("en", "fr") else "en"


def assigned(inquiry: Inquiry, assignee: User | None, *, actor: User | None, now: datetime) -> bool:
    """Email the new assignee; True when an email was queued."""
    if assignee is None or (actor is not None and actor.id == assignee.id):
        return False
    if not assignee.active or not assignee.wants_notifications:
        return False
    language = _language(assignee)
    rendered = render_email(
        "inquiry_assigned", language, reference=inquiry.reference, subject=inquiry.subject,
        assigned_by=actor.name if actor is not None else None,
        staff_url=external_url("inbox.show", inquiry_id=inquiry.id),
    )
    mail.queue_email(cause_key=f"inquiry:{inquiry.id}:assigned:{assignee.id}:{now.isoformat()}", to=assignee.email,
                     rendered=rendered, language=language, automatic=True, now=now)
    return True


def stakeholder_replied(inquiry: Inquiry, message: Message, *, outcome: str, now: datetime) -> None:
    """Mark the reply for the inbox and email the assignee (or the team), once per reply.

    ``outcome`` says what the reply did: ``reopened`` a resolved or closed inquiry, opened a
    ``new_inquiry`` (linked to one closed long ago), or landed in an ``open`` one.
    """
    assignee = db.session.get(User, inquiry.assignee_id) if inquiry.assignee_id is not None else None
    if assignee is not None and not assignee.active:
        assignee = None
    db.session.add(ReplyNotice(inquiry_id=inquiry.id, message_id=message.id,
                               user_id=assignee.id if assignee else None, created_at=now))
    if assignee is not None:
        if not assignee.wants_notifications:
            return
        address, language = assignee.email, _language(assignee)
    else:
        address, language = current_app.config.get("MAIL_TEAM_ADDRESS") or "", "en"
        if not address:
            return
    rendered = render_email(
        "stakeholder_reply_notice", language, reference=inquiry.reference, subject=inquiry.subject,
        outcome=outcome, staff_url=external_url("inbox.show", inquiry_id=inquiry.id),
    )
    mail.queue_email(cause_key=f"inquiry:{inquiry.id}:stakeholder-reply:{message.id}", to=address,
                     rendered=rendered, language=language, automatic=True, now=now)


def mark_replies_seen(inquiry: Inquiry, viewer: User, *, now: datetime) -> int:
    """The person told (anyone, when nobody was) opened the inquiry: its reply notices are seen."""
    result = db.session.execute(
        update(ReplyNotice)
        .where(ReplyNotice.inquiry_id == inquiry.id, ReplyNotice.seen_at.is_(None),
               or_(ReplyNotice.user_id.is_(None), ReplyNotice.user_id == viewer.id))
        .values(seen_at=now)
        .execution_options(synchronize_session=False)
    )
    return rows_affected(result)


def unseen_replies(inquiry_ids: Iterable[int]) -> set[int]:
    """Which of these inquiries have a stakeholder reply nobody told has seen yet (one query)."""
    ids = list(inquiry_ids)
    if not ids:
        return set()
    query = select(ReplyNotice.inquiry_id).where(ReplyNotice.inquiry_id.in_(ids), ReplyNotice.seen_at.is_(None))
    return set(db.session.scalars(query.distinct()))
