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


# --- one field (issue 12: "one message or one field at once") -----------------------------

NAMES = "Amina Yusufzai, Karim Yusufzai, Laleh Yusufzai"


def _all_rows_kept() -> str:
    """Every place a copy could hide, including the fields of inquiries, contacts and people concerned."""
    parts = [_everything_kept()]
    for table in ("inquiries", "contacts", "inquiry_people"):
        for row in db.session.execute(db.text(f"SELECT * FROM {table}")):  # noqa: S608 (fixed names)
            parts.append(" ".join(str(value) for value in row))
    return "\n".join(parts).lower()


def _submitted(**fields: str):
    from inquiry_desk.inquiries import services as inquiries
    from inquiry_desk.intake import services as intake

    submission = intake.Submission(name=fields.get("name", "Farida Rahimi"), email="farida@example.net",
                                   subject="Safe passage", message="Please help", language="en",
                                   topic=inquiries.topic_by_code("other"), organisation=fields.get("organisation"),
                                   phone=fields.get("phone"))
    inquiry = intake.submit_inquiry(submission, now=utcnow())
    db.session.commit()
    return inquiry


def test_a_requesters_field_redacted_leaves_no_copy(app) -> None:
    """A passport number typed as the phone, a list of names typed as the name: contact, search, outbox, audit."""
    lead = make_user(role="lead")
    second = make_inquiry(email="farida@example.net", subject="Another question")  # the same requester
    inquiry = _submitted(name=NAMES, phone="GX7731904")
    correspondence.send_reply(inquiry, "We are on it.", actor=lead, now=utcnow(), next_status="waiting")
    db.session.commit()
    kept = _all_rows_kept()
    assert "gx7731904" in kept and "karim" in kept
    assert set(search.search_ids("Karim", limit=5)) == {inquiry.id, second.id}
    client = app.test_client()
    sign_in(client, lead)
    for field, reason in (("requester_phone", "Passport number in the phone field"),
                          ("requester_name", "Names of the family in the name field")):
        response = client.post(f"/staff/inquiries/{inquiry.id}/redact-field",
                               data={"redact-field-field": field, "redact-field-reason": reason})
        assert response.status_code == 302
    kept = _all_rows_kept()
    assert "gx7731904" not in kept and "yusufzai" not in kept and "karim" not in kept
    assert search.search_ids("Karim", limit=5) == [] and search.search_ids("Yusufzai", limit=5) == []
    assert search.search_ids("help", limit=5) == [inquiry.id]
    db.session.refresh(inquiry.contact)
    assert inquiry.contact.name == protection.REDACTED and inquiry.contact.phone == protection.REDACTED
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "inquiry.field_redacted")
                                .order_by(AuditEvent.id)).all()
    assert [(event.actor_id, event.details["field"], event.details["reason"]) for event in events] == [
        (lead.id, "requester_phone", "Passport number in the phone field"),
        (lead.id, "requester_name", "Names of the family in the name field")]
    history = page(client.get(f"/staff/inquiries/{inquiry.id}")).select_one(".history").get_text(" ")
    assert "a field was redacted (Requester’s phone): Passport number in the phone field" in " ".join(history.split())


def test_a_person_concerneds_identifiers_and_the_typed_organisation_redacted_leave_no_copy(app) -> None:
    from inquiry_desk.inquiries import consent, redaction

    lead = make_user(role="lead")
    inquiry = _submitted(organisation=f"Family of {NAMES}")
    person = consent.add_person(inquiry, "Amina", "Daughter", "Passport GX7731904", actor=lead, now=utcnow())
    db.session.commit()
    assert "gx7731904" in _all_rows_kept() and "karim" in _all_rows_kept()
    assert search.search_ids("Karim", limit=5) == [inquiry.id]
    choices = {candidate.value for candidate in redaction.redactable(inquiry)}
    assert f"person_identifiers:{person.id}" in choices and "organisation_name" in choices
    client = app.test_client()
    sign_in(client, lead)
    for value in (f"person_identifiers:{person.id}", "organisation_name"):
        assert client.post(f"/staff/inquiries/{inquiry.id}/redact-field", data={
            "redact-field-field": value, "redact-field-reason": "Sent by mistake"}).status_code == 302
    kept = _all_rows_kept()
    assert "gx7731904" not in kept and "karim" not in kept
    assert search.search_ids("Karim", limit=5) == []
    db.session.refresh(person)
    assert person.identifiers == protection.REDACTED and person.name == "Amina"  # one field, not the person
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "inquiry.field_redacted")
                              .order_by(AuditEvent.id))
    assert event.details == {"field": "person_identifiers", "person_id": person.id, "reason": "Sent by mistake",
                             "version": event.details["version"]}


def test_a_redacted_subject_leaves_the_daily_digest_too(app) -> None:
    from inquiry_desk.inquiries import digest

    lead = make_user(role="lead")
    make_user(role="officer").wants_digest = True  # receives the digest
    inquiry = make_inquiry(subject=f"About {PASSPORT}")
    other = make_inquiry(subject="Passport renewal question")
    digest.send_daily_digests(utcnow())
    db.session.commit()
    digests = db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.cause_key.like("digest:%"))).all()
    assert digests and all("gx7731904" in email.body_text.lower() for email in digests)
    client = app.test_client()
    sign_in(client, lead)
    assert client.post(f"/staff/inquiries/{inquiry.id}/redact-field", data={
        "redact-field-field": "subject", "redact-field-reason": "Passport in the subject"}).status_code == 302
    assert "gx7731904" not in _all_rows_kept()
    for email in db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.cause_key.like("digest:%"))):
        assert f"{inquiry.reference} {protection.REDACTED}" in email.body_text
        assert f"{other.reference} Passport renewal question" in email.body_text  # another line is left alone


def test_only_a_lead_who_may_open_it_redacts_a_field_and_only_a_field_it_has(app) -> None:
    from inquiry_desk.inquiries import redaction

    officer = make_user(role="officer")
    lead = make_user(role="lead")
    inquiry = _submitted(phone="GX7731904")
    with pytest.raises(NotAllowed):
        redaction.redact_field(inquiry, "requester_phone", "mistake", actor=officer, now=utcnow())
    with pytest.raises(redaction.UnknownField):
        redaction.redact_field(inquiry, "email", "mistake", actor=lead, now=utcnow())
    with pytest.raises(redaction.UnknownField):
        redaction.find(inquiry, "person_name:999")
    client = app.test_client()
    sign_in(client, officer)
    assert client.post(f"/staff/inquiries/{inquiry.id}/redact-field", data={
        "redact-field-field": "requester_phone", "redact-field-reason": "x"}).status_code == 403
    sign_in(client, lead)
    client.post(f"/staff/inquiries/{inquiry.id}/redact-field", data={
        "redact-field-field": "requester_phone", "redact-field-reason": " "})
    db.session.rollback()
    assert db.session.get(type(inquiry), inquiry.id).contact.phone == "GX7731904"  # no reason, no redaction
