"""Issue 11, C1: every form works over HTTPS, in Chromium, against gunicorn serving TLS.

Flask-WTF's CSRF check wants a same-origin ``Referer`` on every HTTPS POST
(``WTF_CSRF_SSL_STRICT``). A page sent with ``Referrer-Policy: no-referrer`` made the
browser send none, and every public form answered 400; every other CSRF test runs
over plain HTTP and never saw it. Here the production configuration runs under
gunicorn with a throwaway self-signed certificate, and the browser fills the public
forms and the staff sign-in, note, status and sign-out forms.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import services as inquiries

from ..helpers import current_code, make_inquiry
from ..ops.gunicorn_server import Running, serve
from .conftest import DEFAULT_TIMEOUT_MS
from .support import Page, create_user, expect, fill_inquiry_form

pytestmark = pytest.mark.browser


@pytest.fixture
def tls_server(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Running]:
    # ``app`` first: on PostgreSQL it empties the database the server then uses.
    with serve(database_url, tmp_path, tls=True, env={"RATELIMIT_ENABLED": "0"}) as server:
        yield server


def _https_page(browser, lang: str = "en") -> Page:
    context = browser.new_context(ignore_https_errors=True, locale={"en": "en-CA", "fr": "fr-CA"}[lang])
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    return context.new_page()


def _posts(page: Page) -> list[tuple[str, int]]:
    seen: list[tuple[str, int]] = []
    page.on("response", lambda r: seen.append((r.url, r.status)) if r.request.method == "POST" else None)
    return seen


def test_public_forms_over_https(browser, app: Flask, tls_server: Running) -> None:
    inquiry = make_inquiry(email="amelie@example.net", language="fr")
    _, token = inquiries.create_portal_link(inquiry, now=utcnow())
    db.session.commit()
    base = tls_server.base_url
    page = _https_page(browser, "fr")
    posts = _posts(page)

    page.goto(f"{base}/en/inquiry")
    fill_inquiry_form(page, "Bonjour, quand aurons-nous des nouvelles?")
    page.get_by_role("button", name="Send inquiry").click()
    page.wait_for_url(re.compile(r"/en/inquiry/sent$"))
    expect(page.get_by_text(re.compile(r"INQ-\d{4}-\d{6}")).first).to_be_visible()

    page.goto(f"{base}/fr/portail/nouveau-lien")
    page.locator("#reference").fill(inquiry.reference)
    page.locator("#email").fill("amelie@example.net")
    page.locator("#email").press("Enter")
    page.wait_for_load_state("load")
    assert page.locator("html").get_attribute("lang") == "fr"

    page.goto(f"{base}/fr/portail/{token}")
    page.locator("#message").fill("Merci, voici les documents demandés.")
    page.locator("form[data-keep-on-toggle=portal-reply] [type=submit]").click()
    page.wait_for_load_state("load")
    expect(page.get_by_text("Merci, voici les documents demandés.")).to_be_visible()

    assert posts and all(status < 400 for _, status in posts), f"refused over HTTPS: {posts}\n{tls_server.log()}"
    assert len(posts) == 3
    page.context.close()


def test_staff_forms_over_https(browser, app: Flask, tls_server: Running) -> None:
    user = create_user(app, role="officer")
    inquiry = make_inquiry()
    base = tls_server.base_url
    page = _https_page(browser)
    posts = _posts(page)

    page.goto(f"{base}/auth/login")
    page.locator("#email").fill(user.email)
    page.locator("#password").fill(user.password)
    page.locator("#password").press("Enter")
    page.wait_for_url(re.compile(r"/auth/second-factor$"))
    page.locator("#code").fill(current_code(user))  # type: ignore[arg-type]
    page.locator("#code").press("Enter")
    page.wait_for_url(re.compile(r"/staff/"))

    page.goto(f"{base}/staff/inquiries/{inquiry.id}")
    page.locator("#take-submit").click()
    page.wait_for_load_state("load")
    page.locator("form[action$='/note'] textarea").fill("Checked with the settlement partner.")
    page.locator("#note-submit").click()
    page.wait_for_load_state("load")
    expect(page.get_by_text("Checked with the settlement partner.")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/auth/login$"))

    assert len(posts) == 5 and all(status < 400 for _, status in posts), f"refused over HTTPS: {posts}"
    page.context.close()
