"""The digest preference on one's own account page: on, off, audited, CSRF-protected."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.extensions import db

from ..helpers import make_user, page, sign_in


def test_the_account_page_turns_the_digest_on_and_off(app: Flask, signed_in) -> None:
    client = signed_in("viewer")
    soup = page(client.get("/staff/account"))
    checkbox = soup.select_one("input#wants_digest")
    assert checkbox is not None and not checkbox.has_attr("checked")
    assert soup.find("label", attrs={"for": "wants_digest"}).get_text(strip=True) == "Send me the daily digest"

    response = client.post("/staff/account/digest", data={"wants_digest": "y"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/account")
    db.session.expire_all()
    assert client.user.wants_digest is True
    assert page(client.get("/staff/account")).select_one("input#wants_digest").has_attr("checked")

    client.post("/staff/account/digest", data={})
    db.session.expire_all()
    assert client.user.wants_digest is False
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.digest_preference")).all()
    assert [event.details for event in events] == [{"wants_digest": True}, {"wants_digest": False}]


def test_the_digest_choice_needs_a_csrf_token(app_factory) -> None:
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        user = make_user(role="viewer")
        client = app.test_client()
        sign_in(client, user)
        assert client.post("/staff/account/digest", data={"wants_digest": "y"}).status_code == 400
        db.session.expire_all()
        assert user.wants_digest is False
