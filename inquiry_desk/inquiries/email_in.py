"""Email in: what a message received means for the inquiries (mail.inbound hands each one here).

Threading, in this order: ``In-Reply-To``/``References`` against the Message-IDs the desk
sent (the outbox) or received (the thread), then the ``INQ-YYYY-NNNNNN`` reference in the
subject, then a per-inquiry reply address ``desk+TOKEN@`` (``MAIL_INBOUND_PLUS_ADDRESSING``).
A message joins the inquiry found only when its sender is the inquiry's requester or a
contact of its organisation; from anyone else it opens a new inquiry of their own, linked to
the other (a stranger quoting a reference reads nothing of it: Zammad #5064).

A message that joins follows the portal's rules (``services.add_stakeholder_message``): it
reopens a waiting or resolved inquiry (or one closed within ``REOPEN_WINDOW_DAYS``, else a
new linked inquiry), the recorder restarts the target and writes the history. An
out-of-office reply is kept as a note and reopens nothing. A message that matches nothing
opens a new inquiry (channel ``email``): the sender is matched to a contact, a trusted
partner's verified domain is noted, and the badge is given only when the receiving server's
Authentication-Results (``MAIL_AUTHSERV_ID``) say DMARC passed for the sender's domain (the
proof of address of docs/decisions.md). The acknowledgement carries the reference and a
private link, in the language detected (both when unsure); it is never sent to an automatic
message (RFC 3834), to a suppressed address, or twice in an hour to one sender.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import exists, select, update

from inquiry_desk.core.database import rows_affected
from inquiry_desk.core.extensions import db
from inquiry_desk.core.urls import external_url
from inquiry_desk.directory import services as directory
from inquiry_desk.directory.models import Contact
from inquiry_desk.inquiries import attachments, links, recorder
from inquiry_desk.inquiries import services as inquiries
from inquiry_desk.inquiries.access import RESTRICTED_SUBJECT, is_restricted
from inquiry_desk.inquiries.correspondence import confirmation_cause_key
from inquiry_desk.inquiries.models import Channel, Inquiry, Message, MessageKind
from inquiry_desk.inquiries.reply_addresses import inquiry_by_reply_address, reply_address
from inquiry_desk.inquiries.rules import stakeholder_of
from inquiry_desk.mail import services as mail
from inquiry_desk.mail.inbound import ingest
from inquiry_desk.mail.inbound.classify import Kind
from inquiry_desk.mail.inbound.language import detect
from inquiry_desk.mail.inbound.models import BouncedAddress, InboundEmail, InboundOutcome
from inquiry_desk.mail.inbound.parsing import ParsedEmail, whole_message_text
from inquiry_desk.mail.models import OutgoingEmail
from inquiry_desk.mail.rendering import RenderedEmail, render_email
from inquiry_desk.mail.sending import is_suppressed

_REFERENCE = re.compile(r"\bINQ-(\d{4})-(\d{6,9})\b", re.IGNORECASE)
_INQUIRY_CAUSE = re.compile(r"^inquiry:(\d+):")
ACK_INTERVAL = timedelta(hours=1)
NO_TEXT = "(no text)"
NO_SUBJECT = "(no subject)"


def init() -> None:
    """Plug into mail's ingest (called by create_app)."""
    ingest.register_handler(handle)


# --- threading ---------------------------------------------------------------------------------

def find_thread(parsed: ParsedEmail) -> Inquiry | None:
    """The inquiry the message answers (see the module notes), whoever sent it."""
    ids = [*reversed(parsed.in_reply_to), *reversed(parsed.references)]
    if ids:
        inquiry_id = db.session.scalar(select(Message.inquiry_id).where(Message.email_message_id.in_(ids))
                                       .order_by(Message.id.desc()).limit(1))
        if inquiry_id is None:
            for cause_key in db.session.scalars(select(OutgoingEmail.cause_key)
                                                .where(OutgoingEmail.message_id.in_(ids))):
                match = _INQUIRY_CAUSE.match(cause_key)
                if match:
                    inquiry_id = int(match.group(1))
                    break
        if inquiry_id is not None:
            found = db.session.get(Inquiry, inquiry_id)
            if found is not None:
                return found
    match = _REFERENCE.search(parsed.subject)
    if match:
        found = inquiries.find_by_reference(f"INQ-{match.group(1)}-{match.group(2)}")
        if found is not None:
            return found
    return inquiry_by_reply_address(parsed.recipients)


def may_join(inquiry: Inquiry, sender: str) -> Contact | None:
    """The sender's contact when they may write in this inquiry: its requester, or a contact of its organisation."""
    if inquiry.contact is not None and inquiry.contact.email.strip().lower() == sender:
        return inquiry.contact
    if inquiry.organisation_id is None:
        return None
    contact = db.session.scalar(select(Contact).where(Contact.email == sender))
    if contact is not None and contact.organisation_id == inquiry.organisation_id and contact.active:
        return contact
    return None


