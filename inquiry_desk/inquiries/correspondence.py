"""Email from staff to a stakeholder: replies (threaded) and the notice that a duplicate was merged.

Each email is queued in the caller's transaction (the outbox) and leaves after
the commit. Replies carry the inquiry's reference in the subject and thread
with In-Reply-To/References, so that the stakeholder's mail program keeps the
conversation together and an answer by email can be matched back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from inquiry_desk.accounts.models import Role, User
from inquiry_desk.core.extensions import db
from inquiry_desk.core.urls import external_url
from inquiry_desk.inquiries import attachments, recorder, triage
from inquiry_desk.inquiries.models import Inquiry, Message, MessageKind, Status
from inquiry_desk.inquiries.reply_addresses import reply_address
from inquiry_desk.inquiries.rules import stakeholder_of
from inquiry_desk.inquiries.services import create_portal_link, live_portal_links
from inquiry_desk.mail import services as mail
from inquiry_desk.mail.models import OutgoingEmail
from inquiry_desk.mail.rendering import render_email

MAX_REFERENCES = 10


# How many of the signature's last lines may hold the officer's name for it to count as signed.
SIGNATURE_LINES = 4


def confirmation_cause_key(inquiry_id: int) -> str:
    """The outbox key of an inquiry's confirmation: replies thread with it."""
    return f"inquiry:{inquiry_id}:confirmation"


def _confirmation(inquiry: Inquiry) -> OutgoingEmail | None:
    return db.session.scalar(select(OutgoingEmail).where(OutgoingEmail.cause_key == confirmation_cause_key(inquiry.id)))


def reply_subject(inquiry: Inquiry) -> str:
    """"Re: " and the confirmation's subject, so that mail programs keep one thread.

    Without a confirmation (an inquiry by email or logged by staff, or one whose outbox
    rows the retention purge removed): "Re: " and the inquiry's subject with its reference.
    """
    confirmation = _confirmation(inquiry)
    base = confirmation.subject if confirmation is not None else f"{inquiry.subject} [{inquiry.reference}]"
    return base if base[:3].lower() == "re:" else f"Re: {base}"


def _threading_headers(inquiry: Inquiry) -> dict[str, str]:
    """In-Reply-To the last email of the thread; References from the confirmation on."""
    ids = [message.email_message_id for message in inquiry.messages
           if message.email_message_id and message.kind != MessageKind.NOTE.value]
    confirmation = _confirmation(inquiry)
    if confirmation is not None and confirmation.message_id not in ids:
        ids.insert(0, confirmation.message_id)
    if not ids:
        return {}
    references = ids if len(ids) <= MAX_REFERENCES else [ids[0], *ids[-(MAX_REFERENCES - 1):]]
    return {"In-Reply-To": ids[-1], "References": " ".join(references)}


def signed_by(body: str, name: str) -> bool:
    """Whether the reply already ends with the officer's name (a canned response's signature)."""
    tail = [line.strip().casefold() for line in body.strip().splitlines()[-SIGNATURE_LINES:]]
    wanted = " ".join(name.split()).casefold()
    return bool(wanted) and any(wanted in " ".join(line.split()) for line in tail)


def _portal_url_unless_live(inquiry: Inquiry, language: str, now: datetime) -> str | None:
    """A new private link, unless one the stakeholder has still works for at least half a link's lifetime.

    Only a link's hash is kept, so a live link cannot be sent again: the reply then points to
    the earlier emails and to the page that sends a new link. Every reply minting a fresh link
    would keep an inquiry open to whoever holds any of its emails, for ever.
    """
    half_life = timedelta(days=current_app.config["PORTAL_LINK_DAYS"]) / 2
    if live_portal_links(inquiry, now=now, lasting=half_life):
        return None
    _, token = create_portal_link(inquiry, now=now)
    return external_url("intake.portal", lang_code=language, token=token)


def send_reply(inquiry: Inquiry, body: str, *, actor: User, now: datetime, language: str | None = None,
               next_status: Status | str = Status.WAITING, seen_version: int | None = None,
               files: Sequence[attachments.Upload] = ()) -> Message:
    """Reply to the stakeholder by email and record it in the thread.

    ``files`` go with it (kept in the thread, sent as MIME attachments); one refused refuses the
    reply (``attachments.AttachmentsRefused``), so nothing half-sent leaves.

    ``seen_version`` is the inquiry version the officer's page showed: if
    someone changed the inquiry since (another reply, say), VersionConflict
    is raised and nothing is sent, so the officer can look before sending.
    """
    triage.check_version(inquiry, seen_version)
    triage.require_role(actor, Role.OFFICER)
    body = triage.check_body(body)
    stakeholder = stakeholder_of(inquiry)
    language = language if language in ("en", "fr") else inquiry.language
    headers = _threading_headers(inquiry)
    message = Message(kind=MessageKind.REPLY.value, body=body, author_user_id=actor.id, channel="email",
                      created_at=now)
    with recorder.change(inquiry, actor=actor, now=now) as change:
        inquiry.messages.append(message)
        db.session.flush()
        kept = attachments.attach(message, files, now=now)
        rendered = render_email(
            "inquiry_reply", language, body=body, reference=inquiry.reference,
            officer_name=None if signed_by(body, actor.name) else actor.name,
            portal_url=_portal_url_unless_live(inquiry, language, now),
            new_link_url=external_url("intake.new_link", lang_code=language),
            link_days=current_app.config["PORTAL_LINK_DAYS"], subject_line=reply_subject(inquiry),
        )
        outgoing = mail.queue_email(cause_key=f"inquiry:{inquiry.id}:reply:{message.id}",
                                    to=stakeholder.email, rendered=rendered, language=language, now=now,
                                    headers=headers, reply_to=reply_address(inquiry),
                                    attachments=attachments.outbox_references(kept))
        message.email_message_id = outgoing.message_id
        first_response = inquiry.first_response_at is None
        if first_response:
            inquiry.first_response_at = now
        change.event("replied", message_id=message.id, language=language, first_response=first_response)
        if next_status and inquiry.status != Status(next_status).value:
            triage.set_status(inquiry, next_status, actor=actor, now=now)
    return message


def merge_and_notify(duplicate: Inquiry, target: Inquiry, *, actor: User, now: datetime) -> None:
    """Merge a duplicate (see triage.merge) and tell its stakeholder where the conversation went on."""
    triage.merge(duplicate, target, actor=actor, now=now)
    if duplicate.contact is None:  # logged without a stakeholder: nobody to tell
        return
    language = duplicate.language
    rendered = render_email("inquiry_merged", language, name=duplicate.contact.name,
                            duplicate_reference=duplicate.reference, target_reference=target.reference)
    mail.queue_email(cause_key=f"inquiry:{duplicate.id}:merged:{now.isoformat()}", to=duplicate.contact.email,
                     rendered=rendered, language=language, now=now, automatic=mail.AUTO_GENERATED)
