"""The public intake pages in a real browser: accessibility, the keyboard, errors, the toggle.

QUALITY.md A1 (axe-core on every page, every flow with the keyboard alone),
A2 (the error summary) and L3 (toggling on a form keeps what was typed), on the
inquiry form, its thanks page, the private portal and the new-link pages, in
English and in French.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from email.message import EmailMessage

import pytest
from flask import Flask

from ..intake.mailbox import sent_messages, text_body
from .conftest import WAIT_SECONDS
from .support import Page, assert_accessible, expect, fill_inquiry_form, switch_language

pytestmark = pytest.mark.browser

FORM = {"en": "/en/inquiry", "fr": "/fr/demande"}
THANKS = {"en": "/en/inquiry/sent", "fr": "/fr/demande/envoyee"}
PORTAL = {"en": "/en/portal/", "fr": "/fr/portail/"}
NEW_LINK = {"en": "/en/portal/new-link", "fr": "/fr/portail/nouveau-lien"}
ERROR_TITLE = {"en": "Error", "fr": "Erreur"}
REFERENCE = re.compile(r"INQ-\d{4}-\d{6}")
# The fields of the inquiry form that are required, in the order of the page.
REQUIRED_FIELDS = ["name", "email", "organisation_kind", "topic", "subject", "message", "consent"]


@pytest.fixture
def intake_server(live_app: Flask, live_server: str) -> str:
    """The live server, with links in emails pointing at it and no minimum fill time.

    The minimum fill time (a spam check) would only slow the tests down; the
    settings are read at each request, so changing them here is enough.
    """
    live_app.config["INTAKE_MIN_FILL_SECONDS"] = 0
    live_app.config["BASE_URL"] = live_server
    return live_server


# -- helpers -------------------------------------------------------------------------------


def _submit(page: Page) -> None:
    page.locator("main form [type=submit]").click()
    page.wait_for_load_state("load")


def _create_inquiry(app: Flask, lang: str, *, with_team_reply: bool = True) -> tuple[str, str]:
    """An inquiry made through the intake service; returns its reference and its portal path."""
    from inquiry_desk.core.clock import utcnow
    from inquiry_desk.core.extensions import db
    from inquiry_desk.inquiries import services as inquiries
    from inquiry_desk.inquiries.models import Message, MessageKind

    from ..helpers import make_inquiry

    with app.app_context():
        inquiry = make_inquiry(language=lang, subject="Question de parrainage" if lang == "fr" else "A question",
                               body="Our first message\non two lines")
        if with_team_reply:
            db.session.add(Message(inquiry=inquiry, kind=MessageKind.REPLY.value, body="An answer from the team",
                                   created_at=utcnow()))
        _link, token = inquiries.create_portal_link(inquiry, now=utcnow())
        db.session.commit()
        return inquiry.reference, PORTAL[lang] + token


def _wait_for_mail(app: Flask, to: str, timeout: float = WAIT_SECONDS) -> EmailMessage:
    """Mail is sent after the response is closed: wait a little for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in sent_messages(app):
            if message["To"] == to:
                return message
        time.sleep(0.05)
    from sqlalchemy import select

    from inquiry_desk.core.extensions import db
    from inquiry_desk.mail.models import OutgoingEmail

    with app.app_context():
        outbox = [(row.cause_key, row.to_address, row.status, row.attempts, row.last_error)
                  for row in db.session.scalars(select(OutgoingEmail))]
    raise AssertionError(f"no email to {to} within {timeout} s; sent to {[m['To'] for m in sent_messages(app)]}; "
                         f"outbox: {outbox}")


def _active_id(page: Page) -> str:
    return page.evaluate("document.activeElement ? document.activeElement.id : ''")


