"""One message builder: headers, parts, languages, and no header injection anywhere."""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

import pytest

from inquiry_desk.core.extensions import db
from inquiry_desk.mail import services as mail
from inquiry_desk.mail.builder import build_message
from inquiry_desk.mail.errors import HeaderInjectionError
from inquiry_desk.mail.rendering import RenderedEmail, render_email

from .support import T0, count_rows, memory, queue


@pytest.fixture
def app(app_factory):
    app = app_factory(MAIL_FROM="Inquiry Desk <inquiries@example.org>", MAIL_REPLY_TO="stakeholders@example.org")
    with app.app_context():
        yield app


def test_text_and_html_message_with_every_header(app) -> None:
    row = queue("inquiry:1:reply", to="farida@example.net", subject="Your inquiry INQ-2026-000001",
                text="Hello Farida,\nHere is our answer.\n", html="<p>Hello Farida,</p><p>Here is our answer.</p>",
                automatic=True, headers={"In-Reply-To": "<q1@example.net>", "References": "<q1@example.net>"})
    db.session.commit()
    message = build_message(row)

    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert message.get_body(("plain",)).get_content() == "Hello Farida,\nHere is our answer.\n"
    assert message.get_body(("html",)).get_content().strip() == "<p>Hello Farida,</p><p>Here is our answer.</p>"
    assert message["From"] == "Inquiry Desk <inquiries@example.org>"
    assert message["To"] == "farida@example.net"
    assert message["Reply-To"] == "stakeholders@example.org"  # MAIL_REPLY_TO by default
    assert message["Subject"] == "Your inquiry INQ-2026-000001"
    assert message["Message-ID"] == row.message_id
    assert re.fullmatch(r"<[^<>@\s]+@example\.org>", row.message_id)  # the sender's domain
    assert parsedate_to_datetime(message["Date"]) == T0  # the time it was queued, with its zone
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["Content-Language"] == "en"
    assert message["In-Reply-To"] == message["References"] == "<q1@example.net>"
    # Rebuilding (a retry) gives the same Message-ID, so a receiver can drop a duplicate.
    assert build_message(row)["Message-ID"] == row.message_id


def test_a_person_s_email_is_not_marked_automatic(app) -> None:
    row = queue("inquiry:1:answer", reply_to="officer.team@example.org", language="fr")
    other = queue("inquiry:2:answer")
    db.session.commit()
    message = build_message(row)
    assert "Auto-Submitted" not in message
    assert message["Reply-To"] == "officer.team@example.org"  # the caller's choice wins over MAIL_REPLY_TO
    assert message["Content-Language"] == "fr"
    assert message.get_content_type() == "text/plain" and not message.is_multipart()  # no HTML given
    assert other.message_id != row.message_id


def test_no_reply_to_when_none_is_configured(app_factory) -> None:
    app = app_factory(MAIL_REPLY_TO="")
    with app.app_context():
        row = queue()
        db.session.commit()
        assert "Reply-To" not in build_message(row)


def test_french_accents_survive_a_round_trip_through_bytes(app) -> None:
    subject = "Réponse à votre demande INQ-2026-000123 : parrainage privé de la famille d'Hélène Côté — été"
    text = "Bonjour Hélène,\nÇa avance : la décision est prévue à la fin de l'été.\nÀ bientôt, François\n"
    html = "<p>Bonjour Hélène,</p><p>Ça avance : décision prévue à la fin de l'été.</p>"
    row = queue(subject=subject, text=text, html=html, language="fr")
    db.session.commit()

    raw = build_message(row).as_bytes()
    header_block = raw.split(b"\n\n", 1)[0]
    header_block.decode("ascii")  # headers are 7-bit on the wire (encoded words), whatever the language
    assert all(len(line) <= 78 for line in header_block.split(b"\n"))  # long subject folded
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert parsed["Subject"] == subject
    assert parsed.get_body(("plain",)).get_content() == text
    assert parsed.get_body(("html",)).get_content().strip() == html
    assert parsed["Content-Language"] == "fr"


BREAKS = ["\r\n", "\n", "\r", "\u2028"]
INJECTED = "Bcc: everyone@example.com"


def _rendered(subject: str = "Hello") -> RenderedEmail:
    return RenderedEmail(subject, "body\n", None)


INJECTIONS = {
    "subject": lambda brk: {"rendered": _rendered(f"Hello{brk}{INJECTED}")},
    "to": lambda brk: {"to": f"farida@example.net{brk}{INJECTED}"},
    "reply_to": lambda brk: {"reply_to": f"officer@example.org{brk}{INJECTED}"},
    "header value": lambda brk: {"headers": {"In-Reply-To": f"<q1@example.net>{brk}{INJECTED}"}},
    "header name": lambda brk: {"headers": {f"X-Note{brk}Bcc": "everyone@example.com"}},
}


@pytest.mark.parametrize("field", list(INJECTIONS))
def test_line_breaks_in_any_header_are_refused_before_anything_is_written(app, field: str) -> None:
    for brk in BREAKS:  # CRLF, bare LF, bare CR, and a Unicode line separator
        arguments = {"to": "farida@example.net", "rendered": _rendered(), "headers": None, "reply_to": None}
        arguments.update(INJECTIONS[field](brk))
        try:
            mail.queue_email(cause_key="inquiry:1:confirmation", language="en", now=T0, **arguments)
        except HeaderInjectionError:
            pass
        else:
            pytest.fail(f"{field} with {brk!r} was accepted")
        assert not db.session.new and count_rows() == 0, repr(brk)
        assert mail.QUEUED_KEY not in db.session.info, repr(brk)
    db.session.commit()
    assert mail.deliver_due(T0).sent == 0 and memory(app) == []


def test_a_header_name_with_a_colon_is_refused(app) -> None:
    with pytest.raises(HeaderInjectionError):
        queue(headers={"X-Note: x\r\nBcc": "everyone@example.com"})
    with pytest.raises(HeaderInjectionError):
        queue(headers={"Bcc:": "everyone@example.com"})
    assert count_rows() == 0


def test_render_email_in_french_escapes_html_and_keeps_the_subject_on_one_line(app) -> None:
    rendered = render_email(
        "inquiry_confirmation", "fr", name="Hélène <b>Côté</b>", reference="INQ-2026-000123\r\nBcc: x@example.com",
        subject="Délais", message="<script>alert(1)</script>", portal_url="https://desk.example.org/fr/portail/abc",
        link_days=90, topic=None, include_message=True,
    )
    assert rendered.subject == "Votre demande INQ-2026-000123 Bcc: x@example.com"
    assert rendered.text.startswith("Bonjour Hélène <b>Côté</b>,")  # text is not HTML: kept as typed
    assert "<script>alert(1)</script>" in rendered.text
    assert rendered.html is not None
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html and "<script>" not in rendered.html
    assert "Hélène &lt;b&gt;Côté&lt;/b&gt;" in rendered.html
    # The one-line subject is accepted by the outbox: a typed line break cannot split a header.
    row = mail.queue_email(cause_key="inquiry:1:confirmation", to="farida@example.net", rendered=rendered,
                           language="fr", now=T0)
    db.session.commit()
    assert build_message(row)["Subject"] == rendered.subject
