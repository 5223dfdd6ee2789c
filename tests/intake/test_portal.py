"""The stakeholder's private link: one inquiry, unguessable, expires, renewable."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from sqlalchemy import select

from inquiry_desk.audit import services as audit
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import services as inquiries
from inquiry_desk.inquiries.models import Message, MessageKind, PortalLink, Status

from ..helpers import edit, form_errors, make_inquiry, page
from .mailbox import deliver, sent_messages, text_body


def _portal_path(app, inquiry=None) -> str:
    deliver(app)
    body = text_body(sent_messages(app)[-1])
    return "/" + re.search(r"https?://[^/\s]+/(\S+/(?:portal|portail)/\S+)", body).group(1)


def test_link_opens_that_inquiry_only_without_notes(app, client) -> None:
    first = make_inquiry(subject="First question", body="Our first message")
    db.session.add(Message(inquiry=first, kind=MessageKind.NOTE.value, body="Internal: check with IRCC",
                           created_at=utcnow()))
    db.session.commit()
    path = _portal_path(app)
    make_inquiry(subject="Someone else's", body="Not yours")
    soup = page(client.get(path))
    text = soup.get_text()
    assert "Our first message" in text and "Not yours" not in text
    assert "Internal: check with IRCC" not in text
    assert client.get(path).headers["Referrer-Policy"] == "same-origin"


def test_tokens_are_long_random_and_stored_hashed(app) -> None:
    inquiry = make_inquiry()
    _link, token = inquiries.create_portal_link(inquiry, now=utcnow())
    assert len(token) >= 43  # 32 bytes in URL-safe base64: 256 bits
    stored = db.session.scalars(select(PortalLink.token_hash)).all()
    assert token not in stored and all(len(h) == 64 for h in stored)


def test_wrong_token_is_404(client, app) -> None:
    make_inquiry()
    soup = page(client.get("/en/portal/" + "A" * 43), status=404)
    assert soup.select_one("a[href='/en/portal/new-link']")


def test_expired_link_says_so_and_offers_a_new_one(app, client) -> None:
    make_inquiry()
    path = _portal_path(app)
    later = utcnow() + timedelta(days=app.config["PORTAL_LINK_DAYS"], minutes=1)
    with time_machine.travel(later):
        soup = page(client.get(path), status=410)
    assert "expired" in soup.h1.get_text()


def test_revoked_link_answers_like_an_expired_one_with_the_way_to_a_new_one(app, client) -> None:
    """Issue 11, M3: a withdrawn link says so (410, as an expired one) and leads to the new-link page."""
    inquiry = make_inquiry()
    path = _portal_path(app)
    inquiries.revoke_portal_links(inquiry, now=utcnow())
    db.session.commit()
    soup = page(client.get(path), status=410)
    assert "withdrawn" in soup.h1.get_text()
    assert soup.select_one('a[href="/en/portal/new-link"]') is not None
    assert client.post(path, data={"message": "Still here?"}).status_code == 410


def test_reply_through_the_portal_reopens_a_waiting_inquiry(app, client) -> None:
    inquiry = make_inquiry()
    edit(inquiry, status=Status.WAITING.value)
    db.session.commit()
    path = _portal_path(app)
    soup = page(client.post(path, data={"message": ""}))
    assert form_errors(soup) == ["Enter your reply."]
    response = client.post(path, data={"message": "Here are the documents you asked for."})
    assert response.status_code == 302
    soup = page(client.get(path))
    assert "Here are the documents you asked for." in soup.get_text()
    assert soup.select_one("[role=status]") is not None
    db.session.refresh(inquiry)
    assert inquiry.status == Status.OPEN.value
    assert [m.kind for m in inquiry.messages] == ["inbound", "inbound"]
    # Drift (issue 9): the reply was written to the audit log twice (by the service and by the view).
    replies = [event for event in audit.events_for("inquiry", inquiry.id) if event.action.endswith("_replied")]
    assert [(event.action, event.details["channel"]) for event in replies] == [("inquiry.stakeholder_replied", "web")]


def test_new_link_reveals_nothing(app, client) -> None:
    inquiry = make_inquiry(email="nadia@example.org", language="fr")
    deliver(app)
    before = len(sent_messages(app))
    wrong = client.post("/fr/portail/nouveau-lien", data={"reference": inquiry.reference,
                                                          "email": "someone@example.org"})
    unknown = client.post("/fr/portail/nouveau-lien", data={"reference": "INQ-2000-999999",
                                                            "email": "nadia@example.org"})
    right = client.post("/fr/portail/nouveau-lien", data={"reference": inquiry.reference.lower(),
                                                          "email": "Nadia@Example.org"})
    assert wrong.status_code == unknown.status_code == right.status_code == 200
    assert page(wrong).get_text() == page(unknown).get_text() == page(right).get_text()
    deliver(app)
    messages = sent_messages(app)
    assert len(messages) == before + 1
    new_link = messages[-1]
    assert new_link["To"] == "nadia@example.org" and "Voici un nouveau lien" in text_body(new_link)
    path = "/" + re.search(r"https?://[^/\s]+/(\S+/portail/\S+)", text_body(new_link)).group(1)
    page(client.get(path), lang="fr")
