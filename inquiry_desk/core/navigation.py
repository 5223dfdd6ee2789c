"""Menus that capabilities add to: the staff menu and the public home page links."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from inquiry_desk.core.i18n import current_language


@dataclass(frozen=True)
class MenuItem:
    endpoint: str
    label: Any  # a lazy string, translated when shown
    minimum_role: str = "viewer"
    description: Any = None
    values: tuple[tuple[str, Any], ...] = ()


# Capabilities append to these when they are built (see each views.py).
STAFF_MENU: list[MenuItem] = [
    MenuItem("admin.users", _l("Users"), "admin"),
    MenuItem("audit_log.index", _l("Audit log"), "admin"),
]
PUBLIC_LINKS: list[MenuItem] = []


@dataclass(frozen=True)
class HomeFigure:
    """One figure on the staff home page: a count, what it counts, and the list it links to."""

    label: str
    count: int
    url: str
    tone: str = ""  # "warning" when the figure asks for attention


# Capabilities append providers: ``provider(user)`` gives that user's figures.
STAFF_HOME_FIGURES: list[Callable[[Any], list[HomeFigure]]] = []


def _home_figures() -> list[HomeFigure]:
    if not current_user.is_authenticated:
        return []
    return [figure for provider in STAFF_HOME_FIGURES for figure in provider(current_user)]


@dataclass(frozen=True)
class Link:
    url: str
    label: str
    description: str | None
    # The same service in the other official language (public links only).
    other_language: str | None = None
    other_url: str | None = None
    other_label: str | None = None


def _staff_menu() -> list[Link]:
    if not current_user.is_authenticated:
        return []
    return [
        Link(url_for(item.endpoint, **dict(item.values)), str(item.label), None)
        for item in STAFF_MENU
        if current_user.has_role(item.minimum_role)
    ]


def _public_links(lang: str) -> list[Link]:
    other = "fr" if lang == "en" else "en"
    links = []
    for item in PUBLIC_LINKS:
        with force_locale(other):
            other_label = str(item.label)
        links.append(Link(
            url_for(item.endpoint, lang_code=lang, **dict(item.values)), str(item.label),
            str(item.description) if item.description else None,
            other, url_for(item.endpoint, lang_code=other, **dict(item.values)), other_label,
        ))
    return links


def init_app(app: Flask) -> None:
    @app.context_processor
    def _menus() -> dict[str, Callable[[], list[Any]]]:
        return {
            "staff_menu": _staff_menu,
            "staff_home_figures": _home_figures,
            "public_service_links": lambda: _public_links(current_language()),
        }
