"""The audit log page in a real browser (issue 12): an administrator answers "who opened this inquiry"
by filtering with the keyboard alone; axe-core finds nothing, in English and in French."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from .support import Page, assert_accessible, create_user, expect, sign_in_with_cookie

pytestmark = pytest.mark.browser

AUDIT = "/staff/admin/audit"
OPENED = {"en": "Opened an inquiry", "fr": "A ouvert une demande"}


def _tab_to(page: Page, element_id: str) -> None:
    for _ in range(100):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => document.activeElement && document.activeElement.id === '{element_id}'"):
            return
    raise AssertionError(f"#{element_id} was not reached with Tab")


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_an_administrator_filters_the_audit_log_with_the_keyboard(
        live_app: Flask, live_server: str, page_factory: Callable[..., Page], lang: str) -> None:
    from inquiry_desk.accounts.models import User
    from inquiry_desk.core.clock import utcnow
    from inquiry_desk.core.extensions import db
    from inquiry_desk.inquiries import triage

    from ..helpers import make_inquiry

    admin = create_user(live_app, role="admin", name="Ana Admin")
    omar = create_user(live_app, role="officer", name="Omar Haddad")
    zoe = create_user(live_app, role="officer", name="Zoé Tremblay")
    with live_app.app_context():
        watched, other = make_inquiry(subject="Watched"), make_inquiry(subject="Other")
        triage.record_view(watched, actor=db.session.get(User, omar.id), now=utcnow())
        triage.record_view(other, actor=db.session.get(User, omar.id), now=utcnow())
        triage.record_view(watched, actor=db.session.get(User, zoe.id), now=utcnow())
        db.session.commit()
        reference, watched_id = watched.reference or "", watched.id

    page = page_factory(lang)
    sign_in_with_cookie(page, live_app, live_server, admin, lang)
    page.goto(f"{live_server}{AUDIT}")
    expect(page.locator("h1")).to_be_visible()
    assert_accessible(page)

    _tab_to(page, "audit-actor")
    page.keyboard.type("Omar")  # a select follows what is typed
    _tab_to(page, "audit-action")
    page.keyboard.type(OPENED[lang])
    _tab_to(page, "audit-subject")
    page.keyboard.type(reference)
    page.keyboard.press("Enter")

    rows = page.locator("[data-testid=audit-entries] tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Omar Haddad")
    expect(rows.first).to_contain_text(OPENED[lang])
    expect(rows.first).to_contain_text(reference)
    expect(page.locator("#audit-actor")).to_have_value(str(omar.id))
    assert_accessible(page)

    # From the entry to the inquiry it is about, by keyboard too.
    link = page.locator("[data-testid=audit-entries] a", has_text=reference)
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/staff/inquiries/{watched_id}")