# --- the handler ---------------------------------------------------------------------------------

def handle(row: InboundEmail, parsed: ParsedEmail, kind: Kind, now: datetime) -> tuple[str, str | None]:
    sender = parsed.from_address
    if sender is None:
        return InboundOutcome.IGNORED, "no_sender"
    inquiry = find_thread(parsed)
    if inquiry is not None:
        contact = may_join(inquiry, sender)
        if contact is not None:
            return _join(inquiry, contact, row, parsed, kind, now)
        if kind.out_of_office or kind.automatic:
            return InboundOutcome.IGNORED, "automatic_from_stranger"
        new = _new_inquiry(row, parsed, kind, now)
        links.link(new, inquiry, actor=None, now=now)
        return InboundOutcome.NEW_INQUIRY, "sender_not_of_inquiry"
    if kind.out_of_office:
        return InboundOutcome.IGNORED, "out_of_office"
    _new_inquiry(row, parsed, kind, now)
    return InboundOutcome.NEW_INQUIRY, kind.reason


def _body(parsed: ParsedEmail) -> str:
    return parsed.display_text or parsed.text or NO_TEXT


def _join(inquiry: Inquiry, contact: Contact, row: InboundEmail, parsed: ParsedEmail, kind: Kind,
          now: datetime) -> tuple[str, str | None]:
    if kind.out_of_office:
        note = Message(kind=MessageKind.NOTE.value, body=_body(parsed), author_contact_id=contact.id,
                       channel=Channel.EMAIL.value, email_message_id=parsed.message_id, inbound_email_id=row.id,
                       created_at=now)
        with recorder.change(inquiry, actor=None, now=now) as change:
            inquiry.messages.append(note)
            db.session.flush()
            change.event("auto_reply_noted", message_id=note.id)
        _keep_attachments(note, parsed, now)
        return InboundOutcome.NOTE, "out_of_office"
    message = inquiries.add_stakeholder_message(inquiry, _body(parsed), channel=Channel.EMAIL, now=now,
                                                email_message_id=parsed.message_id, author_contact_id=contact.id)
    message.inbound_email_id = row.id
    _keep_attachments(message, parsed, now)
    if message.inquiry is not inquiry:  # closed long ago: a new inquiry, confirmed with a link of its own
        _acknowledge(message.inquiry, row, parsed, kind, now, language=message.inquiry.language)
        return InboundOutcome.NEW_INQUIRY, "reopen_window_passed"
    return InboundOutcome.THREADED, None


# Parts that sign the message rather than carry a file: not kept, and not worth a refusal in the thread.
_SIGNATURES = ("application/pgp-signature", "application/pkcs7-signature", "application/x-pkcs7-signature")


def _keep_attachments(message: Message, parsed: ParsedEmail, now: datetime) -> None:
    """The message's files kept; those refused (type, size, count) listed with their reason."""
    uploads = [attachments.Upload(filename=item.filename, data=item.data, declared_type=item.content_type)
               for item in parsed.attachments if item.content_type not in _SIGNATURES]
    attachments.attach(message, uploads, now=now, keep_refused=True)


def _dmarc_pass(parsed: ParsedEmail, sender: str) -> bool:
    """The receiving server (MAIL_AUTHSERV_ID, the topmost Authentication-Results) says DMARC passed for the sender."""
    authserv = current_app.config.get("MAIL_AUTHSERV_ID", "").strip().lower()
    if not authserv or not parsed.authentication_results:
        return False
    top = parsed.authentication_results[0].lower()
    if top.split(";", 1)[0].strip().split()[0:1] != [authserv]:
        return False
    domain = directory.email_domain(sender)
    return bool(re.search(r"\bdmarc=pass\b[^;]*\bheader\.from=" + re.escape(domain) + r"\b", top))


def _new_inquiry(row: InboundEmail, parsed: ParsedEmail, kind: Kind, now: datetime) -> Inquiry:
    sender = parsed.from_address or ""
    detected = detect(parsed.text)
    existing = db.session.scalar(select(Contact).where(Contact.email == sender))
    language = detected or (existing.language if existing is not None else None) or "en"
    if existing is None:
        name = parsed.from_name or sender.split("@", 1)[0]
        contact = directory.record_contact(email=sender, name=name[:200], language=language, now=now)
    else:
        contact = existing
    trusted = directory.trusted_organisation_for(sender)
    proven = trusted is not None and _dmarc_pass(parsed, sender)
    inquiry = inquiries.create_inquiry(
        contact=contact, subject=parsed.subject or NO_SUBJECT, body=_body(parsed), language=language,
        channel=Channel.EMAIL, now=now, trusted_organisation=trusted, address_confirmed=proven,
        email_message_id=parsed.message_id,
    )
    inquiry.messages[0].inbound_email_id = row.id
    _keep_attachments(inquiry.messages[0], parsed, now)
    if proven and contact.organisation_id is None and trusted is not None:
        contact.organisation_id = trusted.id
    _acknowledge(inquiry, row, parsed, kind, now, language=detected)
    _team_notice(inquiry, now)
    return inquiry


