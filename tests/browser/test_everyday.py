"""Issue 10, everyday use, in a real browser: staff log a phone inquiry; the topics page and the
staff home with the keyboard and axe-core in both languages; the inbox and the inquiry page at
1366 px in both languages, kept as screenshots, with no control cut short.

Screenshots go to $TEST_ARTEFACTS_DIR (default: test-artefacts/ in the project, not committed).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from inquiry_desk import PROJECT_DIR

from .support import BrowserUser, Page, assert_accessible, create_user, expect, sign_in_with_cookie

pytestmark = pytest.mark.browser

ARTEFACTS = Path(os.environ.get("TEST_ARTEFACTS_DIR", PROJECT_DIR / "test-artefacts")) / "screenshots"
LANGS = ["en", "fr"]
SKIP_LINK = {"en": "Skip to main content", "fr": "Passer au contenu principal"}

# Every control whose text the content may not fit: the width it shows is less than its content's.
TRUNCATED = """() => {
  const shown = (e) => { const r = e.getBoundingClientRect(); const s = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
  const canvas = document.createElement('canvas').getContext('2d');
  const cut = [];
  for (const e of document.querySelectorAll(
      'main button, main select, main input:not([type=checkbox]):not([type=radio]):not([type=hidden]), '
      + 'main a.button, main .queue-tabs a, main th, header nav a, header button')) {
    if (!shown(e)) continue;
    if (e.scrollWidth > e.clientWidth + 1) { cut.push(e.outerHTML.slice(0, 120)); continue; }
    if (e.tagName === 'SELECT') {  // its scrollWidth says nothing of the option shown: measure that text
      const s = getComputedStyle(e);
      canvas.font = s.font;
      const padding = parseFloat(s.paddingLeft) + parseFloat(s.paddingRight);
      for (const option of e.options) {
        if (canvas.measureText(option.text).width > e.clientWidth - padding + 1) {
          cut.push(`select #${e.id}: option "${option.text}"`); break;
        }
      }
    }
  }
  return cut;
}"""


def _staff(page_factory: Callable[..., Page], app: Flask, base: str, user: BrowserUser, lang: str,
           width: int | None = None) -> Page:
    page = page_factory(lang)
    if width:
        page.set_viewport_size({"width": width, "height": 900})
    sign_in_with_cookie(page, app, base, user, lang)
    return page


def _tab_to(page: Page, selector: str, max_tabs: int = 80) -> None:
    for _ in range(max_tabs):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    focus = page.evaluate("() => document.activeElement && document.activeElement.outerHTML.slice(0, 120)")
    raise AssertionError(f"{selector} not reached with {max_tabs} presses of Tab (focus on {focus})")


@pytest.fixture
def people(live_app: Flask, live_server: str) -> dict[str, BrowserUser]:
    from inquiry_desk.core.clock import utcnow
    from inquiry_desk.core.extensions import db
    from inquiry_desk.inquiries import services as inquiries
    from inquiry_desk.inquiries import triage

    from ..helpers import make_inquiry

    live_app.config["BASE_URL"] = live_server
    lead = create_user(live_app, role="lead", name="Léa Gagnon")
    officer = create_user(live_app, role="officer", name="Omar Haddad")
    with live_app.app_context():
        from inquiry_desk.accounts.models import User

        officer_user = db.session.get(User, officer.id)
        for n, (subject, language) in enumerate([("Family reunification timeline and documents", "en"),
                                                 ("Question sur le parrainage privé et les délais", "fr"),
                                                 ("Settlement services after arrival", "en")]):
            inquiry = make_inquiry(email=f"person{n}@example.net", subject=subject, language=language)
            if n == 0:
                triage.assign(inquiry, officer_user, actor=officer_user, now=utcnow())
                triage.set_topic(inquiry, inquiries.topic_by_code("case_status"), actor=officer_user, now=utcnow())
                triage.add_tags(inquiry, ["documents"], actor=officer_user, now=utcnow())
        db.session.commit()
    return {"lead": lead, "officer": officer}


# -- staff log a phone inquiry ---------------------------------------------------------------


def test_staff_log_a_phone_inquiry(page_factory: Callable[..., Page], live_app: Flask, live_server: str,
                                   people: dict[str, BrowserUser]) -> None:
    from sqlalchemy import select

    from inquiry_desk.core.extensions import db
    from inquiry_desk.inquiries.models import Inquiry
    from inquiry_desk.mail.models import OutgoingEmail

    page = _staff(page_factory, live_app, live_server, people["officer"], "en")
    page.goto(f"{live_server}/staff/")
    page.locator("#main").get_by_role("link", name="Log an inquiry").click()
    expect(page.locator("h1")).to_have_text("Log an inquiry")
    assert_accessible(page)
    keyboard = page.keyboard
    _tab_to(page, "#channel-0")
    expect(page.locator("#channel-0")).to_be_checked()  # by phone, the default
    _tab_to(page, "#subject")
    keyboard.type("Caller asks about the travel loan")
    _tab_to(page, "#message", max_tabs=1)
    keyboard.type("Mr. Haddad called: can the sponsor group repay the travel loan?")
    _tab_to(page, "#name")
    keyboard.type("Karim Haddad")
    _tab_to(page, "#email", max_tabs=1)
    keyboard.type("karim@example.net")
    _tab_to(page, "#send_confirmation")
    _tab_to(page, "#submit", max_tabs=1)
    keyboard.press("Enter")  # no confirmation asked: none sent

    here = page.locator("main > .notice-success")
    expect(here).to_contain_text("logged. No email was sent.")
    expect(page.locator(".history")).to_contain_text("logged by staff")
    expect(page.locator("main")).to_contain_text("Phone")
    assert_accessible(page)
    with live_app.app_context():
        inquiry = db.session.scalar(select(Inquiry).where(Inquiry.subject == "Caller asks about the travel loan"))
        assert inquiry.channel == "phone" and inquiry.contact.email == "karim@example.net"
        assert db.session.scalar(select(OutgoingEmail).where(OutgoingEmail.to_address == "karim@example.net")) is None

    # Without a stakeholder, and an error first: the summary takes the focus.
    page.goto(f"{live_server}/staff/inquiries/new")
    page.locator("#send_confirmation").check()
    page.locator("#subject").fill("A matter raised at the partners' meeting")
    page.locator("#message").fill("The partners asked for a briefing on processing times.")
    page.locator("#channel-1").check()
    page.locator("#submit").click()
    expect(page.locator("[data-error-summary]")).to_be_focused()
    expect(page.locator("[data-error-summary]")).to_contain_text("A confirmation needs the stakeholder")
    page.locator("#send_confirmation").uncheck()
    page.locator("#submit").click()
    expect(page.locator("[data-testid=no-stakeholder]")).to_be_visible()
    expect(page.locator("main")).to_contain_text("None given")


# -- the topics page and the staff home, keyboard and axe ----------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_topics_page_with_the_keyboard(page_factory: Callable[..., Page], live_app: Flask, live_server: str,
                                       people: dict[str, BrowserUser], lang: str) -> None:
    page = _staff(page_factory, live_app, live_server, people["lead"], lang)
    page.goto(f"{live_server}/staff/topics/")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("a.skip-link")).to_have_text(SKIP_LINK[lang])
    assert_accessible(page)
    _tab_to(page, "#new-name_en", max_tabs=200)
    page.keyboard.type("Health care")
    _tab_to(page, "#new-name_fr", max_tabs=1)
    page.keyboard.type("Soins de santé")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("main > .notice-success")).to_contain_text("Health care")
    expect(page.locator("main")).to_contain_text("Soins de santé")
    # An empty name: the error summary takes the focus, its link leads to the field.
    _tab_to(page, "#new-name_en", max_tabs=200)
    page.keyboard.type("Only English")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    assert_accessible(page)


@pytest.mark.parametrize("lang", LANGS)
def test_staff_home_with_the_keyboard(page_factory: Callable[..., Page], live_app: Flask, live_server: str,
                                      people: dict[str, BrowserUser], lang: str) -> None:
    page = _staff(page_factory, live_app, live_server, people["officer"], lang)
    page.goto(f"{live_server}/staff/")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    assert_accessible(page)
    _tab_to(page, "a.skip-link", max_tabs=1)
    page.keyboard.press("Enter")
    # From the main content, a figure's link opens its list with the keyboard alone.
    for _ in range(60):
        page.keyboard.press("Tab")
        href = page.evaluate("() => document.activeElement && document.activeElement.getAttribute('href')")
        if href and href.startswith("/staff/inquiries/?"):
            break
    else:
        raise AssertionError("no figure's link reached with Tab")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server}{href}")
    expect(page.locator(".inbox-table")).to_be_visible()


# -- 1366 px, both languages: screenshots and nothing cut short ------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_inbox_and_inquiry_fit_at_1366_px(page_factory: Callable[..., Page], live_app: Flask, live_server: str,
                                          people: dict[str, BrowserUser], lang: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page = _staff(page_factory, live_app, live_server, people["lead"], lang, width=1366)
    problems: dict[str, list[str]] = {}
    page.goto(f"{live_server}/staff/inquiries/?queue=all")
    expect(page.locator(".inbox-table tbody tr")).to_have_count(3)
    page.evaluate("() => { const d = document.querySelector('details.filters'); if (d) d.open = true; }")
    page.screenshot(path=str(ARTEFACTS / f"inbox-1366-{lang}.png"), full_page=True)
    problems["inbox"] = page.evaluate(TRUNCATED)
    page.locator(".inbox-table tbody a").first.click()
    expect(page.locator("#thread-title")).to_be_visible()
    page.screenshot(path=str(ARTEFACTS / f"inquiry-1366-{lang}.png"), full_page=True)
    problems["inquiry"] = page.evaluate(TRUNCATED)
    assert not any(problems.values()), f"controls cut short at 1366 px [{lang}]: {problems}"
    assert (ARTEFACTS / f"inbox-1366-{lang}.png").stat().st_size > 10_000
