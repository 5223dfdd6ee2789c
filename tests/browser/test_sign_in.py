"""Signing in and setting up the second factor in a real browser, with CSRF checks on."""

from __future__ import annotations

import re

import pyotp
import pytest
from flask import Flask

from ..helpers import current_code
from .support import Page, create_user, expect, submit_password_step, switch_language

pytestmark = pytest.mark.browser


def test_sign_in_with_password_and_totp(page: Page, live_app: Flask, live_server: str) -> None:
    user = create_user(live_app, role="admin")

    page.goto(f"{live_server}/auth/login")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password", exact=True).fill(user.password)
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{live_server}/auth/second-factor")
    code_field = page.get_by_label("Code from your authenticator app, or a recovery code")
    expect(code_field).to_be_focused()  # the field has autofocus
    code_field.fill(current_code(user))  # type: ignore[arg-type]
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{live_server}/staff/")
    expect(page.locator("main")).to_contain_text(user.name)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_enrolment_in_browser(page: Page, live_app: Flask, live_server: str) -> None:
    user = create_user(live_app, enrolled=False)

    submit_password_step(page, live_server, user)

    expect(page).to_have_url(f"{live_server}/auth/enrol")
    qr_code = page.locator(".qr-code[role=img]")
    expect(qr_code).to_be_visible()
    expect(qr_code.locator("svg")).to_be_visible()
    secret = page.locator("[data-testid=totp-secret]").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), f"unexpected key {secret!r}"

    page.get_by_label("6-digit code from your authenticator app").fill(pyotp.TOTP(secret).now())
    page.keyboard.press("Enter")

    codes = page.locator("[data-testid=recovery-codes] li")
    expect(codes).to_have_count(10)
    texts = [text.strip() for text in codes.all_inner_texts()]
    assert len(set(texts)) == 10 and all(texts), texts

    page.locator("main a.button").click()
    expect(page).to_have_url(f"{live_server}/staff/")
    expect(page.locator("main")).to_contain_text(user.name)


def test_first_tab_reaches_the_skip_link(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/auth/login")

    page.keyboard.press("Tab")

    skip_link = page.locator("a.skip-link")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()  # shown on focus, not left off-screen
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_empty_login_form_shows_a_focused_error_summary(page: Page, live_server: str, lang: str) -> None:
    page.goto(f"{live_server}/auth/login")
    if lang == "fr":
        switch_language(page, "fr")

    page.locator("main form [type=submit]").click()

    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    page.wait_for_function("() => document.activeElement && document.activeElement.hasAttribute('data-error-summary')")
    expect(summary.locator("li")).to_have_count(2)  # the email address and the password
    assert page.locator("html").get_attribute("lang") == lang
    expected = {"en": "Error", "fr": "Erreur"}[lang]
    title = page.title()
    assert title.startswith(expected), f"<title> {title!r} does not start with {expected!r}"
