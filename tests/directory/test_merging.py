"""Merging duplicate contacts and organisations: every link moves, audited, the merged one recorded."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.directory import rules
from inquiry_desk.directory import services as directory
from inquiry_desk.directory.models import Contact
from inquiry_desk.inquiries import search
from inquiry_desk.inquiries.models import Message
from inquiry_desk.inquiries.stakeholders import merging, partners

from ..helpers import make_inquiry, make_user
from .support import prove_address


def test_merging_contacts_moves_inquiries_and_messages(app) -> None:
    lead = make_user(role="lead")
    kept_inquiry = make_inquiry(email="farida@example.net")
    duplicate_inquiry = make_inquiry(email="f.rahimi@example.org", subject="Zebrafinch question")
    kept, duplicate = kept_inquiry.contact, duplicate_inquiry.contact
    duplicate.phone = "+1 613 555 0100"
    db.session.commit()
    assert merging.merge_contacts(duplicate, kept, actor=lead, now=utcnow()) == 1
    db.session.commit()
    assert duplicate_inquiry.contact_id == kept.id
    assert set(db.session.scalars(select(Message.author_contact_id).where(
        Message.inquiry_id == duplicate_inquiry.id, Message.kind == "inbound"))) == {kept.id}
    assert kept.phone == "+1 613 555 0100"
    assert duplicate.merged_into_id == kept.id and not duplicate.active
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "inquiry.contact_merged",
                                                      AuditEvent.subject_id == duplicate_inquiry.id))
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "contact.merged_into",
                                                      AuditEvent.subject_id == duplicate.id))
    # The moved inquiry is found under the kept contact's address.
    assert duplicate_inquiry.id in search.search_ids("farida@example.net", limit=10)
    with pytest.raises(merging.CannotMerge):
        merging.merge_contacts(duplicate, kept, actor=lead, now=utcnow())


def test_merging_organisations_moves_contacts_inquiries_domains_and_tags(app) -> None:
    lead = make_user(role="lead")
    kept = directory.create_organisation(rules.parse_organisation({"name": "Aman Lara", "kind": "ngo",
                                                                   "tags": "kabul"}), actor=lead, now=utcnow())
    duplicate = directory.create_organisation(rules.parse_organisation({"name": "Aman-Lara (old)", "kind": "ngo",
                                                                        "tags": "Health", "country": "Canada"}),
                                              actor=lead, now=utcnow())
    partners.change_status(kept, "trusted_referral_partner", "checked", actor=lead, now=utcnow())
    inquiry = make_inquiry(email="worker@amanlara.org")
    prove_address(inquiry)
    partners.add_verified_domain(duplicate, "amanlara.org", include_subdomains=False, method=None, actor=lead,
                                 now=utcnow())
    db.session.commit()
    assert inquiry.organisation_id == duplicate.id and not inquiry.trusted_partner
    assert merging.merge_organisations(duplicate, kept, actor=lead, now=utcnow()) == 1
    db.session.commit()
    assert inquiry.organisation_id == kept.id and inquiry.trusted_partner
    assert [entry.domain for entry in kept.domains] == ["amanlara.org"]
    assert kept.tags == ["Health", "kabul"] and kept.country == "Canada"
    assert db.session.scalar(select(Contact.organisation_id).where(Contact.email == "worker@amanlara.org")) == kept.id
    assert duplicate.merged_into_id == kept.id and not duplicate.active
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "organisation.merged_from",
                                                      AuditEvent.subject_id == kept.id))
    assert directory.trusted_organisation_for("new@amanlara.org") == kept


def test_only_leads_merge(app) -> None:
    officer = make_user(role="officer")
    first, second = make_inquiry(email="a@example.net").contact, make_inquiry(email="b@example.net").contact
    with pytest.raises(rules.LeadsOnly):
        merging.merge_contacts(first, second, actor=officer, now=utcnow())
