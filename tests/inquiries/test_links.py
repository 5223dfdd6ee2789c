"""Merges stay within one stakeholder; links relate inquiries of different stakeholders without moving anything."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from inquiry_desk.audit import services as audit
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import correspondence, links, triage
from inquiry_desk.inquiries import services as inquiries
from inquiry_desk.inquiries.models import Inquiry, Message, MessageKind
from inquiry_desk.mail.models import OutgoingEmail

from ..helpers import make_inquiry, make_user, page


def _actions(inquiry: Inquiry) -> list[str]:
    return [event.action for event in audit.events_for("inquiry", inquiry.id)]


def _portal(client, inquiry: Inquiry, lang: str = "en") -> str:
    _link, token = inquiries.create_portal_link(inquiry, now=utcnow())
    db.session.commit()
    return page(client.get(f"/{lang}/{'portal' if lang == 'en' else 'portail'}/{token}"), lang=lang).get_text()


def test_a_merge_across_two_stakeholders_is_refused_and_moves_nothing(app) -> None:
    lead = make_user(role="lead")
    keep = make_inquiry(email="amal@example.org", body="Amal's own message")
    other = make_inquiry(email="bruno@example.org", body="Bruno's own message")
    with pytest.raises(triage.DifferentStakeholders) as refused:
        correspondence.merge_and_notify(other, keep, actor=lead, now=utcnow())
    assert refused.value.code == "different_stakeholders" and "Link them instead" in str(refused.value)
    db.session.rollback()
    db.session.expire_all()
    assert other.merged_into_id is None and other.status == "new"
    assert [m.body for m in keep.messages] == ["Amal's own message"]
    assert [m.body for m in other.messages] == ["Bruno's own message"]
    assert not db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.cause_key.like("%merged%"))).all()


def test_the_refusal_is_in_french_too(app, signed_in) -> None:
    lead = signed_in("lead", language="fr")
    keep, other = make_inquiry(email="amal@example.org"), make_inquiry(email="bruno@example.org")
    response = lead.post(f"/staff/inquiries/{other.id}/merge", data={"target": keep.reference},
                         headers={"Accept-Language": "fr"})
    text = page(lead.get(response.headers["Location"], headers={"Accept-Language": "fr"}), lang="fr").get_text()
    assert "ne peuvent pas être fusionnées" in text and "Liez-les plutôt" in text


def test_link_relates_both_ways_is_audited_on_each_and_unlinks(app) -> None:
    officer = make_user(role="officer")
    first, second = make_inquiry(email="amal@example.org"), make_inquiry(email="bruno@example.org")
    versions = (first.version, second.version)
    assert links.link(first, second, actor=officer, now=utcnow())
    assert not links.link(second, first, actor=officer, now=utcnow())  # already linked: nothing new
    db.session.commit()
    assert [i.id for i in links.linked_inquiries(first)] == [second.id]
    assert [i.id for i in links.linked_inquiries(second)] == [first.id]
    assert (first.version, second.version) == (versions[0] + 1, versions[1] + 1)
    assert _actions(first).count("inquiry.linked") == 1 and _actions(second).count("inquiry.linked") == 1
    assert len(first.messages) == 1 and len(second.messages) == 1  # nothing moved
    links.unlink(second, first, actor=officer, now=utcnow())
    db.session.commit()
    assert links.linked_inquiries(first) == [] and links.linked_inquiries(second) == []
    assert "inquiry.unlinked" in _actions(first) and "inquiry.unlinked" in _actions(second)
    with pytest.raises(triage.InvalidValue):
        links.unlink(first, second, actor=officer, now=utcnow())


def test_only_staff_who_triage_link_and_never_to_itself(app) -> None:
    viewer, officer = make_user(role="viewer"), make_user(role="officer")
    first, second = make_inquiry(email="amal@example.org"), make_inquiry(email="bruno@example.org")
    with pytest.raises(triage.NotAllowed):
        links.link(first, second, actor=viewer, now=utcnow())
    with pytest.raises(triage.InvalidValue):
        links.link(first, first, actor=officer, now=utcnow())


def test_each_portal_shows_only_what_its_stakeholder_wrote_or_was_sent(app, client) -> None:
    officer = make_user(role="officer")
    amal = make_inquiry(email="amal@example.org", body="Amal: our family of five")
    bruno = make_inquiry(email="bruno@example.org", body="Bruno: the same family, another branch")
    links.link(amal, bruno, actor=officer, now=utcnow())
    correspondence.send_reply(amal, "Answer for Amal only", actor=officer, now=utcnow())
    correspondence.send_reply(bruno, "Answer for Bruno only", actor=officer, now=utcnow())
    triage.add_note(amal, "Internal: the two are cousins", actor=officer, now=utcnow())
    db.session.commit()
    amal_portal, bruno_portal = _portal(client, amal), _portal(client, bruno, "fr")
    assert "Amal: our family of five" in amal_portal and "Answer for Amal only" in amal_portal
    assert "Bruno" not in amal_portal and "cousins" not in amal_portal
    assert "Bruno: the same family" in bruno_portal and "Answer for Bruno only" in bruno_portal
    assert "Amal" not in bruno_portal and bruno.reference not in amal_portal and amal.reference not in bruno_portal


def test_a_message_another_stakeholder_wrote_never_shows_in_a_portal(app, client) -> None:
    """An old merge (before they were refused) left another person's message in this thread."""
    amal = make_inquiry(email="amal@example.org", body="Amal's message")
    bruno = make_inquiry(email="bruno@example.org", body="Bruno's private message")
    db.session.add(Message(inquiry_id=amal.id, kind=MessageKind.INBOUND.value, body="Bruno's private message",
                           author_contact_id=bruno.contact_id, created_at=utcnow()))
    db.session.commit()
    db.session.expire_all()
    text = _portal(client, db.session.get(Inquiry, amal.id))
    assert "Amal's message" in text and "Bruno's private message" not in text


