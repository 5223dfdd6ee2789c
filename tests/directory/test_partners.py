"""Trusted partners: a verified domain links past and future inquiries; only trusted referral partners give
the badge; subdomains only when the entry says so; removal unlinks and takes the badge away (audited)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.directory import rules
from inquiry_desk.directory import services as directory
from inquiry_desk.directory.models import PartnershipStatus
from inquiry_desk.inquiries.models import Status
from inquiry_desk.inquiries.stakeholders import partners

from ..helpers import edit, make_inquiry, make_user
from .support import prove_address


def _organisation(status: str = "active", name: str = "Aman Lara"):
    lead = make_user(role="lead")
    details = rules.parse_organisation({"name": name, "kind": "ngo"})
    organisation = directory.create_organisation(details, status=status, actor=lead, now=utcnow())
    db.session.commit()
    return organisation, lead


def test_verifying_a_domain_links_past_inquiries_and_gives_the_badge_to_open_ones(app) -> None:
    earlier = make_inquiry(email="worker@amanlara.org")
    closed = make_inquiry(email="other@amanlara.org")
    edit(closed, status=Status.CLOSED.value)
    elsewhere = make_inquiry(email="someone@example.net")
    sub = make_inquiry(email="ops@field.amanlara.org")
    unproven = make_inquiry(email="claims@amanlara.org")
    prove_address(earlier, closed, sub)
    organisation, lead = _organisation()
    partners.change_status(organisation, PartnershipStatus.TRUSTED.value, "Due diligence: call on 2026-11-02",
                           actor=lead, now=utcnow())
    _, changed = partners.add_verified_domain(organisation, "AmanLara.org", include_subdomains=False,
                                              method="phone call", actor=lead, now=utcnow())
    db.session.commit()
    assert changed == 3
    assert earlier.organisation_id == organisation.id and earlier.trusted_partner
    # Linked, but no badge (and the contact not in the organisation) until the address is proven.
    assert unproven.organisation_id == organisation.id and not unproven.trusted_partner
    assert unproven.contact.organisation_id is None
    assert closed.organisation_id == organisation.id and not closed.trusted_partner
    assert elsewhere.organisation_id is None and sub.organisation_id is None
    assert earlier.contact.organisation_id == organisation.id
    actions = [event.action for event in db.session.scalars(select(AuditEvent).where(
        AuditEvent.subject_type == "inquiry", AuditEvent.subject_id == earlier.id))]
    assert "inquiry.organisation_linked" in actions
    # Future inquiries from the domain are linked at intake; the badge waits for the proof (issue 10).
    later = make_inquiry(email="new.person@amanlara.org")
    assert later.organisation_id == organisation.id and not later.trusted_partner


def test_a_domain_of_an_organisation_that_is_not_trusted_links_without_the_badge(app) -> None:
    earlier = make_inquiry(email="worker@amanlara.org")
    prove_address(earlier)
    organisation, lead = _organisation(status="active")
    partners.add_verified_domain(organisation, "amanlara.org", include_subdomains=False, method=None,
                                 actor=lead, now=utcnow())
    db.session.commit()
    assert earlier.organisation_id == organisation.id and not earlier.trusted_partner
    later = make_inquiry(email="new@amanlara.org")
    assert not later.trusted_partner
    from inquiry_desk.inquiries import services as inquiries

    earlier.contact.organisation = organisation
    db.session.commit()
    assert not inquiries.confirm_address(later, now=utcnow())  # not a trusted partner: no badge


def test_subdomains_match_only_when_the_entry_says_so(app) -> None:
    sub = make_inquiry(email="ops@field.amanlara.org")
    prove_address(sub)
    organisation, lead = _organisation()
    partners.change_status(organisation, "trusted_referral_partner", "checked", actor=lead, now=utcnow())
    partners.add_verified_domain(organisation, "amanlara.org", include_subdomains=True, method=None,
                                 actor=lead, now=utcnow())
    db.session.commit()
    assert sub.organisation_id == organisation.id and sub.trusted_partner
    assert directory.trusted_organisation_for("x@deep.field.amanlara.org") == organisation
    assert directory.trusted_organisation_for("x@amanlara.org.evil.example") is None


def test_removing_the_domain_unlinks_open_inquiries_and_removes_the_badge(app) -> None:
    inquiry = make_inquiry(email="worker@amanlara.org")
    prove_address(inquiry)
    organisation, lead = _organisation()
    partners.change_status(organisation, "trusted_referral_partner", "checked", actor=lead, now=utcnow())
    entry, _ = partners.add_verified_domain(organisation, "amanlara.org", include_subdomains=False, method=None,
                                            actor=lead, now=utcnow())
    db.session.commit()
    assert inquiry.trusted_partner
    assert partners.remove_verified_domain(organisation, entry.id, actor=lead, now=utcnow()) == 1
    db.session.commit()
    assert inquiry.organisation_id is None and not inquiry.trusted_partner
    assert inquiry.contact.organisation_id is None
    assert directory.trusted_organisation_for("worker@amanlara.org") is None
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "organisation.domain_removed"))
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "inquiry.organisation_unlinked",
                                                      AuditEvent.subject_id == inquiry.id))


def test_losing_trusted_status_removes_the_badge_from_open_inquiries_only(app) -> None:
    organisation, lead = _organisation()
    partners.change_status(organisation, "trusted_referral_partner", "checked", actor=lead, now=utcnow())
    partners.add_verified_domain(organisation, "amanlara.org", include_subdomains=False, method=None,
                                 actor=lead, now=utcnow())
    db.session.commit()
    open_one = make_inquiry(email="a@amanlara.org")
    closed = make_inquiry(email="b@amanlara.org")
    from inquiry_desk.inquiries import services as inquiries

    inquiries.confirm_address(open_one, now=utcnow())
    inquiries.confirm_address(closed, now=utcnow())
    edit(closed, status=Status.CLOSED.value)
    db.session.commit()
    assert open_one.trusted_partner and closed.trusted_partner
    assert partners.change_status(organisation, "active", "Partnership reviewed", actor=lead, now=utcnow()) == 1
    db.session.commit()
    assert not open_one.trusted_partner and closed.trusted_partner
    assert open_one.organisation_id == organisation.id
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "inquiry.trusted_badge_removed"))
    history = directory.status_history(organisation)
    assert [change.status_after for change in history] == ["active", "trusted_referral_partner", "active"]
    assert history[0].reason == "Partnership reviewed"


def test_trusted_status_and_domains_need_a_lead_and_a_reason(app) -> None:
    organisation, _ = _organisation()
    officer = make_user(role="officer")
    with pytest.raises(rules.LeadsOnly):
        partners.change_status(organisation, "trusted_referral_partner", "checked", actor=officer, now=utcnow())
    with pytest.raises(rules.LeadsOnly):
        partners.add_verified_domain(organisation, "amanlara.org", include_subdomains=False, method=None,
                                     actor=officer, now=utcnow())
    lead = make_user(role="lead")
    with pytest.raises(directory.ReasonRequired):
        partners.change_status(organisation, "trusted_referral_partner", "  ", actor=lead, now=utcnow())
    # Other status changes are an officer's to make.
    partners.change_status(organisation, "inactive", None, actor=officer, now=utcnow())
    assert organisation.status == "inactive"


@pytest.mark.parametrize("value", ["http://amanlara.org", "a@amanlara.org x", "localhost", "-bad-.org", ""])
def test_domains_are_checked(app, value: str) -> None:
    with pytest.raises(rules.InvalidInput):
        rules.parse_domain(value)


def test_a_domain_belongs_to_one_organisation(app) -> None:
    first, lead = _organisation(name="First")
    second, _ = _organisation(name="Second")
    partners.add_verified_domain(first, "shared.org", include_subdomains=False, method=None, actor=lead, now=utcnow())
    with pytest.raises(directory.DomainTaken):
        partners.add_verified_domain(second, "shared.org", include_subdomains=False, method=None, actor=lead,
                                     now=utcnow())
