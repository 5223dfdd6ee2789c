"""Attachments through the pages: downloads for the inquiry's readers only (restricted inquiries
too), audited; the portal serves only its own thread's files; the form, the portal and a staff
reply take files and refuse them file by file, in both languages, keeping what was typed."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import attachments, correspondence, protection, triage
from inquiry_desk.inquiries import services as inquiries
from inquiry_desk.inquiries.attachments import Upload
from inquiry_desk.inquiries.models import Attachment, Inquiry
from inquiry_desk.mail import services as mail
from inquiry_desk.mail.models import OutgoingEmail

from ..attachment_files import EXE, HTML, PDF, PNG
from ..helpers import form_errors, inquiry_form_data, make_inquiry, make_user, page, sign_in


@pytest.fixture
def app(app_factory: Callable[..., Flask], tmp_path: Path) -> Iterator[Flask]:
    app = app_factory(ATTACHMENTS_DIR=str(tmp_path / "files"))
    with app.app_context():
        yield app


def _with_file(data: bytes = PDF, name: str = "form.pdf", **inquiry: object) -> tuple[Inquiry, Attachment]:
    made = make_inquiry(**inquiry)  # type: ignore[arg-type]
    row = attachments.attach(made.messages[0], [Upload(name, data)], now=utcnow())[0]
    db.session.commit()
    return made, row


def _client(app: Flask, role: str = "officer") -> FlaskClient:
    client = app.test_client()
    client.user = make_user(role=role)  # type: ignore[attr-defined]
    sign_in(client, client.user)  # type: ignore[attr-defined]
    return client


def _url(inquiry: Inquiry, row: Attachment) -> str:
    return f"/staff/inquiries/{inquiry.id}/attachments/{row.id}"


def _downloads(action: str = attachments.DOWNLOADED) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_staff_download_is_an_attachment_never_sniffed_and_audited(app: Flask) -> None:
    inquiry, row = _with_file(PNG, "photo.jpg")
    client = _client(app, "viewer")
    response = client.get(_url(inquiry, row))
    assert response.status_code == 200 and response.data == PNG
    assert response.mimetype == "image/png"
    assert response.headers["Content-Disposition"] == "attachment; filename=photo.jpg.png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]
    assert "sandbox" in response.headers["Content-Security-Policy"]
    [event] = _downloads()
    assert event.actor_id == client.user.id and event.subject_id == inquiry.id  # type: ignore[attr-defined]
    assert event.details == {"attachment_id": row.id}


def test_a_file_is_only_reached_through_its_own_inquiry(app: Flask) -> None:
    inquiry, row = _with_file()
    other = make_inquiry(email="other@example.net")
    refused = attachments.attach(inquiry.messages[0], [Upload("x.pdf", EXE)], now=utcnow(), keep_refused=True)[0]
    db.session.commit()
    client = _client(app)
    assert client.get(_url(other, row)).status_code == 404
    assert client.get(_url(inquiry, refused)).status_code == 404  # nothing was kept
    assert client.get(f"/staff/inquiries/{inquiry.id}/attachments/99999999999").status_code == 404
    assert app.test_client().get(_url(inquiry, row)).status_code in (302, 401)  # signed out: no file
    assert _downloads() == []


def test_a_restricted_inquirys_files_follow_need_to_know(app: Flask) -> None:
    inquiry, row = _with_file()
    holder = make_user()
    triage.assign(inquiry, holder, actor=holder, now=utcnow())
    protection.restrict(inquiry, "Safety of a family member", actor=holder, now=utcnow())
    db.session.commit()
    outsider, lead = _client(app), _client(app, "lead")
    assert outsider.get(_url(inquiry, row)).status_code == 403
    assert lead.get(_url(inquiry, row)).status_code == 403  # a lead gives a reason first
    protection.justify_access(inquiry, "Audit of the case file", actor=lead.user, now=utcnow())  # type: ignore[attr-defined]
    db.session.commit()
    assert lead.get(_url(inquiry, row)).status_code == 200
    holder_client = app.test_client()
    sign_in(holder_client, holder)
    assert holder_client.get(_url(inquiry, row)).status_code == 200
    assert sorted(event.actor_id for event in _downloads()) == sorted([lead.user.id, holder.id])  # type: ignore[attr-defined]


def _portal(inquiry: Inquiry, lang: str = "en") -> str:
    _link, token = inquiries.create_portal_link(inquiry, now=utcnow())
    db.session.commit()
    return f"/{lang}/portal/{token}" if lang == "en" else f"/fr/portail/{token}"


def test_the_portal_serves_only_its_own_threads_files(app: Flask, client: FlaskClient) -> None:
    inquiry, own = _with_file()
    officer = make_user()
    note = triage.add_note(inquiry, "Checked the scan", actor=officer, now=utcnow())
    db.session.flush()
    internal = attachments.attach(note, [Upload("internal.png", PNG)], now=utcnow())[0]
    _other, foreign = _with_file(PNG, "theirs.png", email="someone@example.net")
    path = _portal(inquiry)

    soup = page(client.get(path))
    links = [a["href"] for a in soup.select("[data-testid=attachment]")]
    assert links == [f"{path}/files/{own.id}"]
    response = client.get(links[0])
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"] == "attachment; filename=form.pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"{path}/files/{internal.id}").status_code == 404
    assert client.get(f"{path}/files/{foreign.id}").status_code == 404
    assert client.get(f"/en/portal/{'A' * 43}/files/{own.id}").status_code == 404
    [event] = _downloads(attachments.DOWNLOADED_BY_STAKEHOLDER)
    assert event.actor_id is None and event.details == {"attachment_id": own.id}


def test_the_form_takes_files_and_refuses_a_liar_file_by_file_keeping_the_text(app: Flask,
                                                                                client: FlaskClient) -> None:
    data = inquiry_form_data(subject="Our documents")
    data["attachments"] = [(io.BytesIO(EXE), "invoice.pdf"), (io.BytesIO(PNG), "site.png")]
    soup = page(client.post("/en/inquiry", data=data, content_type="multipart/form-data"))
    errors = form_errors(soup)
    assert errors[0].startswith("invoice.pdf: This type of file is not accepted.")
    assert "Choose the files again" in errors[1] and len(errors) == 2
    assert soup.select_one("#subject")["value"] == "Our documents"
    assert "We submitted our application in March" in soup.select_one("#message").get_text()
    assert soup.select_one("#attachments")["aria-describedby"] == "attachments-hint attachments-error"
    assert db.session.scalar(select(Inquiry)) is None

    data = inquiry_form_data(language="fr")
    data["attachments"] = [(io.BytesIO(HTML), "page.txt")]
    soup = page(client.post("/fr/demande", data=data, content_type="multipart/form-data"), lang="fr")
    assert form_errors(soup)[0].startswith("page.txt : Ce type de fichier n’est pas accepté.")

    data = inquiry_form_data()
    data["attachments"] = [(io.BytesIO(PNG), "site.png"), (io.BytesIO(b""), "")]  # an empty picker adds a part
    assert client.post("/en/inquiry", data=data, content_type="multipart/form-data").status_code == 302
    made = db.session.scalars(select(Inquiry)).one()
    assert [(row.filename, row.content_type) for row in db.session.scalars(select(Attachment))] == [
        ("site.png", "image/png")]
    assert made.messages[0].id == db.session.scalars(select(Attachment)).one().message_id


def test_a_portal_reply_with_a_file_shows_in_both_threads(app: Flask, client: FlaskClient) -> None:
    inquiry = make_inquiry()
    path = _portal(inquiry, "fr")
    refused = client.post(path, data={"message": "Voici le document.", "attachments": [(io.BytesIO(EXE), "a.pdf")]},
                          content_type="multipart/form-data")
    soup = page(refused, lang="fr")
    assert form_errors(soup)[0].startswith("a.pdf : Ce type de fichier")
    assert "Voici le document." in soup.select_one("#message").get_text()
    sent = client.post(path, data={"message": "Voici le document.", "attachments": [(io.BytesIO(PDF), "doc.pdf")]},
                       content_type="multipart/form-data")
    assert sent.status_code == 302
    soup = page(client.get(path), lang="fr")
    assert [a.get_text() for a in soup.select("[data-testid=attachment]")] == ["doc.pdf"]
    staff = _client(app)
    soup = page(staff.get(f"/staff/inquiries/{inquiry.id}"))
    [link] = soup.select("[data-testid=attachment]")
    assert link.get_text() == "doc.pdf" and staff.get(link["href"]).data == PDF


def test_a_staff_reply_sends_its_files_and_refuses_a_wrong_one(app: Flask) -> None:
    inquiry = make_inquiry()
    staff = _client(app)
    base = {"body": "Here is the signed letter.", "language": "en", "next_status": "waiting",
            "version": str(inquiry.version)}
    refused = staff.post(f"/staff/inquiries/{inquiry.id}/reply", content_type="multipart/form-data",
                         data={**base, "attachments": [(io.BytesIO(HTML), "letter.pdf")]})
    soup = page(refused, status=422)
    assert form_errors(soup)[0].startswith("letter.pdf: This type of file is not accepted.")
    assert "Here is the signed letter." in soup.select_one("#body").get_text()
    assert db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.cause_key.like("%:reply:%"))).all() == []
    sent = staff.post(f"/staff/inquiries/{inquiry.id}/reply", content_type="multipart/form-data",
                      data={**base, "attachments": [(io.BytesIO(PDF), "letter.pdf")]})
    assert sent.status_code == 302
    email = db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.cause_key.like("%:reply:%"))).one()
    assert email.attachments == [{"sha256": attachments.file_store.digest(PDF), "filename": "letter.pdf",
                                  "content_type": "application/pdf"}]
    soup = page(staff.get(f"/staff/inquiries/{inquiry.id}"))
    assert [a.get_text() for a in soup.select("[data-testid=attachment]")] == ["letter.pdf"]


def test_the_thread_tells_staff_which_files_were_refused_and_why(app: Flask) -> None:
    inquiry = make_inquiry()
    attachments.attach(inquiry.messages[0], [Upload("virus.pdf", EXE, "application/pdf")], now=utcnow(),
                       keep_refused=True)
    db.session.commit()
    soup = page(_client(app).get(f"/staff/inquiries/{inquiry.id}"))
    [item] = soup.select("[data-testid=attachment-refused]")
    assert "virus.pdf" in item.get_text() and "This type of file is not accepted" in item.get_text()


def test_a_merge_takes_the_files_with_their_messages(app: Flask) -> None:
    duplicate, row = _with_file()
    target = make_inquiry()
    lead = _client(app, "lead")
    triage.merge(duplicate, target, actor=lead.user, now=utcnow())  # type: ignore[attr-defined]
    db.session.commit()
    assert lead.get(_url(target, row)).data == PDF
    assert lead.get(_url(duplicate, row)).status_code == 404


def test_a_reply_waiting_to_leave_whose_file_is_erased_is_held_back_and_staff_are_told(app: Flask) -> None:
    inquiry = make_inquiry()
    reply = correspondence.send_reply(inquiry, "Here is the form.", actor=make_user(), now=utcnow(),
                                      files=[Upload("form.pdf", PDF)])
    db.session.commit()  # queued; the mail server is away, say, and it has not left yet
    protection.redact_message(reply, "Sent to the wrong person", actor=make_user(role="lead"), now=utcnow())
    db.session.commit()

    email = db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.message_id == reply.email_message_id)).one()
    assert (email.status, email.last_error) == ("failed", attachments.NOT_SENT_ERROR)
    assert not attachments.file_store.exists(attachments.file_store.digest(PDF))
    mail.deliver_due(utcnow())
    assert email.message_id not in [message["Message-ID"] for message in app.extensions["mail_memory"]]
    [noted] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == attachments.REPLY_NOT_SENT)).all()
    assert (noted.subject_id, noted.details) == (inquiry.id, {"message_id": reply.id})

    for lang, note, line in (
        ("en", "Not sent: a file attached to this reply was erased before it left",
         "a reply was not sent: a file attached to it was erased before it left"),
        ("fr", "Non envoyée : un fichier joint à cette réponse a été effacé avant son départ",
         "une réponse n’a pas été envoyée : un fichier joint a été effacé avant son départ"),
    ):
        client = _client(app)
        with client.session_transaction() as session:
            session["lang"] = lang
        soup = page(client.get(f"/staff/inquiries/{inquiry.id}"), lang=lang)
        [shown] = soup.select("[data-testid=reply-not-sent]")
        assert note in shown.get_text()
        assert shown.find_parent("li").select_one(".thread-body").get_text() == protection.REDACTED
        assert any(line in item.get_text() for item in soup.select(".history li"))


def test_a_reply_a_sender_holds_is_left_to_it_and_never_leaves_without_its_file(app: Flask) -> None:
    inquiry = make_inquiry()
    reply = correspondence.send_reply(inquiry, "Here is the form.", actor=make_user(), now=utcnow(),
                                      files=[Upload("form.pdf", PDF)])
    email = db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.message_id == reply.email_message_id)).one()
    email.claimed_until = utcnow() + mail.LEASE  # a mail worker has it in hand
    db.session.commit()
    protection.redact_message(reply, "Sent to the wrong person", actor=make_user(role="lead"), now=utcnow())
    db.session.commit()
    assert email.status == "pending"
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == attachments.REPLY_NOT_SENT)).all() == []

    email.claimed_until = None  # the worker builds it now: the file is gone
    db.session.commit()
    mail.deliver([email.id], now=utcnow())
    db.session.refresh(email)
    assert email.status == "failed" and "AttachmentMissing" in (email.last_error or "")
    assert email.message_id not in [message["Message-ID"] for message in app.extensions["mail_memory"]]

