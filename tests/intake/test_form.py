"""The public inquiry form: a complete submission in each language, validation, spam."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import func, select

from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Contact
from inquiry_desk.inquiries.models import Inquiry, MessageKind
from inquiry_desk.intake.spam import form_started_token

from ..helpers import form_errors, inquiry_form_data, page
from .mailbox import sent_messages, text_body

FORM = {"en": "/en/inquiry", "fr": "/fr/demande"}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_complete_submission(app, client, lang: str) -> None:
    soup = page(client.get(FORM[lang]), lang=lang)
    assert soup.select_one("#consent") is not None and soup.select_one(".privacy-notice a")
    assert soup.select_one("#language option[selected]")["value"] == lang

    response = client.post(FORM[lang], data=inquiry_form_data(language=lang, email="Farida@Example.NET"))
    assert response.status_code == 302
    soup = page(client.get(response.headers["Location"]), lang=lang)
    reference = soup.select_one("[data-testid=reference]").get_text(strip=True)
    assert re.fullmatch(r"INQ-\d{4}-\d{6}", reference)

    inquiry = db.session.scalar(select(Inquiry).where(Inquiry.reference == reference))
    assert inquiry.language == lang and inquiry.status == "new" and inquiry.channel == "web"
    assert inquiry.contact.email == "farida@example.net" and inquiry.contact.language == lang
    assert inquiry.topic.code == "private_sponsorship" and inquiry.organisation_kind == "private_sponsor"
    assert not inquiry.trusted_partner and inquiry.organisation_id is None
    assert [m.kind for m in inquiry.messages] == [MessageKind.INBOUND.value]

    [confirmation] = sent_messages(app)
    assert confirmation["To"] == "farida@example.net"
    assert reference in confirmation["Subject"]
    assert confirmation["Auto-Submitted"] == "auto-replied"
    assert confirmation["Message-ID"] and confirmation["Date"]
    body = text_body(confirmation)
    assert "When can we expect news?" not in body  # a mailbox is no protected channel (issue 10 defect 8)
    greeting = "Bonjour" if lang == "fr" else "Hello"
    assert body.startswith(f"{greeting} Farida Rahimi")
    link = re.search(r"https?://\S+/(portal|portail)/\S+", body).group(0)
    assert ("/fr/portail/" if lang == "fr" else "/en/portal/") in link
    path = link.split("://", 1)[1].split("/", 1)[1]
    portal = page(client.get("/" + path), lang=lang)
    assert reference in portal.h1.get_text()
    assert "When can we expect news?" in portal.get_text()


@pytest.mark.parametrize("lang, message", [
    ("en", "Enter your name."),
    ("fr", "Entrez votre nom."),
])
def test_every_field_is_checked_in_the_page_language(client, lang: str, message: str) -> None:
    data = inquiry_form_data(name="", email="not an email", organisation_kind="", topic="", subject="",
                             message="", consent="", phone="call me maybe")
    data.pop("consent")
    soup = page(client.post(FORM[lang], data=data), lang=lang)
    errors = form_errors(soup)
    assert message in errors
    assert len(errors) == 8
    assert soup.title.get_text().startswith("Erreur" if lang == "fr" else "Error")
    for field in ("name", "email", "phone", "organisation_kind", "topic", "subject", "message", "consent"):
        assert soup.select_one(f"#{field}")["aria-invalid"] == "true", field
    # Nothing typed is lost.
    assert soup.select_one("#organisation")["value"] == "Community Sponsors of Halifax"
    assert soup.select_one("#phone")["value"] == "call me maybe"
    assert db.session.scalar(select(func.count()).select_from(Inquiry)) == 0


def test_length_limits(client) -> None:
    soup = page(client.post(FORM["en"], data=inquiry_form_data(subject="x" * 201, message="y" * 20001)))
    assert "Use 200 characters or fewer." in form_errors(soup)
    assert "Use 20,000 characters or fewer." in form_errors(soup)


def test_honeypot_is_refused(app, client) -> None:
    soup = page(client.post(FORM["en"], data=inquiry_form_data(website="http://spam.example")))
    assert form_errors(soup) and db.session.scalar(select(func.count()).select_from(Inquiry)) == 0
    assert sent_messages(app) == []


def test_too_fast_is_refused_then_accepted(app, client) -> None:
    with app.test_request_context():
        started = form_started_token(time.time())
    soup = page(client.post(FORM["en"], data=inquiry_form_data(started=started)))
    assert form_errors(soup)
    assert client.post(FORM["en"], data=inquiry_form_data()).status_code == 302


def test_forged_start_time_is_refused(client) -> None:
    soup = page(client.post(FORM["en"], data=inquiry_form_data(started="1700000000")))
    assert form_errors(soup)


def test_submissions_are_rate_limited(client) -> None:
    statuses = [client.post(FORM["en"], data=inquiry_form_data(subject=f"Question {i}")).status_code
                for i in range(6)]
    assert statuses[:5] == [302] * 5 and statuses[5] == 429
    soup = page(client.post(FORM["en"], data=inquiry_form_data()), status=429)
    assert "Too many" in soup.h1.get_text()


def test_a_returning_contact_is_one_contact(client) -> None:
    client.post(FORM["en"], data=inquiry_form_data())
    client.post(FORM["fr"], data=inquiry_form_data(language="fr", subject="Deuxième question"))
    contacts = db.session.scalars(select(Contact)).all()
    assert len(contacts) == 1 and contacts[0].language == "fr"


def test_stored_xss_renders_inert(client, signed_in) -> None:
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    client.post(FORM["en"], data=inquiry_form_data(subject=payload, message=payload, name=payload))
    staff = signed_in("viewer")
    html = staff.get("/staff/inquiries/").get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_line_breaks_in_one_line_fields_are_refused(app, client) -> None:
    soup = page(client.post(FORM["en"], data=inquiry_form_data(name="Eve\r\nBcc: victim@example.org",
                                                               subject="Hi\nBcc: victim@example.org")))
    assert form_errors(soup).count("Use one line, without line breaks.") == 2
    assert sent_messages(app) == []


def test_a_message_of_exactly_the_limit_with_line_breaks_is_accepted(app, client) -> None:
    """Issue 10 defect 5: the browser counts a line break once and sends CRLF; the server must count the same."""
    message = ("x" * 99 + "\n") * 199 + "x" * 100  # 20,000 characters in the browser's count
    sent = message.replace("\n", "\r\n")
    assert len(message) == 20_000 and len(sent) > 20_000
    response = client.post(FORM["en"], data=inquiry_form_data(message=sent))
    assert response.status_code == 302
    inquiry = db.session.scalar(select(Inquiry))
    assert inquiry.messages[0].body == message


@pytest.mark.parametrize("field", ["name", "subject", "message", "organisation"])
def test_a_nul_byte_or_control_character_is_refused_with_a_clear_message(app, client, field: str) -> None:
    """Issue 11 H2: on PostgreSQL a NUL byte was a 500 (and the SQL parameters went to the log)."""
    soup = page(client.post(FORM["en"], data=inquiry_form_data(**{field: "secret abc\x00def"})))
    assert "Remove the invisible control characters (for example from a copy and paste)." in form_errors(soup)
    assert db.session.scalar(select(func.count()).select_from(Inquiry)) == 0


def test_fields_of_spaces_alone_are_refused(app, client) -> None:
    soup = page(client.post(FORM["en"], data=inquiry_form_data(name="   ", subject=" \t ", message="\r\n  \r\n")))
    assert {"Enter your name.", "Enter a subject.", "Enter your message."} <= set(form_errors(soup))
    assert db.session.scalar(select(func.count()).select_from(Inquiry)) == 0


def test_home_page_links_to_the_form_in_each_language(client) -> None:
    soup = page(client.get("/", headers={"Accept-Language": "en"}))
    hrefs = {a["href"] for a in soup.select("main a")}
    assert "/en/inquiry" in hrefs and "/fr/demande" in hrefs
