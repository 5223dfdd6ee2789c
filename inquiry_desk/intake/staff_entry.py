"""Staff log an inquiry that came by phone, in a meeting or forwarded by another office (issue 10).

The stakeholder is optional: a caller who gave no address, a matter raised in a meeting. Without
an email address there is nobody to write to, so the inquiry has no contact (and so no private
link, no reply by email). With one, the contact is recorded as the public form records it, and
the confirmation (reference and private link) is sent only when staff ask for it: a caller told
their reference on the phone may not want an email. Staff logging is in the history
("logged by staff", who and by which channel).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

from inquiry_desk.accounts.models import Role, User
from inquiry_desk.core.domain import InvalidInput
from inquiry_desk.core.i18n import LANGUAGES
from inquiry_desk.core.text import parse_email_address, parse_line, parse_text
from inquiry_desk.directory import services as directory
from inquiry_desk.inquiries import recorder
from inquiry_desk.inquiries import services as inquiries
from inquiry_desk.inquiries.models import Channel, Inquiry, Topic
from inquiry_desk.inquiries.rules import NotAllowed, require_role
from inquiry_desk.intake.services import (
    MESSAGE_MAX,
    NAME_MAX,
    ORGANISATION_MAX,
    PHONE_MAX,
    SUBJECT_MAX,
    Submission,
    queue_confirmation,
)

log = logging.getLogger(__name__)

# What staff may log: a web form or an email comes in by itself.
STAFF_CHANNELS = (Channel.PHONE.value, Channel.MANUAL.value)


class NameWithoutAddress(InvalidInput):
    code = "name_without_address"
    default_message = _l("Add the stakeholder’s email address too, or leave their name and phone empty: "
                         "without an address the inquiry is logged without a stakeholder.")


class ConfirmationWithoutAddress(InvalidInput):
    code = "confirmation_without_address"
    default_message = _l("A confirmation needs the stakeholder’s email address.")


@dataclass(frozen=True)
class StaffEntry:
    """What an officer types after a call, a meeting or a forwarded letter."""

    subject: str
    message: str
    channel: str
    language: str
    topic: Topic | None = None
    name: str = ""
    email: str = ""
    phone: str = ""
    organisation: str = ""
    send_confirmation: bool = False


def log_inquiry(entry: StaffEntry, *, actor: User, now: datetime) -> Inquiry:
    """Record the inquiry (``received`` then ``logged_by_staff`` in its history); confirm only when asked.

    Raises NotAllowed below an officer, a core.text error or one of this module's for what
    cannot be accepted. The confirmation, when asked, is queued in the caller's transaction.
    """
    require_role(actor, Role.OFFICER)
    if entry.channel not in STAFF_CHANNELS:
        raise NotAllowed(_l("Staff log inquiries received by phone or by other means only."))
    subject = parse_line(entry.subject, max_length=SUBJECT_MAX)
    message = parse_text(entry.message, max_length=MESSAGE_MAX)
    language = entry.language if entry.language in LANGUAGES else "en"
    email = parse_email_address(entry.email, required=False)
    name = parse_line(entry.name, max_length=NAME_MAX, required=False)
    phone = parse_line(entry.phone, max_length=PHONE_MAX, required=False) or None
    organisation = parse_line(entry.organisation, max_length=ORGANISATION_MAX, required=False) or None
    if not email and (name or phone):
        raise NameWithoutAddress()
    if entry.send_confirmation and not email:
        raise ConfirmationWithoutAddress()
    contact = None
    trusted = None
    if email:
        trusted = directory.trusted_organisation_for(email)
        contact = directory.record_contact(email=email, name=name or email, language=language, now=now,
                                           phone=phone, organisation_name=organisation)
    inquiry = inquiries.create_inquiry(
        contact=contact, subject=subject, body=message, language=language, channel=entry.channel, now=now,
        topic=entry.topic, organisation_name=organisation, trusted_organisation=trusted, actor=actor,
    )
    with recorder.change(inquiry, actor=actor, now=now) as change:
        change.event("logged_by_staff", channel=entry.channel, confirmation=entry.send_confirmation)
    if entry.send_confirmation and contact is not None:
        _, token = inquiries.create_portal_link(inquiry, now=now)
        queue_confirmation(inquiry, Submission(name=contact.name, email=contact.email, subject=subject,
                                               message=message, language=language, topic=entry.topic),
                           token, now)
    log.info("inquiry %s logged by staff (channel %s, stakeholder %s, confirmation %s)", inquiry.reference,
             entry.channel, contact is not None, entry.send_confirmation)
    return inquiry