def _tab_to(page: Page, selector: str, max_tabs: int = 12) -> None:
    """Press Tab until ``selector`` has the focus; fails if it takes more than ``max_tabs``."""
    for _ in range(max_tabs):
        page.keyboard.press("Tab")
        if page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} not reached with {max_tabs} presses of Tab (focus is on #{_active_id(page)})")


def _field_values(page: Page) -> dict[str, object]:
    values: dict[str, object] = {
        name: page.locator(f"#{name}").input_value()
        for name in ("name", "email", "phone", "organisation", "organisation_kind", "topic", "subject", "message",
                     "language")
    }
    values["consent"] = page.locator("#consent").is_checked()
    return values


# -- 1. axe-core on every intake page, in each language ------------------------------------


def _inquiry_form(page: Page, app: Flask, base: str, lang: str) -> None:
    page.goto(base + FORM[lang])


def _inquiry_form_with_errors(page: Page, app: Flask, base: str, lang: str) -> None:
    page.goto(base + FORM[lang])
    page.locator("#email").fill("not an email")
    _submit(page)
    expect(page.locator("[data-error-summary]")).to_be_focused()


def _thanks(page: Page, app: Flask, base: str, lang: str) -> None:
    page.goto(base + FORM[lang])
    fill_inquiry_form(page)
    _submit(page)
    expect(page).to_have_url(base + THANKS[lang])
    expect(page.locator("[data-testid=reference]")).to_have_text(REFERENCE)


def _portal(page: Page, app: Flask, base: str, lang: str) -> None:
    reference, path = _create_inquiry(app, lang)
    page.goto(base + path)
    expect(page.locator("h1")).to_contain_text(reference)
    expect(page.locator(".thread-item")).to_have_count(2)


def _portal_with_errors(page: Page, app: Flask, base: str, lang: str) -> None:
    _portal(page, app, base, lang)
    _submit(page)
    expect(page.locator("[data-error-summary]")).to_be_focused()


def _portal_after_reply(page: Page, app: Flask, base: str, lang: str) -> None:
    _portal(page, app, base, lang)
    page.locator("#message").fill("Here are the documents.")
    _submit(page)
    expect(page.locator("main [role=status]")).to_be_visible()
    expect(page.locator(".thread-item")).to_have_count(3)


def _new_link(page: Page, app: Flask, base: str, lang: str) -> None:
    page.goto(base + NEW_LINK[lang])


def _new_link_with_errors(page: Page, app: Flask, base: str, lang: str) -> None:
    page.goto(base + NEW_LINK[lang])
    _submit(page)
    expect(page.locator("[data-error-summary]")).to_be_focused()


def _new_link_sent(page: Page, app: Flask, base: str, lang: str) -> None:
    reference, _path = _create_inquiry(app, lang, with_team_reply=False)
    page.goto(base + NEW_LINK[lang])
    page.locator("#reference").fill(reference)
    page.locator("#email").fill("farida@example.net")
    _submit(page)
    expect(page.locator("main form")).to_have_count(0)
    _wait_for_mail(app, "farida@example.net")


def _home(page: Page, app: Flask, base: str, lang: str) -> None:
    page.goto(base + "/")  # the browser asks for ``lang``


PAGES: dict[str, Callable[[Page, Flask, str, str], None]] = {
    "inquiry-form": _inquiry_form,
    "inquiry-form-with-errors": _inquiry_form_with_errors,
    "thanks": _thanks,
    "portal": _portal,
    "portal-with-errors": _portal_with_errors,
    "portal-after-reply": _portal_after_reply,
    "new-link": _new_link,
    "new-link-with-errors": _new_link_with_errors,
    "new-link-sent": _new_link_sent,
    "home": _home,
}


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("name", list(PAGES))
def test_intake_page_is_accessible(
    page_factory: Callable[..., Page], live_app: Flask, intake_server: str, name: str, lang: str
) -> None:
    page = page_factory(lang)
    PAGES[name](page, live_app, intake_server, lang)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    assert_accessible(page)


# -- 2. a whole inquiry in French with the keyboard alone ----------------------------------


def test_french_inquiry_with_the_keyboard_alone(page_factory: Callable[..., Page], live_app: Flask,
                                                intake_server: str) -> None:
    page = page_factory("fr")
    page.goto(intake_server + FORM["fr"])
    keyboard = page.keyboard

    _tab_to(page, "a.skip-link", max_tabs=1)  # the first stop
    for selector, text in [("#name", "Amélie Tremblay"), ("#email", "amelie@example.net"),
                           ("#organisation", "Parrains de Gatineau")]:
        _tab_to(page, selector)
        keyboard.type(text)
    _tab_to(page, "#organisation_kind")
    keyboard.type("R")  # type-ahead: « Répondant privé ou groupe de répondants »
    expect(page.locator("#organisation_kind")).to_have_value("private_sponsor")
    _tab_to(page, "#topic")
    keyboard.type("Parr")  # « Parrainage privé »
    expect(page.locator("#topic")).to_have_value("private_sponsorship")
    _tab_to(page, "#subject")
    keyboard.type("Délai de notre demande de parrainage")
    _tab_to(page, "#message")
    keyboard.type("Bonjour,")
    keyboard.press("Enter")
    keyboard.type("Quand aurons-nous des nouvelles?")
    _tab_to(page, "#language")
    expect(page.locator("#language")).to_have_value("fr")  # the page's language, unchanged
    _tab_to(page, "#consent")
    keyboard.press("Space")
    expect(page.locator("#consent")).to_be_checked()
    _tab_to(page, "main form [type=submit]")
    keyboard.press("Enter")

    expect(page).to_have_url(intake_server + THANKS["fr"])
    expect(page.locator("h1")).to_have_text("Demande envoyée")
    reference = page.locator("[data-testid=reference]").inner_text().strip()
    assert REFERENCE.fullmatch(reference), reference

    confirmation = _wait_for_mail(live_app, "amelie@example.net")
    assert confirmation["Content-Language"] == "fr"
    html = confirmation.get_body(preferencelist=("html",))
    assert html is not None and '<html lang="fr">' in html.get_content()
    assert confirmation["Subject"] == f"Votre demande {reference}"
    body = text_body(confirmation)
    assert body.startswith("Bonjour Amélie Tremblay")
    assert "Quand aurons-nous des nouvelles?" not in body  # a mailbox is no protected channel
    link = re.search(re.escape(intake_server) + r"/fr/portail/\S+", body)
    assert link, f"no private link to the French portal in:\n{body}"

    page.goto(link.group(0))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("h1")).to_have_text(f"Demande {reference}")
    expect(page.locator(".thread-item")).to_have_count(1)
    expect(page.locator(".thread-item")).to_contain_text("Quand aurons-nous des nouvelles?")

    _tab_to(page, "#message", max_tabs=20)
    keyboard.type("Voici les documents demandés.")
    _tab_to(page, "main form [type=submit]")
    keyboard.press("Enter")

    expect(page.locator("main [role=status]")).to_have_text("Votre réponse a été envoyée à l’équipe.")
    expect(page.locator(".thread-item")).to_have_count(2)
    expect(page.locator(".thread-item").last).to_contain_text("Voici les documents demandés.")
    expect(page.locator(".thread-item").last).to_contain_text("Vous")


