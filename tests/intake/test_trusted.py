"""Trusted partners are recognised by verified email domain, never by what is typed."""

from __future__ import annotations

from sqlalchemy import select

from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.models import Inquiry

from ..helpers import inquiry_form_data, make_organisation


def _submit(client, **fields) -> Inquiry:
    assert client.post("/en/inquiry", data=inquiry_form_data(**fields)).status_code == 302
    return db.session.scalars(select(Inquiry).order_by(Inquiry.id.desc())).first()


def test_verified_domain_is_a_trusted_partner(client) -> None:
    organisation = make_organisation("Aman Lara", domains=("amanlara.org",))
    inquiry = _submit(client, email="case.worker@amanlara.org", organisation="")
    assert inquiry.trusted_partner and inquiry.organisation_id == organisation.id
    assert inquiry.contact.organisation_id == organisation.id


def test_subdomain_of_a_verified_domain_counts_when_the_entry_says_so(client) -> None:
    make_organisation("Aman Lara", domains=("amanlara.org",), include_subdomains=True)
    assert _submit(client, email="ops@field.amanlara.org").trusted_partner


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
    assert not _submit(client, email="a@maybe.example").trusted_partner


def test_staff_list_shows_the_badge(client, signed_in) -> None:
    make_organisation("Rainbow Railroad", kind="advocacy_group", domains=("rainbowrailroad.org",))
    _submit(client, email="help@rainbowrailroad.org")
    html = signed_in("viewer").get("/staff/inquiries/").get_data(as_text=True)
    assert "Trusted partner: Rainbow Railroad" in html
