"""Target reminders: the assignee (or the team) is told once that a target is about to be missed, once that it was.

"About to miss" means the due time falls within ``INBOX_DUE_SOON_MINUTES`` (the inbox's "due
soon"); "missed" means the due time has passed. The recipient is the assignee, in their
language, or ``MAIL_TEAM_ADDRESS`` in English when nobody (or an inactive account) is
assigned; with no one to tell, nothing is sent or recorded, so that a later assignee is told.

What was sent is kept in ``Inquiry.target_notices`` as ``<due time>:<kinds>``, for example
``20261125T1430Z:soon,missed``: the due time (UTC, to the minute) the notices were about, and
which of them went out. A new due time (the first response was given and the resolution target
is next, the inquiry was reopened, the calendar changed) starts afresh, so each target gets its
own notices. When the job first sees an inquiry already overdue, only "missed" is sent.

Once-only does not rest on that column: the outbox cause key
``inquiry:<id>:target-<kind>:<due time>`` is unique, so two runs at once queue one email.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select, tuple_

from inquiry_desk.accounts.models import User
from inquiry_desk.core.extensions import db
from inquiry_desk.core.urls import external_url
from inquiry_desk.inquiries.access import RESTRICTED_SUBJECT, is_restricted
from inquiry_desk.inquiries.models import Inquiry, Status
from inquiry_desk.mail import services as mail
from inquiry_desk.mail.rendering import render_email

SOON = "soon"
MISSED = "missed"
BATCH_SIZE = 200
# The clock runs only in these; ``due_at`` is empty otherwise, but say so in the query too.
RUNNING = (Status.NEW.value, Status.OPEN.value)


def due_stamp(due_at: datetime) -> str:
    """The due time as kept in ``target_notices`` and cause keys: UTC, to the minute."""
    return due_at.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


def notices_sent(inquiry: Inquiry) -> set[str]:
    """The notices already sent about the inquiry's current due time."""
    if inquiry.due_at is None or not inquiry.target_notices:
        return set()
    stamp, _, kinds = inquiry.target_notices.partition(":")
    if stamp != due_stamp(inquiry.due_at):
        return set()
    return {kind for kind in kinds.split(",") if kind}


def send_target_reminders(now: datetime) -> int:
    """Queue the "due soon" and "missed" notices that are owed; returns how many were recorded.

    Walks ``ix_inquiries_due`` (due_at, id) up to ``now`` + the due-soon window, a batch at a
    time, and commits after each batch.
    """
    horizon = now + timedelta(minutes=current_app.config["INBOX_DUE_SOON_MINUTES"])
    sent = 0
    after: tuple[datetime, int] | None = None
    while True:
        query = (
            select(Inquiry)
            .where(Inquiry.due_at.is_not(None), Inquiry.due_at <= horizon, Inquiry.status.in_(RUNNING))
            .order_by(Inquiry.due_at, Inquiry.id)
            .limit(BATCH_SIZE)
        )
        if after is not None:
            query = query.where(tuple_(Inquiry.due_at, Inquiry.id) > after)
        batch = db.session.scalars(query).all()
        if not batch:
            break
        for inquiry in batch:
            sent += _remind(inquiry, now)
        last = batch[-1]
        assert last.due_at is not None
        after = (last.due_at, last.id)
        db.session.commit()
        if len(batch) < BATCH_SIZE:
            break
    return sent


def _remind(inquiry: Inquiry, now: datetime) -> int:
    assert inquiry.due_at is not None
    kind = MISSED if inquiry.due_at < now else SOON
    already = notices_sent(inquiry)
    if kind in already:
        return 0
    recipient = _recipient(inquiry)
    if recipient is None:
        return 0
    address, language = recipient
    stamp = due_stamp(inquiry.due_at)
    subject = inquiry.subject
    to_team = address == current_app.config.get("MAIL_TEAM_ADDRESS")
    if to_team and is_restricted(inquiry):  # the team address is no reader: need-to-know
        subject = RESTRICTED_SUBJECT[language]
    rendered = render_email(
        f"target_{kind}", language, reference=inquiry.reference, subject=subject, due_at=inquiry.due_at,
        staff_url=external_url("inbox.show", inquiry_id=inquiry.id),
    )
    mail.queue_email(cause_key=f"inquiry:{inquiry.id}:target-{kind}:{stamp}", to=address, rendered=rendered,
                     language=language, automatic=True, now=now)
    inquiry.target_notices = f"{stamp}:{','.join(sorted(already | {kind}))}"
    return 1


def _recipient(inquiry: Inquiry) -> tuple[str, str] | None:
    """The assignee's address and language, else the team address in English, else None."""
    if inquiry.assignee_id is not None:
        assignee = db.session.get(User, inquiry.assignee_id)
        if assignee is not None and assignee.active:
            return assignee.email, assignee.language if assignee.language in ("en", "fr") else "en"
    team_address = current_app.config.get("MAIL_TEAM_ADDRESS")
    if team_address:
        return team_address, "en"
    return None
