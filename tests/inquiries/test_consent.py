"""Consent to disclose (issue 12): people concerned, consent on file, and the reply form's warning."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import consent, protection
from inquiry_desk.inquiries.models import Message, MessageKind, PersonConcerned

from ..helpers import make_inquiry, make_user, page, sign_in


def _replies(inquiry_id: int) -> int:
    return len(db.session.scalars(select(Message).where(Message.inquiry_id == inquiry_id,
                                                        Message.kind == MessageKind.REPLY.value)).all())


def _reply(client, inquiry, body: str, **extra: str):
    db.session.refresh(inquiry)  # the version the officer's page would carry
    return client.post(f"/staff/inquiries/{inquiry.id}/reply",
                       data={"body": body, "language": "en", "next_status": "waiting",
                             "version": str(inquiry.version), **extra})


def test_a_reply_naming_a_person_without_consent_warns_until_acknowledged(app) -> None:
    officer = make_user(role="officer")
    inquiry = make_inquiry(body="About my brother Karim Haidari, UCI 11-2233-4455")
    client = app.test_client()
    sign_in(client, officer)
    response = client.post(f"/staff/inquiries/{inquiry.id}/people",
                           data={"name": "Karim Haidari", "relationship": "brother", "identifiers": "11-2233-4455"})
    assert response.status_code == 302
    person = db.session.scalar(select(PersonConcerned))
    assert person is not None and person.relationship == "brother"

    warned = _reply(client, inquiry, "Dear Farida, the file of karim HAIDARI is complete.")
    soup = page(warned, status=409)
    assert "Karim Haidari" in soup.select_one("[data-testid=consent-warning]").get_text()
    assert _replies(inquiry.id) == 0  # not sent
    by_identifier = _reply(client, inquiry, "The file 11-2233-4455 is complete.")
    assert by_identifier.status_code == 409 and _replies(inquiry.id) == 0
    unrelated = _reply(client, inquiry, "We received your documents.")
    assert unrelated.status_code == 302 and _replies(inquiry.id) == 1

    db.session.expire_all()
    sent = _reply(client, inquiry, "The file of Karim Haidari is complete.", disclosure_acknowledged="y")
    assert sent.status_code == 302 and _replies(inquiry.id) == 2
    acknowledged = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "inquiry.disclosure_acknowledged"))
    assert acknowledged is not None and acknowledged.details == {"person_ids": [person.id]}
    assert "Karim" not in str([event.details for event in db.session.scalars(select(AuditEvent))])


def test_consent_on_file_silences_the_warning_until_it_ends(app) -> None:
    officer = make_user(role="officer")
    inquiry = make_inquiry()
    now = utcnow()
    person = consent.add_person(inquiry, "Amina Yusufzai", "client", None, actor=officer, now=now)
    db.session.commit()
    assert consent.mentioned_without_consent(inquiry, "About Amina Yusufzai", now) == [person]
    client = app.test_client()
    sign_in(client, officer)
    today = now.date()
    response = client.post(f"/staff/inquiries/{inquiry.id}/consent", data={
        "person": str(person.id), "how": "Signed form", "given_on": (today - timedelta(days=1)).isoformat(),
        "until": (today + timedelta(days=30)).isoformat(), "document": "DOC-42"})
    assert response.status_code == 302
    db.session.refresh(person)
    assert person.consent_how == "Signed form" and person.consent_document == "DOC-42"
    assert consent.mentioned_without_consent(inquiry, "About Amina Yusufzai", now) == []
    assert consent.mentioned_without_consent(inquiry, "About Amina Yusufzai", now + timedelta(days=40)) == [person]
    assert consent.mentioned_without_consent(inquiry, "About Amina alone", now + timedelta(days=40)) == []
    soup = page(client.get(f"/staff/inquiries/{inquiry.id}"))
    assert "Consent on file" in soup.select_one("[data-testid=people]").get_text()
    history = soup.select_one(".history").get_text()
    assert "person concerned added" in history and "consent to disclose recorded" in history


def test_consent_cannot_end_before_it_starts(app) -> None:
    officer = make_user(role="officer")
    inquiry = make_inquiry()
    person = consent.add_person(inquiry, "Amina Yusufzai", "client", None, actor=officer, now=utcnow())
    db.session.commit()
    client = app.test_client()
    sign_in(client, officer)
    client.post(f"/staff/inquiries/{inquiry.id}/consent", data={
        "person": str(person.id), "how": "Email", "given_on": "2026-05-01", "until": "2026-04-01"})
    db.session.refresh(person)
    assert person.consent_given_on is None


def test_people_concerned_are_need_to_know(app) -> None:
    holder = make_user(role="officer")
    other = make_user(role="officer")
    inquiry = make_inquiry()
    consent.add_person(inquiry, "Amina Yusufzai", "client", "UCI 1122334455", actor=holder, now=utcnow())
    protection.restrict(inquiry, "At risk", actor=holder, now=utcnow())
    db.session.commit()
    client = app.test_client()
    sign_in(client, other)
    html = client.get(f"/staff/inquiries/{inquiry.id}").get_data(as_text=True)
    assert "Yusufzai" not in html and "1122334455" not in html
    assert client.post(f"/staff/inquiries/{inquiry.id}/people",
                       data={"name": "X", "relationship": "y"}).status_code == 403
    assert len(consent.people_of(inquiry)) == 1
