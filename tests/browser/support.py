"""Helpers for the browser tests: users, signing in through the forms, languages, axe-core."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask

from ..helpers import PASSWORD, make_user

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the ``browser`` fixture skips (or fails) every test, saying why
    Page = Any  # type: ignore[misc,assignment]
    expect = None  # type: ignore[assignment]

# The rule sets every page must pass (WCAG 2.1 A and AA, and axe's best practices).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


@dataclass(frozen=True)
class BrowserUser:
    """What a browser test needs to know about a user, read while the app context was open."""

    id: int
    name: str
    email: str
    password: str
    totp_secret: str | None


def create_user(app: Flask, **fields: Any) -> BrowserUser:
    """``make_user`` in the live app's database; ``tests.helpers.current_code`` works on the result."""
    with app.app_context():
        user = make_user(**fields)
        return BrowserUser(
            id=user.id,
            name=user.name,
            email=user.email,
            password=fields.get("password", PASSWORD),
            totp_secret=user.totp_secret,
        )


def html_lang(page: Page) -> str | None:
    return page.locator("html").get_attribute("lang")


def switch_language(page: Page, lang: str) -> None:
    """Click the toggle link in the header and check that the page now says it is in ``lang``."""
    before = html_lang(page)
    assert before != lang, f"the page is already in {lang!r}; the toggle would leave it"
    toggle = page.locator("a.lang-toggle")
    assert toggle.get_attribute("hreflang") == lang, "the toggle link does not lead to the expected language"
    toggle.click()
    expect(page.locator("html")).to_have_attribute("lang", lang)
    page.wait_for_load_state("load")


def fill_inquiry_form(page: Page, message: str = "Bonjour,\nQuand aurons-nous des nouvelles?") -> None:
    """Fill the public inquiry form's required fields as quickly as possible (the keyboard has its own test)."""
    page.locator("#name").fill("Amélie Tremblay")
    page.locator("#email").fill("amelie@example.net")
    page.locator("#organisation").fill("Parrains de Gatineau")
    page.locator("#organisation_kind").select_option("private_sponsor")
    page.locator("#topic").select_option("private_sponsorship")
    page.locator("#subject").fill("Délai de parrainage")
    page.locator("#message").fill(message)
    page.locator("#consent").check()


def submit_password_step(page: Page, base_url: str, user: BrowserUser) -> None:
    """Email and password on the real sign-in form; the browser is left on the next step.

    The fields are found by id, so that this works whatever the page's language is
    (``test_sign_in`` finds them by their English labels).
    """
    page.goto(f"{base_url}/auth/login")
    page.locator("#email").fill(user.email)
    page.locator("#password").fill(user.password)
    page.locator("#password").press("Enter")
    page.wait_for_url(re.compile(r"/auth/(second-factor|enrol)$"))


def sign_in_with_form(page: Page, base_url: str, user: BrowserUser) -> None:
    """The whole sign-in, password then TOTP code, through the real forms."""
    from ..helpers import current_code

    submit_password_step(page, base_url, user)
    page.locator("#code").fill(current_code(user))  # type: ignore[arg-type]
    page.locator("#code").press("Enter")
    page.wait_for_url(re.compile(r"/staff/"))


@cache
def _axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


def axe_violations(page: Page, tags: list[str] | None = None) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now and return its violations.

    axe is injected with ``page.evaluate`` (through the DevTools protocol, which
    the page's Content-Security-Policy does not apply to), never with a <script>
    tag, which that policy rightly refuses.
    """
    page.evaluate(_axe_source())
    options = {"runOnly": {"type": "tag", "values": tags or AXE_TAGS}, "resultTypes": ["violations"]}
    results = page.evaluate("options => axe.run(document, options).then(results => results.violations)", options)
    return list(results)


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation.get('impact')}): {violation['help']} [{violation['helpUrl']}]")
        for node in violation["nodes"]:
            target = " ".join(json.dumps(part) if not isinstance(part, str) else part for part in node["target"])
            lines.append(f"    at {target}")
            summary = (node.get("failureSummary") or "").strip().replace("\n", "\n      ")
            if summary:
                lines.append(f"      {summary}")
    return "\n".join(lines)


def assert_accessible(page: Page, tags: list[str] | None = None) -> None:
    """Fail with every axe-core violation on the page (rule, impact, help and the elements)."""
    violations = axe_violations(page, tags)
    if violations:
        raise AssertionError(
            f"axe-core found {len(violations)} accessibility violation(s) on {page.url} "
            f"(lang={html_lang(page)!r}):\n{describe_violations(violations)}"
        )


def sign_in_with_cookie(page: Page, app: Flask, base_url: str, user: BrowserUser, lang: str = "en") -> None:
    """A signed-in staff session put straight into the browser's cookie jar, without the forms.

    The sign-in forms have their own tests (``test_sign_in``); pages that are tested
    for what comes after signing in skip them, which saves a password hash and a
    TOTP code per test. The session is a real one (``accounts.start_session``), in
    the cookie the app itself would have set, with ``lang`` as the language chosen.
    """
    from inquiry_desk.accounts import services as accounts
    from inquiry_desk.accounts.models import User
    from inquiry_desk.accounts.views import SESSION_TOKEN_KEY
    from inquiry_desk.core.clock import utcnow
    from inquiry_desk.core.extensions import db

    with app.app_context():
        token = accounts.start_session(db.session.get(User, user.id), now=utcnow())
        db.session.commit()
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    value = serializer.dumps({"_user_id": str(user.id), "_fresh": True, SESSION_TOKEN_KEY: token, "lang": lang})
    page.context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": value, "url": base_url}])