# -- 3. the error summary of the empty form ------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_empty_form_shows_a_focused_linked_error_summary(page_factory: Callable[..., Page], intake_server: str,
                                                          lang: str) -> None:
    page = page_factory(lang)
    page.goto(intake_server + FORM[lang])

    _submit(page)

    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    title = page.title()
    assert title.startswith(ERROR_TITLE[lang]), f"<title> {title!r} does not start with {ERROR_TITLE[lang]!r}"
    for name in REQUIRED_FIELDS:
        expect(page.locator(f"#{name}")).to_have_attribute("aria-invalid", "true")
    for name in ("phone", "organisation", "language"):
        expect(page.locator(f"#{name}")).not_to_have_attribute("aria-invalid", "true")

    links = summary.locator("a")
    expect(links).to_have_count(len(REQUIRED_FIELDS))
    assert [href.removeprefix("#") for href in links.evaluate_all("links => links.map(a => a.getAttribute('href'))")] \
        == REQUIRED_FIELDS
    for index, name in enumerate(REQUIRED_FIELDS):
        link = links.nth(index)
        link.focus()
        page.keyboard.press("Enter")  # what a keyboard user does; a click does the same
        expect(page.locator(f"#{name}")).to_be_focused()
        expect(page.locator(f"label[for={name}]")).to_be_in_viewport()  # the question is shown with its field
    links.first.click()
    expect(page.locator("#name")).to_be_focused()


