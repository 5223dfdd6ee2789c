"""Trusted partners are recognised by verified email domain, never by what is typed, and only once
the sender proved they hold the address (they opened the private link sent to it)."""

from __future__ import annotations

from sqlalchemy import select

from inquiry_desk.audit import services as audit
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import PartnershipStatus
from inquiry_desk.inquiries import services as inquiries
from inquiry_desk.inquiries.models import Inquiry

from ..helpers import inquiry_form_data, make_organisation, page


def _submit(client, **fields) -> Inquiry:
    assert client.post("/en/inquiry", data=inquiry_form_data(**fields)).status_code == 302
    return db.session.scalars(select(Inquiry).order_by(Inquiry.id.desc())).first()


def _open_private_link(client, inquiry: Inquiry, lang: str = "en") -> None:
    _link, token = inquiries.create_portal_link(inquiry, now=utcnow())
    db.session.commit()
    page(client.get(f"/{lang}/{'portal' if lang == 'en' else 'portail'}/{token}"), lang=lang)
    db.session.expire_all()


def test_a_typed_partner_address_gets_no_badge_until_its_holder_opens_the_link(client, signed_in) -> None:
    organisation = make_organisation("Aman Lara", domains=("amanlara.org",))
    inquiry = _submit(client, email="case.worker@amanlara.org", organisation="")
    assert not inquiry.trusted_partner and inquiry.organisation_id == organisation.id
    assert inquiry.contact.organisation_id is None
    viewer = signed_in("viewer")
    soup = page(viewer.get(f"/staff/inquiries/{inquiry.id}"))
    assert "Trusted partner" not in soup.get_text()
    assert "address not yet confirmed" in soup.select_one("[data-testid=partner-unconfirmed]").get_text()
    assert "address not yet confirmed" in viewer.get("/staff/inquiries/").get_data(as_text=True)

    _open_private_link(client, inquiry)
    inquiry = db.session.get(Inquiry, inquiry.id)
    assert inquiry.trusted_partner and inquiry.organisation_id == organisation.id
    assert inquiry.contact.organisation_id == organisation.id
    assert [e.action for e in audit.events_for("inquiry", inquiry.id)].count("inquiry.partner_confirmed") == 1
    soup = page(viewer.get(f"/staff/inquiries/{inquiry.id}"))
    assert "Trusted partner: Aman Lara" in soup.get_text() and not soup.select("[data-testid=partner-unconfirmed]")
    _open_private_link(client, inquiry, "fr")  # opening it again changes nothing
    assert [e.action for e in audit.events_for("inquiry", inquiry.id)].count("inquiry.partner_confirmed") == 1


def test_a_confirmed_address_does_not_vouch_for_the_next_inquiry(client) -> None:
    make_organisation("Aman Lara", domains=("amanlara.org",))
    first = _submit(client, email="case.worker@amanlara.org")
    _open_private_link(client, first)
    # Anyone can type the same address again: each inquiry waits for its own proof.
    assert not _submit(client, email="case.worker@amanlara.org").trusted_partner


def test_subdomain_of_a_verified_domain_counts_when_the_entry_says_so(client) -> None:
    make_organisation("Aman Lara", domains=("amanlara.org",), include_subdomains=True)
    inquiry = _submit(client, email="ops@field.amanlara.org")
    _open_private_link(client, inquiry)
    assert db.session.get(Inquiry, inquiry.id).trusted_partner


def test_subdomain_does_not_count_unless_the_entry_says_so(client) -> None:
    make_organisation("Aman Lara", domains=("amanlara.org",))
    inquiry = _submit(client, email="ops@field.amanlara.org")
    assert not inquiry.trusted_partner and inquiry.organisation_id is None


def test_typed_name_confers_no_trust(client) -> None:
    make_organisation("Aman Lara", domains=("amanlara.org",))
    inquiry = _submit(client, email="impostor@amanlara.org.evil.example", organisation="Aman Lara")
    assert not inquiry.trusted_partner and inquiry.organisation_id is None
    inquiry = _submit(client, email="someone@notamanlara.org", organisation="Aman Lara")
    assert not inquiry.trusted_partner


def test_unverified_partner_domain_is_not_trusted(client) -> None:
    make_organisation("Maybe Partner", trusted=False, domains=("maybe.example",))
    inquiry = _submit(client, email="a@maybe.example")
    _open_private_link(client, inquiry)
    inquiry = db.session.get(Inquiry, inquiry.id)
    assert not inquiry.trusted_partner and inquiry.organisation_id is None


def test_staff_list_shows_the_badge(client, signed_in) -> None:
    make_organisation("Rainbow Railroad", kind="advocacy_group", domains=("rainbowrailroad.org",))
    _open_private_link(client, _submit(client, email="help@rainbowrailroad.org"))
    html = signed_in("viewer").get("/staff/inquiries/").get_data(as_text=True)
    assert "Trusted partner: Rainbow Railroad" in html


def test_a_change_to_the_partners_counts_from_the_next_submission(client) -> None:
    """The partners' domains are kept per process (P4): a committed change forgets them at once."""
    assert _submit(client, email="someone@amanlara.org").organisation_id is None  # read, and kept
    organisation = make_organisation("Aman Lara", domains=("amanlara.org",))
    assert _submit(client, email="other@amanlara.org").organisation_id == organisation.id
    organisation.status = PartnershipStatus.ACTIVE.value  # no longer a trusted referral partner
    db.session.commit()
    assert _submit(client, email="third@amanlara.org").organisation_id is None
    organisation.status = PartnershipStatus.TRUSTED.value
    db.session.commit()
    assert _submit(client, email="fourth@amanlara.org").organisation_id == organisation.id
    organisation.domains.clear()
    db.session.commit()
    assert _submit(client, email="fifth@amanlara.org").organisation_id is None
