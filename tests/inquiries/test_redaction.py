"""Redaction of one message (issue 12): the text is replaced everywhere it is kept, and audited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.domain import NotAllowed
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import correspondence, protection, search
from inquiry_desk.inquiries.models import MessageKind
from inquiry_desk.mail.models import OutgoingEmail

from ..helpers import make_inquiry, make_user, page, sign_in

PASSPORT = "Passport GX7731904 of Amina Yusufzai"


def _everything_kept() -> str:
    """Every place a copy could hide: messages, outbox, audit details, search documents."""
    parts = [body for body in db.session.scalars(db.text("SELECT body FROM messages"))]
    for email in db.session.scalars(select(OutgoingEmail)):
        parts += [email.subject, email.body_text, email.body_html or ""]
    parts += [json.dumps(event.details) for event in db.session.scalars(select(AuditEvent))]
    parts += [str(document) for document in db.session.scalars(db.text("SELECT document FROM fts_inquiries"))]
    return "\n".join(parts).lower()


def test_a_reply_redacted_leaves_no_copy(app) -> None:
    lead = make_user(role="lead")
    officer = make_user(role="officer")
    inquiry = make_inquiry(body="Please help")
    correspondence.send_reply(inquiry, f"Dear Farida,\n{PASSPORT}\nRegards", actor=officer, now=utcnow(),
                              next_status="waiting")
    db.session.commit()
    assert "gx7731904" in _everything_kept()
    assert search.search_ids("GX7731904", limit=5) == [inquiry.id]
    reply = next(message for message in inquiry.messages if message.kind == MessageKind.REPLY.value)
    client = app.test_client()
    sign_in(client, lead)
    response = client.post(f"/staff/inquiries/{inquiry.id}/messages/{reply.id}/redact",
                           data={"reason": "Passport number sent by mistake"})
    assert response.status_code == 302
    kept = _everything_kept()
    assert "gx7731904" not in kept and "yusufzai" not in kept
    assert search.search_ids("GX7731904", limit=5) == []
    assert search.search_ids("help", limit=5) == [inquiry.id]  # the rest of the thread is still found
    db.session.refresh(reply)
    assert reply.body == protection.REDACTED and reply.redacted_at is not None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "inquiry.message_redacted"))
    assert event is not None and event.actor_id == lead.id
    assert event.details["reason"] == "Passport number sent by mistake" and event.details["message_id"] == reply.id
    soup = page(client.get(f"/staff/inquiries/{inquiry.id}"))
    assert soup.select_one("[data-testid=redacted]") is not None
    assert "a message was redacted: Passport number sent by mistake" in soup.select_one(".history").get_text()


def test_only_a_lead_redacts_and_a_reason_is_needed(app) -> None:
    officer = make_user(role="officer")
    lead = make_user(role="lead")
    inquiry = make_inquiry(body=PASSPORT)
    message = inquiry.messages[0]
    with pytest.raises(NotAllowed):
        protection.redact_message(message, "mistake", actor=officer, now=utcnow())
    with pytest.raises(protection.ReasonRequired):
        protection.redact_message(message, "  ", actor=lead, now=utcnow())
    client = app.test_client()
    sign_in(client, officer)
    assert client.post(f"/staff/inquiries/{inquiry.id}/messages/{message.id}/redact",
                       data={"reason": "x"}).status_code == 403
    db.session.rollback()
    assert PASSPORT in db.session.get(type(message), message.id).body


def test_a_subject_redacted_leaves_no_copy(app) -> None:
    lead = make_user(role="lead")
    inquiry = make_inquiry(subject=f"About {PASSPORT}", body="Please help")
    correspondence.send_reply(inquiry, "We are on it.", actor=lead, now=utcnow(), next_status="waiting")
    db.session.commit()
    assert "gx7731904" in _everything_kept()
    client = app.test_client()
    sign_in(client, lead)
    assert client.post(f"/staff/inquiries/{inquiry.id}/redact-subject",
                       data={"reason": "Passport in the subject"}).status_code == 302
    kept = _everything_kept() + "\n".join(str(subject) for subject in db.session.scalars(
        db.text("SELECT subject FROM inquiries")))
    assert "gx7731904" not in kept and "yusufzai" not in kept
    assert search.search_ids("GX7731904", limit=5) == []
    soup = page(client.get(f"/staff/inquiries/{inquiry.id}"))
    assert "the subject was redacted: Passport in the subject" in soup.select_one(".history").get_text()
