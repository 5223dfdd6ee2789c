"""What every page's <head> holds (issue 10 defect 11): an icon that exists, a description on public pages."""

from __future__ import annotations

import pytest

from ..helpers import page

PUBLIC_PAGES = {"en": ["/en/inquiry", "/en/privacy", "/en/terms", "/en/portal/new-link"],
                "fr": ["/fr/demande", "/fr/confidentialite", "/fr/conditions", "/fr/portail/nouveau-lien"]}
DESCRIPTION = {"en": "write to us in English or French", "fr": "écrivez-nous en français ou en anglais"}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_public_pages_describe_themselves_in_their_language(app, client, lang: str) -> None:
    for path in PUBLIC_PAGES[lang]:
        soup = page(client.get(path), lang=lang)
        description = soup.select_one('meta[name="description"]')
        assert description is not None, path
        assert DESCRIPTION[lang] in description["content"], (path, description["content"])


def test_the_icon_every_page_names_exists(app, client, signed_in) -> None:
    for soup in (page(client.get("/en/inquiry")), page(signed_in("officer").get("/staff/"))):
        icon = soup.select_one('link[rel="icon"]')
        assert icon is not None
        response = client.get(icon["href"])
        assert response.status_code == 200 and response.mimetype == "image/svg+xml"


def test_favicon_ico_is_not_a_404(app, client) -> None:
    """Browsers and robots ask for /favicon.ico without reading the page."""
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert client.get(response.location).status_code == 200


def test_staff_pages_carry_no_public_description(app, signed_in) -> None:
    assert page(signed_in("officer").get("/staff/")).select_one('meta[name="description"]') is None


def test_the_organisation_s_logo_and_icon_are_configurable(app_factory) -> None:
    from pathlib import Path

    from config import STATIC_DIR

    logo = Path("img/favicon.svg")  # any file under static/ will do for the test
    app = app_factory(ORG_LOGO=str(logo), ORG_FAVICON=str(logo))
    with app.app_context():
        soup = page(app.test_client().get("/en/inquiry"))
        assert soup.select_one("img.brand-logo")["src"] == f"/static/{logo}"
        assert soup.select_one('link[rel="icon"]')["href"] == f"/static/{logo}"
        assert (STATIC_DIR / logo).is_file()


def test_no_logo_by_default(app, client) -> None:
    assert page(client.get("/en/inquiry")).select_one("img.brand-logo") is None


@pytest.mark.parametrize("value", ["https://cdn.example.com/logo.svg", "../config.py", "img/missing.svg",
                                   "css/app.css"])
def test_a_logo_elsewhere_is_refused_at_start(value: str) -> None:
    from config import ConfigError, TestingConfig

    with pytest.raises(ConfigError):
        TestingConfig({"ORG_LOGO": value})
