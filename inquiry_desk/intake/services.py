"""Intake: a stakeholder's inquiry comes in, is confirmed, and is followed by private link."""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import cast

from flask import current_app
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import postgresql

from inquiry_desk.core.database import insert_unless_exists
from inquiry_desk.core.domain import DomainError
from inquiry_desk.core.extensions import db
from inquiry_desk.core.i18n import LANGUAGES
from inquiry_desk.core.text import parse_email_address, parse_line, parse_text
from inquiry_desk.core.urls import external_url
from inquiry_desk.directory import services as directory
from inquiry_desk.inquiries import attachments
from inquiry_desk.inquiries import services as inquiries
from inquiry_desk.inquiries.access import RESTRICTED_SUBJECT, is_restricted
from inquiry_desk.inquiries.correspondence import confirmation_cause_key
from inquiry_desk.inquiries.models import Channel, FormSubmission, Inquiry, Message, Topic
from inquiry_desk.mail import services as mail
from inquiry_desk.mail.rendering import render_email

log = logging.getLogger(__name__)


NAME_MAX = 200
SUBJECT_MAX = 200
MESSAGE_MAX = 20_000
ORGANISATION_MAX = 300
PHONE_MAX = 40


@dataclass(frozen=True)
class Submission:
    """What a stakeholder sent (through the form, or later by email or the API)."""

    name: str
    email: str
    subject: str
    message: str
    language: str
    topic: Topic | None
    organisation: str | None = None
    organisation_kind: str | None = None
    phone: str | None = None
    files: tuple[attachments.Upload, ...] = ()

    def checked(self) -> Submission:
        """The same submission cleaned by the plain parse functions every way in shares (core/text.py).

        Raises a core.text error (an InvalidInput) for what cannot be accepted.
        """
        return replace(
            self,
            name=parse_line(self.name, max_length=NAME_MAX),
            email=parse_email_address(self.email),
            subject=parse_line(self.subject, max_length=SUBJECT_MAX),
            message=parse_text(self.message, max_length=MESSAGE_MAX),
            language=self.language if self.language in LANGUAGES else "en",
            organisation=parse_line(self.organisation, max_length=ORGANISATION_MAX, required=False) or None,
            phone=parse_line(self.phone, max_length=PHONE_MAX, required=False) or None,
        )


def submit_inquiry(submission: Submission, *, now: datetime, channel: Channel = Channel.WEB,
                   reserved_id: int | None = None) -> Inquiry:
    """Record the inquiry, note a trusted partner's domain, and queue the confirmation email.

    A partner's domain alone proves nothing (anyone can type an address): the inquiry is a
    trusted partner's once the stakeholder opens the private link the confirmation carries
    (``inquiries.confirm_address``, docs/decisions.md).

    Everything, including the emails, is written in the caller's transaction:
    the emails leave only once it is committed (transactional outbox). ``reserved_id``: the
    inquiry's id, already taken from its sequence (``inquiries.create_inquiry``).
    """
    submission = submission.checked()
    trusted = directory.trusted_organisation_for(submission.email)
    contact = directory.record_contact(
        email=submission.email, name=submission.name, language=submission.language, now=now,
        phone=submission.phone, organisation_name=submission.organisation,
    )
    inquiry = inquiries.create_inquiry(
        contact=contact, subject=submission.subject, body=submission.message, language=submission.language,
        channel=channel, now=now, topic=submission.topic, organisation_name=submission.organisation,
        organisation_kind=submission.organisation_kind, trusted_organisation=trusted,
        privacy_notice_version=current_app.config["PRIVACY_NOTICE_VERSION"], reserved_id=reserved_id,
    )
    attachments.attach(inquiry.messages[0], submission.files, now=now)
    _, token = inquiries.create_portal_link(inquiry, now=now)
    queue_confirmation(inquiry, submission, token, now)
    _queue_team_notice(inquiry, now)
    log.info("inquiry %s received (channel %s, partner domain %s)", inquiry.reference, channel, trusted is not None)
    return inquiry


def submit_inquiry_once(submission: Submission, form_nonce: str, *, now: datetime) -> tuple[Inquiry, bool]:
    """``submit_inquiry`` for one filled public form: the second post of the same form makes nothing.

    The form's nonce is claimed first (a unique row, ``INSERT … ON CONFLICT DO NOTHING``): of
    two posts at the same moment, the second waits for the first's commit and then finds the
    row. Returns the inquiry and whether it was made now (False: the one the form made before).
    Raises DuplicateSubmission when the earlier post's inquiry is gone.
    """
    reserved_id = None
    if db.session.get_bind().dialect.name == "postgresql":
        # The claim's RETURNING also takes the new inquiry's id from its sequence: one statement less
        # (a post that finds the form claimed returns no row, and so takes no id).
        row = db.session.execute(_CLAIM_AND_RESERVE_ID, {"nonce": form_nonce, "created_at": now}).one_or_none()
        claimed, reserved_id = row if row is not None else (None, None)
    else:
        claimed = insert_unless_exists(FormSubmission, {"nonce": form_nonce, "created_at": now}, ["nonce"])
    if claimed is None:
        earlier = db.session.scalar(select(FormSubmission).where(FormSubmission.nonce == form_nonce))
        if earlier is None or earlier.inquiry is None:
            raise DuplicateSubmission()
        log.info("inquiry form sent again: %s shown again", earlier.inquiry.reference)
        return earlier.inquiry, False
    inquiry = submit_inquiry(submission, now=now, reserved_id=reserved_id)
    db.session.execute(_COMPLETE_CLAIM, {"claim_id": claimed, "made_inquiry_id": inquiry.id})
    return inquiry, True


