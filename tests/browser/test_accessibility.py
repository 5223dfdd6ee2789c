"""axe-core (WCAG 2.1 A and AA, and best practices) on the pages, in English and in French.

Each page is first shown in the other language (the browser asks for it), then
the header's toggle link switches it, so the toggle is checked both ways too.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from .support import (
    Page,
    assert_accessible,
    create_user,
    expect,
    sign_in_with_form,
    submit_password_step,
    switch_language,
)

pytestmark = pytest.mark.browser

OTHER = {"en": "fr", "fr": "en"}


def _home(page: Page, app: Flask, base: str) -> None:
    page.goto(f"{base}/")


def _login(page: Page, app: Flask, base: str) -> None:
    page.goto(f"{base}/auth/login")


def _login_with_errors(page: Page, app: Flask, base: str) -> None:
    page.goto(f"{base}/auth/login")
    page.locator("main form [type=submit]").click()
    expect(page.locator("[data-error-summary]")).to_be_visible()


def _second_factor(page: Page, app: Flask, base: str) -> None:
    submit_password_step(page, base, create_user(app))
    expect(page).to_have_url(f"{base}/auth/second-factor")


def _enrol(page: Page, app: Flask, base: str) -> None:
    submit_password_step(page, base, create_user(app, enrolled=False))
    expect(page).to_have_url(f"{base}/auth/enrol")


def _admin_users(page: Page, app: Flask, base: str) -> None:
    create_user(app, role="officer", enrolled=False)  # a few rows of each kind
    sign_in_with_form(page, base, create_user(app, role="admin"))
    page.goto(f"{base}/staff/admin/users")
    expect(page.locator("main table")).to_be_visible()


def _admin_jobs(page: Page, app: Flask, base: str) -> None:
    with app.app_context():
        from inquiry_desk.core.extensions import db
        from inquiry_desk.mail.models import OutgoingEmail

        from ..mail.support import T0, queue

        row: OutgoingEmail = queue("a11y:failed", to="bounced@example.net", now=T0)
        row.status, row.last_error = "failed", "PermanentDeliveryError 550: refused"
        db.session.commit()
    sign_in_with_form(page, base, create_user(app, role="admin"))
    page.goto(f"{base}/staff/admin/jobs/")
    expect(page.locator("#failed-emails")).to_be_visible()


def _account(page: Page, app: Flask, base: str) -> None:
    sign_in_with_form(page, base, create_user(app, role="viewer"))
    page.goto(f"{base}/staff/account")
    expect(page.locator("main h1")).to_be_visible()


PAGES: dict[str, Callable[[Page, Flask, str], None]] = {
    "home": _home,
    "login": _login,
    "login-with-errors": _login_with_errors,
    "second-factor": _second_factor,
    "enrol": _enrol,
    "admin-users": _admin_users,
    "admin-jobs": _admin_jobs,
    "account": _account,
}


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("name", list(PAGES))
def test_page_is_accessible(
    page_factory: Callable[..., Page], live_app: Flask, live_server: str, name: str, lang: str
) -> None:
    page = page_factory(OTHER[lang])
    PAGES[name](page, live_app, live_server)
    assert page.locator("html").get_attribute("lang") == OTHER[lang]

    if name == "login-with-errors":
        # The toggle is a link (a GET): it shows the page again without the errors,
        # so the errors are made again in the new language.
        switch_language(page, lang)
        _login_with_errors(page, live_app, live_server)
    else:
        switch_language(page, lang)

    assert page.locator("html").get_attribute("lang") == lang
    assert_accessible(page)
