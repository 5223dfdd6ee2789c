"""Issue 17 in a real browser: a reply by email appears in the inquiry's thread with its attachment (a download),
the file refused named, and the whole email a click away."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from ..attachment_files import EXE, PDF
from .support import Page, assert_accessible, create_user, expect, sign_in_with_cookie

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_a_reply_by_email_appears_in_the_thread(page_factory: Callable[..., Page], live_app: Flask,
                                                live_server: str, lang: str) -> None:
    from inquiry_desk.core.clock import utcnow
    from inquiry_desk.mail.inbound.ingest import ingest_and_commit

    from ..helpers import make_inquiry
    from ..mail.inbound.support import confirmation_id

    officer = create_user(live_app, role="officer")
    with live_app.app_context():
        inquiry = make_inquiry(email="amal@example.org", subject="Family of five", body="Amal writes")
        inquiry_id, reference, original = inquiry.id, inquiry.reference, confirmation_id(inquiry)
        raw = (f"From: Amal <amal@example.org>\r\nTo: inquiries@example.org\r\n"
               f"Subject: Re: Your inquiry {reference}\r\n"
               f"Message-ID: <browser-reply-{lang}@example.org>\r\nIn-Reply-To: {original}\r\n"
               "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n"
               "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
               "Here are the birth certificates you asked for.\r\n\r\n"
               "On Mon, Nov 30, 2026 at 9:00 AM Inquiry Desk <inquiries@example.org> wrote:\r\n"
               "> Quoted history, kept in the whole email\r\n"
               "--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
               "filename=certificates.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
               f"{base64.b64encode(PDF).decode()}\r\n"
               "--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
               "filename=setup.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
               f"{base64.b64encode(EXE).decode()}\r\n--b1--\r\n").encode()
        assert ingest_and_commit(raw, source="pipe", now=utcnow()).outcome == "threaded"
        from inquiry_desk.core.extensions import db
        from inquiry_desk.inquiries.services import create_portal_link

        _, token = create_portal_link(inquiry, now=utcnow())
        db.session.commit()
    page = page_factory(lang)
    sign_in_with_cookie(page, live_app, live_server, officer, lang)
    page.goto(f"{live_server}/staff/inquiries/{inquiry_id}")
    expect(page.locator(".thread-inbound .thread-body")).to_have_text(
        ["Amal writes", "Here are the birth certificates you asked for."])
    link = page.locator("[data-testid=whole-email]")
    expect(link).to_have_count(1)
    # Its attachment is in the thread, and the file refused is named with the reason.
    reply = page.locator(".thread-inbound").nth(1)
    expect(reply.locator("[data-testid=attachment]")).to_have_text("certificates.pdf")
    expect(reply.locator("[data-testid=attachment-refused]")).to_contain_text("setup.pdf")
    assert_accessible(page)
    with page.expect_download() as download:
        reply.locator("[data-testid=attachment]").click()
    assert download.value.suggested_filename == "certificates.pdf"
    assert Path(download.value.path()).read_bytes() == PDF
    response = page.request.get(f"{live_server}{reply.locator('[data-testid=attachment]').get_attribute('href')}")
    assert response.headers["content-disposition"] == "attachment; filename=certificates.pdf"
    assert response.headers["x-content-type-options"] == "nosniff"
    response = page.request.get(f"{live_server}{link.get_attribute('href')}")
    assert response.status == 200 and response.headers["content-type"].startswith("text/plain")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "> Quoted history, kept in the whole email" in response.text()

    # The requester's portal shows the reply too, and the whole email behind a disclosure.
    portal = page_factory(lang)
    portal.goto(f"{live_server}/{lang}/{'portal' if lang == 'en' else 'portail'}/{token}")
    expect(portal.locator(".thread-inbound > .thread-body")).to_have_text(
        ["Amal writes", "Here are the birth certificates you asked for."])
    expect(portal.locator(".thread-inbound [data-testid=attachment]")).to_have_text("certificates.pdf")
    portal.locator("[data-testid=whole-email] summary").click()
    expect(portal.locator("[data-testid=whole-email] pre")).to_contain_text("> Quoted history, kept in the whole email")
    assert_accessible(portal)
