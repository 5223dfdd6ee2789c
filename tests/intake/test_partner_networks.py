"""Leads list a partner's network past the public form's rate limit (issue 10, defect 10): a page,
audited, CIDR checked with clear errors; the setting still works beside it."""

from __future__ import annotations

from sqlalchemy import select

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.extensions import db
from inquiry_desk.intake.models import ExemptNetwork

from ..helpers import form_errors, inquiry_form_data, page

PAGE = "/staff/partner-networks"


def _post_form(client, n: int) -> int:
    return client.post("/en/inquiry", data=inquiry_form_data(subject=f"Question {n}")).status_code


def test_a_listed_network_is_spared_and_its_removal_limits_it_again(app, signed_in) -> None:
    lead = signed_in("lead")
    page(lead.get(PAGE))
    assert lead.post(PAGE, data={"network": " 203.0.113.0/24 ", "label": "Aman Lara, Halifax office"}
                     ).status_code == 302
    entry = db.session.scalar(select(ExemptNetwork))
    assert (entry.network, entry.label) == ("203.0.113.0/24", "Aman Lara, Halifax office")
    assert "203.0.113.0/24" in page(lead.get(PAGE)).get_text()
    partner = app.test_client()
    partner.environ_base["REMOTE_ADDR"] = "203.0.113.40"
    assert [_post_form(partner, n) for n in range(7)] == [302] * 7
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert [_post_form(other, n) for n in range(6)][-1] == 429
    assert lead.post(f"{PAGE}/{entry.id}/remove").status_code == 302
    assert db.session.scalar(select(ExemptNetwork)) is None
    assert [_post_form(partner, 100 + n) for n in range(6)][-1] == 429  # counted again
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.subject_type == "exempt_network")).all()
    assert actions == ["rate_limit.network_added", "rate_limit.network_removed"]


def test_wrong_networks_are_refused_with_a_clear_message(app, signed_in) -> None:
    lead = signed_in("lead")
    cases = {
        "not-a-network": "This is not an IP address or a network in CIDR form",
        "203.0.113.7/24": "Did you mean 203.0.113.0/24?",
        "10.0.0.0/8": "use a prefix of /16 or longer",
        "2001::/16": "use a prefix of /32 or longer",
        "127.0.0.1": "The loopback network is the server itself",
    }
    for value, message in cases.items():
        soup = page(lead.post(PAGE, data={"network": value, "label": "Someone"}), status=422)
        assert any(message in error for error in form_errors(soup)), (value, form_errors(soup))
        assert soup.select_one("#network")["aria-invalid"] == "true"
    lead.post(PAGE, data={"network": "2001:db8:1::/48", "label": "An office"})
    soup = page(lead.post(PAGE, data={"network": "2001:DB8:1:0::/48", "label": "Again"}), status=409)
    assert "This network is already on the list." in form_errors(soup)
    soup = page(lead.post(PAGE, data={"network": "198.51.100.0/24", "label": ""}), status=422)
    assert "Say whose network this is." in form_errors(soup)
    assert db.session.scalars(select(ExemptNetwork.network)).all() == ["2001:db8:1::/48"]


def test_officers_cannot_change_the_list(app, signed_in) -> None:
    officer = signed_in("officer")
    assert officer.get(PAGE).status_code == 403
    assert officer.post(PAGE, data={"network": "203.0.113.0/24", "label": "x"}).status_code == 403
