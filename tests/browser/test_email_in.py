"""Issue 17 in a real browser: a reply by email appears in the inquiry's thread, with the whole email a click away."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

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
               "Content-Type: text/plain; charset=utf-8\r\n\r\n"
               "Here are the birth certificates you asked for.\r\n\r\n"
               "On Mon, Nov 30, 2026 at 9:00 AM Inquiry Desk <inquiries@example.org> wrote:\r\n"
               "> Quoted history, kept in the whole email\r\n").encode()
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
    assert_accessible(page)
    response = page.request.get(f"{live_server}{link.get_attribute('href')}")
    assert response.status == 200 and response.headers["content-type"].startswith("text/plain")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "> Quoted history, kept in the whole email" in response.text()

    # The requester's portal shows the reply too, and the whole email behind a disclosure.
    portal = page_factory(lang)
    portal.goto(f"{live_server}/{lang}/{'portal' if lang == 'en' else 'portail'}/{token}")
    expect(portal.locator(".thread-inbound > .thread-body")).to_have_text(
        ["Amal writes", "Here are the birth certificates you asked for."])
    portal.locator("[data-testid=whole-email] summary").click()
    expect(portal.locator("[data-testid=whole-email] pre")).to_contain_text("> Quoted history, kept in the whole email")
    assert_accessible(portal)
