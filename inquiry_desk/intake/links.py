"""Public URLs of intake pages, shared by the routes and by emails (built without a request)."""

from __future__ import annotations

from flask import current_app

FORM_PATHS = {"en": "/en/inquiry", "fr": "/fr/demande"}
THANKS_PATHS = {"en": "/en/inquiry/sent", "fr": "/fr/demande/envoyee"}
PORTAL_PATHS = {"en": "/en/portal/<token>", "fr": "/fr/portail/<token>"}
NEW_LINK_PATHS = {"en": "/en/portal/new-link", "fr": "/fr/portail/nouveau-lien"}


def portal_url(token: str, language: str) -> str:
    return current_app.config["BASE_URL"] + PORTAL_PATHS[language].replace("<token>", token)


def new_link_url(language: str) -> str:
    return current_app.config["BASE_URL"] + NEW_LINK_PATHS[language]
