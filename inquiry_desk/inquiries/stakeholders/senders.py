"""From an inquiry, file its sender in the directory: the contact's details and its organisation, in one step.

Intake records every sender as a bare contact (name, address, language). When the sender
is not in the directory yet (no organisation), staff complete the contact and link an
organisation, an existing one or a new one, from the inquiry's page. The inquiry is linked
too; it gets the trusted badge only if its address is on a verified domain of a trusted
referral partner (a link made by hand gives no trust).
"""

from __future__ import annotations

from datetime import datetime

from inquiry_desk.accounts.models import User
from inquiry_desk.directory import services as directory
from inquiry_desk.directory.models import Contact, Organisation
from inquiry_desk.directory.rules import ContactDetails, OrganisationDetails
from inquiry_desk.inquiries import recorder
from inquiry_desk.inquiries.models import OPEN_STATUSES, Inquiry
from inquiry_desk.inquiries.rules import stakeholder_of
from inquiry_desk.inquiries.stakeholders.partners import deserves_badge


def file_sender(inquiry: Inquiry, details: ContactDetails, *, organisation: Organisation | None,
                new_organisation: OrganisationDetails | None, actor: User | None, now: datetime) -> Contact:
    """Complete the sender's contact, create or pick its organisation, link contact and inquiry."""
    contact = stakeholder_of(inquiry)
    if new_organisation is not None:
        organisation = directory.create_organisation(new_organisation, actor=actor, now=now)
    details = ContactDetails(email=contact.email, name=details.name, phone=details.phone, title=details.title,
                             language=details.language, notes=details.notes)
    directory.update_contact(contact, details, organisation=organisation, actor=actor, now=now)
    if organisation is not None and inquiry.organisation_id != organisation.id:
        with recorder.change(inquiry, actor=actor, now=now) as change:
            inquiry.organisation = organisation
            if inquiry.status in OPEN_STATUSES:
                inquiry.trusted_partner = deserves_badge(inquiry, organisation)
            change.event("organisation_linked", organisation_id=organisation.id, by_hand=True,
                         trusted_partner=inquiry.trusted_partner)
    return contact
