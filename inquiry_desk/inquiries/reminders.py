"""Target reminders: the assignee (or the team) is told once that a target is about to be missed, once that it was.

Each run sends one email per person (issue 10 defect 8: a first run over the demo data once
sent 104 single emails), listing what is overdue and what is due soon.

"About to miss" means the due time falls within ``INBOX_DUE_SOON_MINUTES`` (the inbox's "due
soon"); "missed" means the due time has passed. The recipient is the assignee, in their
language, or ``MAIL_TEAM_ADDRESS`` in ``MAIL_TEAM_LANGUAGE`` when nobody (or an inactive account) is
assigned; with no one to tell, nothing is sent or recorded, so that a later assignee is told.

What was sent is kept in ``Inquiry.target_notices`` as ``<due time>:<kinds>``, for example
``20261125T1430Z:soon,missed``: the due time (UTC, to the minute) the notices were about, and
which of them went out. A new due time (the first response was given and the resolution target
is next, the inquiry was reopened, the calendar changed) starts afresh, so each target gets its
own notices. When the job first sees an inquiry already overdue, only "missed" is sent.

Once-only does not rest on that column: the outbox cause key is a hash of the recipient and
every ``<id>:<kind>:<due time>`` the email lists, so two runs at once that find the same
notices owed queue one email.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select, tuple_

from inquiry_desk.accounts.models import User
from inquiry_desk.core.extensions import db
from inquiry_desk.core.urls import external_url
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


@dataclass(frozen=True)
class ReminderItem:
    """One inquiry in a reminder email."""

    reference: str
    subject: str
    due_at: datetime
    url: str


# A recipient (address, language) and what they are owed: (inquiry id, kind, due stamp).
Owed = dict[tuple[str, str], list[tuple[int, str, str]]]


def send_target_reminders(now: datetime) -> int:
    """Queue the "due soon" and "missed" notices that are owed, one email per person; returns how many were recorded.

    Walks ``ix_inquiries_due`` (due_at, id) up to ``now`` + the due-soon window, a batch at a
    time, only reading; then queues one email per recipient listing all they are owed and
    marks those inquiries, committing after each recipient.
    """
    owed = _owed(now)
    recorded = 0
    for (address, language), notices in owed.items():
        recorded += _remind(address, language, notices, now)
        db.session.commit()
    return recorded


def _owed(now: datetime) -> Owed:
    horizon = now + timedelta(minutes=current_app.config["INBOX_DUE_SOON_MINUTES"])
    owed: Owed = {}
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
        for inquiry in batch:
            assert inquiry.due_at is not None
            kind = MISSED if inquiry.due_at < now else SOON
            recipient = _recipient(inquiry)
            if recipient is not None and kind not in notices_sent(inquiry):
                owed.setdefault(recipient, []).append((inquiry.id, kind, due_stamp(inquiry.due_at)))
        if len(batch) < BATCH_SIZE:
            return owed
        last = batch[-1]
        assert last.due_at is not None
        after = (last.due_at, last.id)


def _remind(address: str, language: str, notices: list[tuple[int, str, str]], now: datetime) -> int:
    """One email listing the recipient's notices; the cause key names them all, so two runs at once queue one."""
    items: dict[str, list[ReminderItem]] = {MISSED: [], SOON: []}
    for inquiry_id, kind, stamp in notices:
        inquiry = db.session.get(Inquiry, inquiry_id)
        assert inquiry is not None and inquiry.due_at is not None
        items[kind].append(ReminderItem(inquiry.reference or "", inquiry.subject, inquiry.due_at,
                                        external_url("inbox.show", inquiry_id=inquiry.id)))
        inquiry.target_notices = f"{stamp}:{','.join(sorted(notices_sent(inquiry) | {kind}))}"
    rendered = render_email("target_reminders", language, missed=items[MISSED], soon=items[SOON],
                            inbox_url=external_url("inbox.index"))
    names = "|".join([address, *sorted(f"{inquiry_id}:{kind}:{stamp}" for inquiry_id, kind, stamp in notices)])
    cause_key = f"reminders:{hashlib.sha256(names.encode()).hexdigest()[:40]}"
    mail.queue_email(cause_key=cause_key, to=address, rendered=rendered, language=language,
                     automatic=mail.AUTO_GENERATED, now=now)
    return len(notices)


def _recipient(inquiry: Inquiry) -> tuple[str, str] | None:
    """The assignee's address and language, else the team address in MAIL_TEAM_LANGUAGE, else None."""
    if inquiry.assignee_id is not None:
        assignee = db.session.get(User, inquiry.assignee_id)
        if assignee is not None and assignee.active:
            return assignee.email, assignee.language if assignee.language in ("en", "fr") else "en"
    team_address = current_app.config.get("MAIL_TEAM_ADDRESS")
    if team_address:
        return team_address, current_app.config["MAIL_TEAM_LANGUAGE"]
    return None
