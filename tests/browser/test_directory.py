"""The directory in a real browser (issue 13): axe-core on its pages in English and French, an
organisation created and a domain verified with the keyboard alone (an earlier inquiry gets the
trusted badge), and a CSV imported with its preview and progress bar, with the keyboard alone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask

from .support import BrowserUser, Page, assert_accessible, create_user, expect, sign_in_with_cookie

pytestmark = pytest.mark.browser

DIRECTORY = "/staff/directory"
SKIP_LINK = {"en": "Skip to main content", "fr": "Passer au contenu principal"}


@dataclass(frozen=True)
class Seeded:
    lead: BrowserUser
    organisation_id: int
    contact_id: int
    inquiry_id: int
    other_contact_id: int
    bad_import_id: int
    good_import_id: int
    done_import_id: int


def _seed(app: Flask) -> Seeded:
    from inquiry_desk.core.clock import utcnow
    from inquiry_desk.core.extensions import db
    from inquiry_desk.directory import imports, rules
    from inquiry_desk.directory import services as directory
    from inquiry_desk.inquiries import correspondence
    from inquiry_desk.inquiries.stakeholders import partners

    from ..helpers import make_inquiry

    lead = create_user(app, role="lead", name="Léa Gagnon")
    with app.app_context():
        from inquiry_desk.accounts.models import User

        lead_user = db.session.get(User, lead.id)
        now = utcnow()
        details = rules.parse_organisation({
            "name": "Rainbow Railroad", "name_fr": "Rainbow Railroad", "kind": "advocacy_group",
            "tags": "lgbtq, urgent", "country": "Canada", "website": "https://www.rainbowrailroad.org"})
        organisation = directory.create_organisation(details, status="active", actor=lead_user, now=now)
        partners.change_status(organisation, "trusted_referral_partner", "Reviewed with the legal team",
                               actor=lead_user, now=now)
        partners.add_verified_domain(organisation, "rainbowrailroad.org", include_subdomains=True, method="DNS record",
                                     actor=lead_user, now=now)
        inquiry = make_inquiry(email="help@rainbowrailroad.org", subject="Urgent relocation")
        from inquiry_desk.inquiries import services as inquiries

        inquiries.confirm_address(inquiry, now=utcnow())  # the stakeholder opened their private link
        correspondence.send_reply(inquiry, "We are on it.", actor=lead_user, now=utcnow())
        other = make_inquiry(email="someone@example.net", subject="A question")
        from inquiry_desk.mailing import services as mailing

        news = mailing.save_list(None, mailing.ListFields(
            name_en="Partner news", name_fr="Nouvelles des partenaires", public=False), actor=lead_user, now=now)
        mailing.add_member(news, "help@rainbowrailroad.org", name=None, language="fr",
                           consent_source="Asked by phone", actor=lead_user, now=now)
        bad = imports.record_upload("contacts", "bad.csv", "email,name\r\nnot-an-address,X\r\n", actor=lead_user,
                                    now=now)
        good = imports.record_upload("contacts", "good.csv", "email,name,language\r\nélodie@example.ca,Élodie,fr\r\n",
                                     actor=lead_user, now=now)
        done = imports.record_upload("contacts", "done.csv", "email,name\r\nz@example.ca,Zed\r\n", actor=lead_user,
                                     now=now)
        imports.run(done, actor=lead_user, now=now)
        db.session.commit()
        return Seeded(lead, organisation.id, inquiry.contact_id, inquiry.id, other.contact_id, bad.id, good.id,
                      done.id)


@pytest.fixture
def seeded(live_app: Flask, live_server: str) -> Seeded:
    live_app.config["BASE_URL"] = live_server
    return _seed(live_app)


def _staff_page(page_factory: Callable[..., Page], app: Flask, base: str, user: BrowserUser, lang: str) -> Page:
    page = page_factory(lang)
    sign_in_with_cookie(page, app, base, user, lang)
    return page


def _focused(page: Page, selector: str) -> bool:
    return bool(page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector))


def _tab_to(page: Page, selector: str, *, max_tabs: int = 80) -> None:
    for _ in range(max_tabs):
        page.keyboard.press("Tab")
        if _focused(page, selector):
            return
    focus = page.evaluate("() => document.activeElement && document.activeElement.outerHTML.slice(0, 120)")
    raise AssertionError(f"{selector} not reached with {max_tabs} presses of Tab (focus on {focus})")


# -- 1. axe-core on every directory page, in each language -----------------------------------------


def _list(page: Page, base: str, s: Seeded) -> None:
    page.goto(f"{base}{DIRECTORY}/?status=trusted_referral_partner")
    expect(page.locator("[data-testid=organisations] tbody tr")).to_have_count(1)


def _organisation(page: Page, base: str, s: Seeded) -> None:
    page.goto(f"{base}{DIRECTORY}/organisations/{s.organisation_id}")
    expect(page.locator("#domains")).to_be_visible()
    expect(page.locator(".badge-trusted").first).to_be_visible()
    expect(page.locator("[data-testid=subscriptions] tbody tr")).to_have_count(1)  # the contact's list


def _organisation_form_errors(page: Page, base: str, s: Seeded) -> None:
    page.goto(f"{base}{DIRECTORY}/organisations/new")
    page.locator("#organisation-submit").click()
    expect(page.locator("[data-error-summary]")).to_be_focused()


def _contacts(page: Page, base: str, s: Seeded) -> None:
    page.goto(f"{base}{DIRECTORY}/contacts/")
    expect(page.locator("main table tbody tr")).to_have_count(3)


def _contact(page: Page, base: str, s: Seeded) -> None:
    page.goto(f"{base}{DIRECTORY}/contacts/{s.contact_id}")
    expect(page.locator("main h1")).to_be_visible()
    expect(page.locator("[data-testid=subscriptions] tbody tr")).to_have_count(1)


def _contact_form(page: Page, base: str, s: Seeded) -> None:
    page.goto(f"{base}{DIRECTORY}/contacts/{s.contact_id}/edit")
    expect(page.locator("#email")).to_be_visible()


def _merge(page: Page, base: str, s: Seeded) -> None:
    page.goto(f"{base}{DIRECTORY}/contacts/{s.other_contact_id}/merge?q=rainbow")
    expect(page.locator("input[name=kept_id]")).to_have_count(1)


def _erase(page: Page, base: str, s: Seeded) -> None:
    page.goto(f"{base}{DIRECTORY}/contacts/{s.other_contact_id}/erase")
    expect(page.locator("#confirm")).to_be_visible()


def _file_sender(page: Page, base: str, s: Seeded) -> None:
    page.goto(f"{base}{DIRECTORY}/inquiries/{s.inquiry_id}/sender")
    expect(page.locator("#new_kind")).to_be_visible()


def _import(page: Page, base: str, s: Seeded) -> None:
    page.goto(f"{base}{DIRECTORY}/import")
    expect(page.locator("#file")).to_be_visible()


def _import_errors(page: Page, base: str, s: Seeded) -> None:
    page.goto(f"{base}{DIRECTORY}/import/{s.bad_import_id}")
    expect(page.locator("[data-testid=import-errors] tbody tr")).to_have_count(1)


def _import_preview(page: Page, base: str, s: Seeded) -> None:
    page.goto(f"{base}{DIRECTORY}/import/{s.good_import_id}")
    expect(page.locator("#import-start")).to_be_visible()


def _import_done(page: Page, base: str, s: Seeded) -> None:
    page.goto(f"{base}{DIRECTORY}/import/{s.done_import_id}")
    expect(page.locator("[data-import-progress]")).to_have_attribute("data-finished", "done")


PAGES: dict[str, Callable[[Page, str, Seeded], None]] = {
    "list": _list, "organisation": _organisation, "organisation-form-errors": _organisation_form_errors,
    "contacts": _contacts, "contact": _contact, "contact-form": _contact_form, "merge": _merge, "erase": _erase,
    "file-sender": _file_sender, "import": _import, "import-errors": _import_errors,
    "import-preview": _import_preview, "import-done": _import_done,
}


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("name", list(PAGES))
def test_directory_page_is_accessible(page_factory: Callable[..., Page], live_app: Flask, live_server: str,
                                      seeded: Seeded, name: str, lang: str) -> None:
    page = _staff_page(page_factory, live_app, live_server, seeded.lead, lang)
    PAGES[name](page, live_server, seeded)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("a.skip-link")).to_have_text(SKIP_LINK[lang])
    duplicates = page.evaluate("""() => { const seen = {}, twice = new Set();
        for (const e of document.querySelectorAll('[id]')) { if (seen[e.id]) twice.add(e.id); seen[e.id] = true; }
        return [...twice]; }""")
    assert not duplicates, duplicates
    assert_accessible(page)


# -- 2. an organisation, a verified domain, and an earlier inquiry's badge, with the keyboard ------


def test_create_an_organisation_add_a_domain_and_an_earlier_inquiry_gets_the_badge(
        page_factory: Callable[..., Page], live_app: Flask, live_server: str) -> None:
    from ..helpers import make_inquiry

    lead = create_user(live_app, role="lead", name="Léa Gagnon")
    with live_app.app_context():
        earlier = make_inquiry(email="case.worker@amanlara.org", subject="Identity confirmation")
        from ..directory.support import prove_address

        prove_address(earlier)  # they opened their private link (issue 10: the badge waits for it)
        inquiry_id, reference = earlier.id, earlier.reference
        assert not earlier.trusted_partner
    page = _staff_page(page_factory, live_app, live_server, lead, "en")
    keyboard = page.keyboard
    page.goto(f"{live_server}{DIRECTORY}/")
    _tab_to(page, f"a[href$='{DIRECTORY}/organisations/new']")
    keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server}{DIRECTORY}/organisations/new")
    _tab_to(page, "#name")
    keyboard.type("Aman Lara")
    _tab_to(page, "#kind")
    keyboard.type("Non")
    expect(page.locator("#kind")).to_have_value("ngo")
    _tab_to(page, "#status")
    keyboard.type("Act")
    expect(page.locator("#status")).to_have_value("active")
    _tab_to(page, "#organisation-submit")
    keyboard.press("Enter")
    expect(page.locator("main > .notice-success")).to_contain_text("Organisation added: Aman Lara")

    # A lead makes it a trusted referral partner, with the due-diligence note.
    _tab_to(page, "#status")
    keyboard.type("Trus")
    expect(page.locator("#status")).to_have_value("trusted_referral_partner")
    _tab_to(page, "#reason")
    keyboard.type("Identity of the director confirmed by video call.")
    _tab_to(page, "#change-status")
    keyboard.press("Enter")
    expect(page.locator("[data-testid=partnership-status]")).to_contain_text("Trusted referral partner")

    # The verified domain: the earlier inquiry is linked and gets the badge.
    _tab_to(page, "#domain")
    keyboard.type("amanlara.org")
    _tab_to(page, "#method")
    keyboard.type("Call to the number on their website")
    _tab_to(page, "#add-domain")
    keyboard.press("Enter")
    expect(page.locator("main > .notice-success")).to_contain_text("1 inquiries were linked")
    _tab_to(page, f"main table a[href$='/staff/inquiries/{inquiry_id}']")
    keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server}/staff/inquiries/{inquiry_id}")
    expect(page.locator(".badge-trusted")).to_contain_text("Trusted partner: Aman Lara")
    expect(page.locator("main h1")).to_contain_text("Identity confirmation")
    assert reference


# -- 3. a CSV import: preview, then the progress bar, with the keyboard --------------------------------


def test_import_a_csv_with_its_preview_and_progress_bar_by_keyboard(
        page_factory: Callable[..., Page], live_app: Flask, live_server: str, tmp_path: Path) -> None:
    from sqlalchemy import func, select

    from inquiry_desk.core.extensions import db
    from inquiry_desk.directory.models import Contact

    lead = create_user(live_app, role="lead")
    rows = 3_000
    path = tmp_path / "contacts.csv"
    path.write_text("\ufeffemail,name,language,notes\r\n" + "".join(
        f'person{n}@example.ca,Hélène Côté {n},fr,"Notes, avec ""guillemets"""\r\n' for n in range(rows)),
        encoding="utf-8")
    page = _staff_page(page_factory, live_app, live_server, lead, "fr")
    keyboard = page.keyboard
    page.goto(f"{live_server}{DIRECTORY}/import")
    _tab_to(page, "#file")
    page.locator("#file").set_input_files(str(path))  # a file chooser is the browser's own dialog
    _tab_to(page, "#import-check")
    keyboard.press("Enter")
    summary = page.locator("[data-testid=import-summary]")
    expect(summary).to_contain_text(f"{rows} lignes vérifiées : {rows} à ajouter")
    with live_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Contact)) == 0  # nothing before the go-ahead
    _tab_to(page, "#import-start")
    keyboard.press("Enter")
    box = page.locator("[data-import-progress]")
    expect(box).to_be_visible()
    expect(page.locator("#import-progress")).to_be_visible()
    expect(box).to_have_attribute("data-finished", "done", timeout=30_000)
    expect(page.locator("[data-import-message]")).to_contain_text(f"Importation terminée : {rows} ajoutés")
    assert page.locator("#import-progress").evaluate("bar => bar.value === bar.max")
    with live_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Contact)) == rows
        assert db.session.scalar(select(Contact.notes).limit(1)) == 'Notes, avec "guillemets"'
    assert_accessible(page)