# -- 4. the language toggle keeps what was typed (QUALITY.md L3) --------------------------


def test_toggle_on_the_inquiry_form_keeps_what_was_typed(page_factory: Callable[..., Page],
                                                         intake_server: str) -> None:
    page = page_factory("en")
    page.goto(intake_server + FORM["en"])
    page.locator("#name").fill("Farida Rahimi")
    page.locator("#email").fill("farida@example.net")
    page.locator("#phone").fill("+1 613 555 0100")
    page.locator("#organisation").fill("Community Sponsors of Halifax")
    page.locator("#organisation_kind").select_option("private_sponsor")
    page.locator("#topic").select_option("private_sponsorship")
    page.locator("#subject").fill("Timeline for our application")
    page.locator("#message").fill("Hello,\nWhen can we expect news?")
    page.locator("#consent").check()
    typed = _field_values(page)
    assert typed["language"] == "en"

    switch_language(page, "fr")

    expect(page).to_have_url(intake_server + FORM["fr"])
    # Everything typed is there; the language of the answer, never chosen, follows the page.
    assert _field_values(page) == {**typed, "language": "fr"}
    assert page.evaluate("window.sessionStorage.length") == 0, "what was typed stays in the browser's storage"

    # Back to English, having chosen English answers on the French page: that choice is kept.
    page.locator("#language").select_option("en")
    page.locator("#subject").fill("Délai de notre demande")
    switch_language(page, "en")
    expect(page).to_have_url(intake_server + FORM["en"])
    assert _field_values(page) == {**typed, "subject": "Délai de notre demande", "language": "en"}

    # The kept values are given back once, to the page the toggle led to, and then forgotten.
    page.goto(intake_server + FORM["fr"])
    assert page.locator("#name").input_value() == ""
    assert page.locator("#message").input_value() == ""

    # The form still works after the toggle (the hidden start time and CSRF token are valid).
    page.goto(intake_server + FORM["en"])
    fill_inquiry_form(page)
    switch_language(page, "fr")
    _submit(page)
    expect(page).to_have_url(intake_server + THANKS["fr"])


def test_toggle_after_errors_keeps_what_was_typed(page_factory: Callable[..., Page], intake_server: str) -> None:
    page = page_factory("fr")
    page.goto(intake_server + FORM["fr"])
    page.locator("#name").fill("Amélie Tremblay")
    page.locator("#email").fill("pas une adresse")
    page.locator("#message").fill("Bonjour")
    _submit(page)
    expect(page.locator("[data-error-summary]")).to_be_focused()

    switch_language(page, "en")

    expect(page).to_have_url(intake_server + FORM["en"])
    values = _field_values(page)
    assert (values["name"], values["email"], values["message"]) == ("Amélie Tremblay", "pas une adresse", "Bonjour")
    assert values["language"] == "en"


def test_toggle_on_the_portal_and_new_link_forms_keeps_what_was_typed(
    page_factory: Callable[..., Page], live_app: Flask, intake_server: str
) -> None:
    _reference, path = _create_inquiry(live_app, "en")
    page = page_factory("en")
    page.goto(intake_server + path)
    page.locator("#message").fill("Here are the documents\nyou asked for.")

    switch_language(page, "fr")

    assert page.url.startswith(intake_server + PORTAL["fr"])
    expect(page.locator("#message")).to_have_value("Here are the documents\nyou asked for.")

    page.goto(intake_server + NEW_LINK["fr"])
    page.locator("#reference").fill("INQ-2026-000123")
    page.locator("#email").fill("amelie@example.net")
    switch_language(page, "en")
    expect(page).to_have_url(intake_server + NEW_LINK["en"])
    expect(page.locator("#reference")).to_have_value("INQ-2026-000123")
    expect(page.locator("#email")).to_have_value("amelie@example.net")