def test_merge_refused_on_the_page_offers_a_link_shown_on_both_inquiries(app, signed_in) -> None:
    lead = signed_in("lead")
    keep, other = make_inquiry(email="amal@example.org"), make_inquiry(email="bruno@example.org")
    response = lead.post(f"/staff/inquiries/{other.id}/merge", data={"target": keep.reference})
    elsewhere = page(lead.get(f"/staff/inquiries/{keep.id}"))  # the next page shows the refusal...
    assert "cannot be merged" in elsewhere.get_text()
    assert not elsewhere.select("[data-testid=offer-link]")  # ...but only the refused inquiry's offers the link
    soup = page(lead.get(response.headers["Location"]))
    offer = soup.select_one("[data-testid=offer-link] form")
    assert offer.select_one("input[name=other]")["value"] == keep.reference
    response = lead.post(offer["action"], data={"other": keep.reference})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Inquiry, other.id).merged_into_id is None
    for this, that in ((other, keep), (keep, other)):
        soup = page(lead.get(f"/staff/inquiries/{this.id}"))
        linked = soup.select_one("[data-testid=linked]")
        assert linked.select_one(f"a[href='/staff/inquiries/{that.id}']").get_text() == that.reference
        assert not soup.select("[data-testid=offer-link]")  # offered once
    remove = page(lead.get(f"/staff/inquiries/{keep.id}")).select_one("[data-testid=linked] li form")
    assert lead.post(remove["action"]).status_code == 302
    assert not page(lead.get(f"/staff/inquiries/{other.id}")).select("[data-testid=linked] li")


def test_link_by_an_unknown_reference_is_refused_with_a_message(app, signed_in) -> None:
    officer = signed_in("officer")
    inquiry = make_inquiry()
    response = officer.post(f"/staff/inquiries/{inquiry.id}/link", data={"other": "INQ-1999-000001"})
    assert "No inquiry has the reference" in page(officer.get(response.headers["Location"])).get_text()
