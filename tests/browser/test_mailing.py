"""The public mailing pages in a real browser, with the keyboard alone, and axe-core on each of them.

Subscribe in French, follow the confirmation link from the email in the outbox,
change preferences, unsubscribe from a bulletin's link and undo; then every
public mailing page in English and in French through axe-core.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from .support import Page, assert_accessible, expect

pytestmark = pytest.mark.browser


@pytest.fixture
def mailing_server(live_app: Flask, live_server: str) -> tuple[str, list[int]]:
    live_app.config["BASE_URL"] = live_server
    from inquiry_desk.core.extensions import db
    from inquiry_desk.mailing import services

    with live_app.app_context():
        ids = []
        for name_en, name_fr in (("Sponsorship news", "Nouvelles du parrainage"),
                                 ("Settlement partners", "Partenaires d'établissement")):
            fields = services.ListFields(name_en=name_en, name_fr=name_fr, description_en="Monthly",
                                         description_fr="Mensuel", public=True)
            ids.append(services.save_list(None, fields, actor=None, now=_now()).id)
        db.session.commit()
    return live_server, ids


def _now():
    from inquiry_desk.core.clock import utcnow

    return utcnow()


def _tab_to(page: Page, selector: str, limit: int = 60) -> None:
    """Press Tab until the element matching ``selector`` has the focus (the keyboard alone)."""
    target = page.locator(selector)
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def _outbox_link(app: Flask, to: str, pattern: str) -> str:
    from inquiry_desk.core.extensions import db
    from inquiry_desk.mail.models import OutgoingEmail

    with app.app_context():
        email = db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.to_address == to)
                                   .order_by(OutgoingEmail.id.desc())).first()
        assert email is not None, f"no email to {to} in the outbox"
        match = re.search(pattern, email.body_text)
        assert match, email.body_text
        return match.group(0)


def _unsubscribe_path(app: Flask, email: str, list_id: int) -> str:
    from inquiry_desk.core.extensions import db
    from inquiry_desk.directory.models import Contact
    from inquiry_desk.mailing import services
    from inquiry_desk.mailing.models import Subscription

    with app.app_context():
        subscription = db.session.scalars(select(Subscription).join(Contact).where(
            Contact.email == email, Subscription.list_id == list_id)).one()
        return "/u/" + services.unsubscribe_token(subscription)


def test_subscribe_in_french_confirm_change_preferences_unsubscribe_and_undo(
        live_app: Flask, mailing_server: tuple[str, list[int]], page_factory) -> None:
    base, (news, partners) = mailing_server
    page = page_factory("fr")
    page.goto(f"{base}/fr/listes-de-diffusion/abonnement")
    assert_accessible(page)
    _tab_to(page, "#email")
    page.keyboard.type("amelie@example.net")
    page.keyboard.press("Tab")
    page.keyboard.type("Amélie Tremblay")
    _tab_to(page, f"input[name=lists][value='{news}']")
    page.keyboard.press("Space")
    _tab_to(page, "#consent")
    page.keyboard.press("Space")
    _tab_to(page, "main form [type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Vérifiez vos courriels")
    assert_accessible(page)

    confirm_url = _outbox_link(live_app, "amelie@example.net", r"https?://\S+/confirmer/\S+")
    page.goto(confirm_url)
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert_accessible(page)
    _tab_to(page, "main form [type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator(".notice-success")).to_contain_text("votre abonnement est confirmé")
    assert_accessible(page)

    # Preferences: add the second list and read the bulletins in English.
    _tab_to(page, f"input[name=lists][value='{partners}']")
    page.keyboard.press("Space")
    _tab_to(page, "input[name=language]:checked")
    page.keyboard.press("ArrowUp")  # from Français to English, within the group
    _tab_to(page, "main form:first-of-type [type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".notice-success")).to_contain_text("Your preferences are saved")
    expect(page.locator(f"input[name=lists][value='{partners}']")).to_be_checked()

    # The one-click link of a bulletin, opened in the browser: a GET changes nothing.
    page.goto(base + _unsubscribe_path(live_app, "amelie@example.net", news))
    assert_accessible(page)
    _tab_to(page, "main form button")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("You are unsubscribed")
    assert_accessible(page)
    _tab_to(page, "main form [type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator(f"input[name=lists][value='{news}']")).to_be_checked()
    expect(page.locator(".notice-success")).to_be_visible()


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_public_mailing_page_passes_axe(live_app: Flask, mailing_server: tuple[str, list[int]], page_factory,
                                              lang: str) -> None:
    base, (news, _partners) = mailing_server
    from inquiry_desk.core.extensions import db
    from inquiry_desk.mailing import services

    with live_app.app_context():
        subscription = services.add_member(services.get_list(news), "jean@example.org", name=None, language=lang,
                                           consent_source="phone", actor=None, now=_now())
        services.request_subscription("new@example.org", [news], language=lang, now=_now())
        db.session.commit()
        preferences = services.preferences_token(subscription.contact)
    confirm = _outbox_link(live_app, "new@example.org", r"/(en|fr)/\S+/confirm(er)?/\S+")
    paths = {"en": ("/en/mailing-lists/subscribe", "/en/mailing-lists/check-your-email",
                    f"/en/mailing-lists/preferences/{preferences}", confirm),
             "fr": ("/fr/listes-de-diffusion/abonnement", "/fr/listes-de-diffusion/verifiez-vos-courriels",
                    f"/fr/listes-de-diffusion/preferences/{preferences}", confirm)}
    page = page_factory(lang)
    for path in paths[lang]:
        page.goto(base + path)
        expect(page.locator("html")).to_have_attribute("lang", lang)
        assert_accessible(page)
    # The subscribe form with its errors.
    page.goto(base + paths[lang][0])
    page.locator("main form [type=submit]").click()
    expect(page.locator("[data-error-summary]")).to_be_visible()
    assert_accessible(page)
    # The unsubscribe page speaks the subscriber's language; then the page after it, and after all.
    page.goto(base + _unsubscribe_path(live_app, "jean@example.org", news))
    expect(page.locator("html")).to_have_attribute("lang", lang)
    assert_accessible(page)
    page.locator("main form button").click()
    assert_accessible(page)
    page.goto(base + paths[lang][2])
    page.locator("main form").nth(1).locator("[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", lang)
    assert_accessible(page)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_staff_mailing_page_passes_axe(live_app: Flask, mailing_server: tuple[str, list[int]], page_factory,
                                             lang: str) -> None:
    from .support import create_user, sign_in_with_cookie

    base, (news, _partners) = mailing_server
    from inquiry_desk.core.extensions import db
    from inquiry_desk.mailing import imports, services, suppression

    with live_app.app_context():
        subscription = services.add_member(services.get_list(news), "jean@example.org", name="Jean", language=lang,
                                           consent_source="phone", actor=None, now=_now())
        suppression.suppress("gone@example.org", "hard_bounce", source="smtp 550", actor=None, now=_now())
        batch = imports.preview(services.get_list(news), b"email\nbad\nok@example.org\n", consent_source="sheet",
                                actor=None, now=_now())
        db.session.commit()
        contact_id, batch_id = subscription.contact_id, batch.id
    page = page_factory(lang)
    sign_in_with_cookie(page, live_app, base, create_user(live_app, role="lead"), lang=lang)
    prefix = f"{base}/staff/mailing-lists"
    for path in ("/", "/new", f"/{news}", f"/{news}/edit", f"/{news}/members", f"/{news}/members/new",
                 f"/{news}/import", f"/{news}/import/{batch_id}", f"/contacts/{contact_id}", "/suppressions"):
        page.goto(prefix + path)
        expect(page.locator("html")).to_have_attribute("lang", lang)
        assert_accessible(page)