def _acknowledge(inquiry: Inquiry, row: InboundEmail, parsed: ParsedEmail, kind: Kind, now: datetime, *,
                 language: str | None) -> bool:
    """The reference and a private link, unless the message is automatic, the address suppressed,
    or this sender was acknowledged in the last hour (RFC 3834, and no mail loop)."""
    sender = parsed.from_address
    if kind.automatic or sender is None or ingest.is_own_address(sender) or is_suppressed(sender):
        return False
    recent = db.session.scalar(select(exists().where(
        InboundEmail.sender_key == sender, InboundEmail.acknowledged_at > now - ACK_INTERVAL)))
    if recent:
        return False
    stakeholder = stakeholder_of(inquiry)
    _, token = inquiries.create_portal_link(inquiry, now=now)
    languages = [language] if language in ("en", "fr") else ["en", "fr"]
    rendered = [render_email("inquiry_email_ack", lang, name=stakeholder.name, reference=inquiry.reference,
                             portal_url=external_url("intake.portal", lang_code=lang, token=token),
                             link_days=current_app.config["PORTAL_LINK_DAYS"]) for lang in languages]
    together = rendered[0] if len(rendered) == 1 else RenderedEmail(
        subject=" / ".join(part.subject for part in rendered),
        text="\n\n------------------------------------------------------------\n\n".join(
            part.text for part in rendered))
    headers = {"In-Reply-To": parsed.message_id, "References": parsed.message_id} if parsed.message_id else {}
    mail.queue_email(cause_key=confirmation_cause_key(inquiry.id), to=stakeholder.email, rendered=together,
                     language=languages[0], automatic=True, now=now, headers=headers,
                     reply_to=reply_address(inquiry))
    row.acknowledged_at = now
    return True


def _team_notice(inquiry: Inquiry, now: datetime) -> None:
    team_address = current_app.config.get("MAIL_TEAM_ADDRESS")
    if not team_address:
        return
    language = current_app.config["MAIL_TEAM_LANGUAGE"]
    restricted = is_restricted(inquiry)
    rendered = render_email(
        "new_inquiry_notice", language, reference=inquiry.reference,
        subject=RESTRICTED_SUBJECT.get(language, RESTRICTED_SUBJECT["en"]) if restricted else inquiry.subject,
        trusted=inquiry.trusted_partner,
        organisation=inquiry.organisation.name if inquiry.organisation and not restricted else None,
        staff_url=external_url("inbox.index"),
    )
    mail.queue_email(cause_key=f"inquiry:{inquiry.id}:team-notice", to=team_address, rendered=rendered,
                     language=language, automatic=mail.AUTO_GENERATED, now=now)


# --- bounces of directory contacts -------------------------------------------------------------

FOLLOW_UP_TOPIC = "partnership_funding"


def follow_up_bounce(sender: object, *, address: str, message_id: str | None, now: datetime) -> None:
    """A directory contact of an organisation bounced: one inquiry (channel manual) asks the team for a
    new contact, once per address (``mail_bounced_addresses.followed_up_at``, claimed by a conditional UPDATE)."""
    contact = db.session.scalar(select(Contact).where(Contact.email == address, Contact.organisation_id.is_not(None)))
    if contact is None or contact.organisation is None:
        return
    claimed = db.session.execute(
        update(BouncedAddress).where(BouncedAddress.address_key == address, BouncedAddress.followed_up_at.is_(None))
        .values(followed_up_at=now).execution_options(synchronize_session=False))
    if not rows_affected(claimed):
        return
    language = current_app.config["MAIL_TEAM_LANGUAGE"]
    with force_locale(language):
        subject = _("Emails to a contact of %(organisation)s bounce: find a new contact",
                    organisation=contact.organisation.name)
        body = _("Emails to %(name)s (%(organisation)s) are refused by their mail server for good. Find out "
                 "whether they left and who replaces them, then update the directory.",
                 name=contact.name, organisation=contact.organisation.name)
    inquiries.create_inquiry(contact=contact, subject=subject[:300], body=body, language=language,
                             channel=Channel.MANUAL, now=now, topic=inquiries.topic_by_code(FOLLOW_UP_TOPIC))


# --- the whole message -----------------------------------------------------------------------------

def whole_message(inquiry: Inquiry, message_id: int) -> str | None:
    """The whole email a message of this inquiry came in, as text; None when it came another way
    (or its email was purged). The caller has checked that the reader may open the inquiry."""
    message = db.session.get(Message, message_id)
    if message is None or message.inquiry_id != inquiry.id or message.inbound_email_id is None \
            or message.redacted_at is not None:
        return None
    row = db.session.get(InboundEmail, message.inbound_email_id)
    return whole_message_text(row.raw) if row is not None else None
