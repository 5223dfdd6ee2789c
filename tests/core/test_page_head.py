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
