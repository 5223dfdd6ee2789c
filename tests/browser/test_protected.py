"""Need-to-know in a real browser (issue 12): restrict an inquiry with the keyboard alone, then
another officer sees the metadata only; a lead gives a reason and reads the access report.
axe-core finds nothing on these pages in English and in French."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask

from .support import BrowserUser, Page, assert_accessible, create_user, expect, sign_in_with_cookie

pytestmark = pytest.mark.browser

INBOX = "/staff/inquiries/"
SECRET = "Quetzalcoatl family hides near the border"


@dataclass(frozen=True)
class Seeded:
    holder: BrowserUser
    other: BrowserUser
    lead: BrowserUser
    inquiry_id: int
    reference: str


@pytest.fixture
def seeded(live_app: Flask, live_server: str) -> Seeded:
    from inquiry_desk.accounts.models import User
    from inquiry_desk.core.clock import utcnow
    from inquiry_desk.core.extensions import db
    from inquiry_desk.inquiries import triage

    from ..helpers import make_inquiry

    live_app.config["BASE_URL"] = live_server
    holder = create_user(live_app, role="officer", name="Asha Holder")
    other = create_user(live_app, role="officer", name="Otto Other")
    lead = create_user(live_app, role="lead", name="Léa Gagnon")
    with live_app.app_context():
        inquiry = make_inquiry(subject="Zebulon passage plan", body=SECRET)
        triage.assign(inquiry, db.session.get(User, holder.id), actor=db.session.get(User, lead.id), now=utcnow())
        db.session.commit()
        return Seeded(holder=holder, other=other, lead=lead, inquiry_id=inquiry.id, reference=inquiry.reference or "")


def _staff_page(page_factory: Callable[..., Page], app: Flask, base: str, user: BrowserUser, lang: str) -> Page:
    page = page_factory(lang)
    sign_in_with_cookie(page, app, base, user, lang)
    return page


def _restrict_with_the_keyboard(page: Page, base: str, seeded: Seeded) -> None:
    page.goto(f"{base}{INBOX}{seeded.inquiry_id}")
    for _ in range(200):  # Tab through the page to the reason field: every step by keyboard
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement && document.activeElement.id === 'restrict-reason'"):
            break
    else:
        raise AssertionError("the restriction's reason was not reached with Tab")
    page.keyboard.type("Names a person at risk")
    page.keyboard.press("Tab")
    expect(page.locator("#restrict-submit")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid=restricted-badge]")).to_be_visible()
    expect(page.locator("[data-testid=access-panel]")).to_contain_text("Names a person at risk")


def test_restrict_then_another_officer_sees_the_metadata_only(
        live_app: Flask, live_server: str, seeded: Seeded, page_factory: Callable[..., Page]) -> None:
    holder = _staff_page(page_factory, live_app, live_server, seeded.holder, "en")
    _restrict_with_the_keyboard(holder, live_server, seeded)
    assert_accessible(holder)

    other = _staff_page(page_factory, live_app, live_server, seeded.other, "en")
    other.goto(f"{live_server}{INBOX}?queue=all")
    row = other.locator(".inbox-table tbody tr", has_text=seeded.reference)
    expect(row).to_contain_text("Restricted")
    expect(row).not_to_contain_text("Zebulon")
    other.goto(f"{live_server}{INBOX}{seeded.inquiry_id}")
    expect(other.locator("[data-testid=restricted-notice]")).to_be_visible()
    assert SECRET not in other.content() and "Zebulon" not in other.content()
    assert_accessible(other)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_pages_are_accessible_and_the_lead_reads_the_access_report(
        live_app: Flask, live_server: str, seeded: Seeded, page_factory: Callable[..., Page], lang: str) -> None:
    from inquiry_desk.accounts.models import User
    from inquiry_desk.core.clock import utcnow
    from inquiry_desk.core.extensions import db
    from inquiry_desk.inquiries import protection
    from inquiry_desk.inquiries.models import Inquiry

    with live_app.app_context():
        protection.restrict(db.session.get(Inquiry, seeded.inquiry_id), "At risk",
                            actor=db.session.get(User, seeded.holder.id), now=utcnow())
        db.session.commit()
    holder = _staff_page(page_factory, live_app, live_server, seeded.holder, lang)
    holder.goto(f"{live_server}{INBOX}{seeded.inquiry_id}")
    expect(holder.locator("[data-testid=restricted-badge]")).to_be_visible()
    assert_accessible(holder)

    other = _staff_page(page_factory, live_app, live_server, seeded.other, lang)
    other.goto(f"{live_server}{INBOX}{seeded.inquiry_id}")
    expect(other.locator("[data-testid=restricted-notice]")).to_be_visible()
    assert_accessible(other)
    other.goto(f"{live_server}{INBOX}?queue=all")
    assert_accessible(other)

    lead = _staff_page(page_factory, live_app, live_server, seeded.lead, lang)
    lead.goto(f"{live_server}{INBOX}{seeded.inquiry_id}")
    expect(lead.locator("#reason")).to_be_visible()
    assert_accessible(lead)
    lead.locator("#justify-submit").click()  # no reason: the error summary
    expect(lead.locator("[data-error-summary]")).to_be_visible()
    assert_accessible(lead)
    lead.locator("#reason").fill("Privacy officer review")
    lead.locator("#reason").press("Enter")
    expect(lead.locator(".thread-body").first).to_contain_text("Quetzalcoatl")
    lead.locator("#access-report-link").focus()
    lead.keyboard.press("Enter")
    report = lead.locator("[data-testid=access-report] tbody tr")
    expect(report).to_have_count(3)  # the holder's opening, the lead's reason, the lead's opening
    expect(lead.locator("[data-testid=access-report]")).to_contain_text("Privacy officer review")
    assert_accessible(lead)
    lead.goto(f"{live_server}{INBOX}topics")
    assert_accessible(lead)

    admin = _staff_page(page_factory, live_app, live_server, create_user(live_app, role="admin"), lang)
    admin.goto(f"{live_server}{INBOX}openings")
    admin.locator("#openings-user").select_option(str(seeded.lead.id))
    admin.locator("#openings-submit").press("Enter")
    expect(admin.locator("[data-testid=openings] tbody tr")).to_have_count(2)  # the reason, the opening
    assert_accessible(admin)


def test_a_reply_naming_a_person_without_consent_warns(
        live_app: Flask, live_server: str, seeded: Seeded, page_factory: Callable[..., Page]) -> None:
    holder = _staff_page(page_factory, live_app, live_server, seeded.holder, "fr")
    holder.goto(f"{live_server}{INBOX}{seeded.inquiry_id}")
    holder.locator("[data-testid=people-panel] details summary").first.click()
    holder.locator("#name").fill("Karim Haidari")
    holder.locator("#relationship").fill("frère")
    holder.locator("#person-submit").click()
    expect(holder.locator("[data-testid=people]")).to_contain_text("Karim Haidari")
    holder.locator("form.reply-form textarea").fill("Le dossier de Karim Haidari est complet.")
    holder.locator("#reply-submit").click()
    expect(holder.locator("[data-testid=consent-warning]")).to_contain_text("Karim Haidari")
    assert_accessible(holder)
    holder.locator("#disclosure_acknowledged").check()
    holder.locator("#reply-submit").click()
    expect(holder.locator(".thread-reply")).to_have_count(1)