_claims = cast(Table, FormSubmission.__table__)
# Built once: a statement built per call costs more CPU than sending it (its cache key).
_CLAIM_AND_RESERVE_ID = (postgresql.insert(_claims).on_conflict_do_nothing(index_elements=["nonce"])
                         .returning(_claims.c.id, inquiries.next_inquiry_id()))
_COMPLETE_CLAIM = (update(_claims).where(_claims.c.id == bindparam("claim_id"))
                   .values(inquiry_id=bindparam("made_inquiry_id")))


class DuplicateSubmission(DomainError):
    code = "duplicate_submission"


def queue_confirmation(inquiry: Inquiry, submission: Submission, token: str, now: datetime) -> None:
    language = inquiry.language
    rendered = render_email(
        "inquiry_confirmation", language,
        name=submission.name, reference=inquiry.reference, subject=submission.subject,
        message=submission.message, portal_url=external_url("intake.portal", lang_code=language, token=token),
        link_days=current_app.config["PORTAL_LINK_DAYS"],
        topic=inquiry.topic.name(language) if inquiry.topic else None,
        include_message=current_app.config["CONFIRMATION_INCLUDES_MESSAGE"],
    )
    mail.queue_email(
        cause_key=confirmation_cause_key(inquiry.id), to=inquiry.contact.email if inquiry.contact else submission.email,
        rendered=rendered,
        language=language, automatic=True, now=now,
    )


def _queue_team_notice(inquiry: Inquiry, now: datetime) -> None:
    team_address = current_app.config.get("MAIL_TEAM_ADDRESS")
    if not team_address:
        return
    language = current_app.config["MAIL_TEAM_LANGUAGE"]
    restricted = is_restricted(inquiry)  # the team address is no reader: need-to-know
    rendered = render_email(
        "new_inquiry_notice", language, reference=inquiry.reference,
        subject=RESTRICTED_SUBJECT.get(language, RESTRICTED_SUBJECT["en"]) if restricted else inquiry.subject,
        trusted=inquiry.trusted_partner,
        organisation=inquiry.organisation.name if inquiry.organisation and not restricted else None,
        staff_url=external_url("inbox.index"),
    )
    mail.queue_email(cause_key=f"inquiry:{inquiry.id}:team-notice", to=team_address, rendered=rendered,
                     language=language, automatic=mail.AUTO_GENERATED, now=now)


def open_portal(token: str, *, now: datetime) -> Inquiry:
    """The inquiry a private link opens (raises PortalLinkInvalid or PortalLinkExpired).

    Opening it proves the stakeholder holds the address the link was sent to: a partner
    domain's inquiry becomes a trusted partner's (``inquiries.confirm_address``).
    """
    inquiry = inquiries.open_portal_link(token, now=now)
    inquiries.confirm_address(inquiry, now=now)
    return inquiry


def reply_from_portal(inquiry: Inquiry, body: str, *, now: datetime,
                      files: tuple[attachments.Upload, ...] = ()) -> Message:
    """The stakeholder answers through their private link, with files if they like
    (``attachments.AttachmentsRefused`` when one is refused: nothing is kept).

    Their reply reopens the inquiry, or, when it was closed long ago, opens a new one
    (``message.inquiry``), confirmed by email with a private link of its own.
    """
    message = inquiries.add_stakeholder_message(inquiry, parse_text(body, max_length=MESSAGE_MAX),
                                                channel=Channel.WEB, now=now)
    attachments.attach(message, files, now=now)
    if message.inquiry is not inquiry:
        _confirm_follow_up(message.inquiry, message, now)
    return message


def _confirm_follow_up(inquiry: Inquiry, message: Message, now: datetime) -> None:
    _, token = inquiries.create_portal_link(inquiry, now=now)
    contact = inquiry.contact
    if contact is None:  # a portal reply needs a portal, and so a stakeholder: never here
        return
    submission = Submission(name=contact.name, email=contact.email, subject=inquiry.subject, message=message.body,
                            language=inquiry.language, topic=inquiry.topic)
    queue_confirmation(inquiry, submission, token, now)


def send_new_link(reference: str, email: str, *, now: datetime) -> None:
    """Email a fresh private link if reference and address match; says nothing either way.

    Both answers take the same work (issue 11: a mismatch answered in half the time, which told
    a prober that a reference exists): the inquiry is looked up either way, and a link is made
    and its email rendered and queued for a real one or a stand-in, inside a savepoint that is
    rolled back unless reference and address match.
    """
    inquiry = inquiries.find_by_reference(reference)
    typed = email.strip().lower()
    matches = (inquiry is not None and inquiry.contact is not None
               and hmac.compare_digest(inquiry.contact.email.encode(), typed.encode()))
    if not matches:
        log.info("new portal link refused: reference and address do not match")
    target = inquiry if inquiry is not None else db.session.scalar(select(Inquiry).order_by(Inquiry.id.desc()).limit(1))
    if target is None or target.contact is None:  # no inquiry at all: there is nothing a timing could reveal
        return
    savepoint = db.session.begin_nested()
    link, token = inquiries.create_portal_link(target, now=now)
    language = target.language
    rendered = render_email(
        "portal_new_link", language, name=target.contact.name, reference=target.reference,
        portal_url=external_url("intake.portal", lang_code=language, token=token),
        link_days=current_app.config["PORTAL_LINK_DAYS"],
        new_link_url=external_url("intake.new_link", lang_code=language),
    )
    outgoing = mail.queue_email(cause_key=f"inquiry:{target.id}:portal-link:{link.id}", to=target.contact.email,
                                rendered=rendered, language=language, automatic=True, now=now)
    if matches:
        savepoint.commit()
    else:
        savepoint.rollback()
        mail.forget_queued(outgoing.id)

