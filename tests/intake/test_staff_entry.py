"""Staff log an inquiry received by phone, in a meeting or forwarded (issue 10): stakeholder optional,
confirmation only when asked, recorded in the history."""

from __future__ import annotations

from sqlalchemy import func, select

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.models import Inquiry
from inquiry_desk.mail.models import OutgoingEmail

from ..helpers import form_errors, page

NEW = "/staff/inquiries/new"


def _data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {"channel": "phone", "subject": "Caller asks about a permit",
                               "message": "Mr. Haddad called about\r\nhis sponsorship permit.", "topic": "",
                               "language": "en", "name": "", "email": "", "phone": "", "organisation": ""}
    data.update(overrides)
    return data


def _emails() -> int:
    return db.session.scalar(select(func.count()).select_from(OutgoingEmail)) or 0


def test_a_phone_inquiry_without_a_stakeholder(app, signed_in) -> None:
    officer = signed_in("officer")
    page(officer.get(NEW))
    response = officer.post(NEW, data=_data())
    assert response.status_code == 302
    inquiry = db.session.scalar(select(Inquiry))
    assert (inquiry.channel, inquiry.contact_id, inquiry.status) == ("phone", None, "new")
    assert inquiry.messages[0].body == "Mr. Haddad called about\nhis sponsorship permit."
    assert _emails() == 0
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.subject_id == inquiry.id,
                                                                 AuditEvent.subject_type == "inquiry")).all()
    assert {"inquiry.received", "inquiry.logged_by_staff"} <= set(actions)
    soup = page(officer.get(response.headers["Location"]))
    text = soup.get_text()
    assert "logged by staff" in text and "None given" in text
    assert soup.select_one("[data-testid=no-stakeholder]") is not None
    assert soup.select_one("#reply-title") is None  # nobody to reply to
    inbox = page(officer.get("/staff/inquiries/?queue=all")).get_text()
    assert "Caller asks about a permit" in inbox and "No stakeholder" in inbox
    # a reply is refused by the service too
    assert officer.post(f"/staff/inquiries/{inquiry.id}/reply", data={"body": "Hello", "language": "en",
                                                                       "version": inquiry.version}).status_code in (
        302, 422)
    assert _emails() == 0


def test_a_stakeholder_is_confirmed_only_when_asked(app, signed_in) -> None:
    officer = signed_in("officer")
    assert officer.post(NEW, data=_data(channel="manual", name="Nadia Haddad", email="nadia@example.net",
                                        language="fr")).status_code == 302
    first = db.session.scalar(select(Inquiry))
    assert first.contact.email == "nadia@example.net" and first.channel == "manual"
    assert _emails() == 0
    assert officer.post(NEW, data=_data(name="Nadia Haddad", email="nadia@example.net", language="fr",
                                        send_confirmation="y")).status_code == 302
    email = db.session.scalar(select(OutgoingEmail))
    assert email.to_address == "nadia@example.net" and email.language == "fr"
    second = db.session.scalars(select(Inquiry).order_by(Inquiry.id.desc())).first()
    assert second.reference in email.subject
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "inquiry.logged_by_staff",
                                                       AuditEvent.subject_id == second.id))
    assert event.details["channel"] == "phone" and event.details["confirmation"] is True
    assert event.actor_id == officer.user.id


def test_what_cannot_be_logged_is_said_clearly(app, signed_in) -> None:
    officer = signed_in("officer")
    soup = page(officer.post(NEW, data=_data(send_confirmation="y")), status=422)
    assert "A confirmation needs the stakeholder’s email address." in form_errors(soup)
    soup = page(officer.post(NEW, data=_data(name="Nadia")), status=422)
    assert any("email address too" in error for error in form_errors(soup))
    soup = page(officer.post(NEW, data=_data(subject="", channel="web")), status=422)
    assert "Enter a subject." in form_errors(soup)
    assert db.session.scalar(select(func.count()).select_from(Inquiry)) == 0


def test_viewers_cannot_log(app, signed_in) -> None:
    assert signed_in("viewer").post(NEW, data=_data()).status_code == 403
