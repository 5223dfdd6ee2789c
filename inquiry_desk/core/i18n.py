"""Language of each request: from the URL, then the toggle, then the browser.

Public pages that have a page per language register one URL rule per language
with ``localized_route``; the rule carries ``lang_code`` as a default. Every
other page takes the language remembered by the toggle (``/lang/<code>``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, g, has_request_context, request, session, url_for

LANGUAGES = ("en", "fr")
LANGUAGE_NAMES = {"en": "English", "fr": "Français"}


def other_language(lang: str) -> str:
    return "fr" if lang == "en" else "en"


def current_language() -> str:
    """The language of the page being made ("en" outside a request).

    A page refused before the language hook ran (a CSRF refusal, a 404 from routing) still
    answers in the language its URL, the toggle or the browser asks for.
    """
    lang = getattr(g, "lang", None) if has_request_context() else None
    if lang in LANGUAGES:
        return str(lang)
    return _negotiated_language()


def select_locale() -> str:
    """Flask-Babel's locale selector."""
    lang = getattr(g, "lang", None)
    if lang in LANGUAGES:
        return str(lang)
    return _negotiated_language()


def _negotiated_language() -> str:
    if not has_request_context():  # a job or a command: English unless force_locale says otherwise
        return "en"
    url_lang = (request.view_args or {}).get("lang_code")
    if url_lang in LANGUAGES:
        return str(url_lang)
    remembered = session.get("lang")
    if remembered in LANGUAGES:
        return str(remembered)
    return request.accept_languages.best_match(LANGUAGES) or "en"


def localized_route(
    blueprint: Blueprint, paths: Mapping[str, str], endpoint: str, **options: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a view under one path per language, e.g. /en/inquiry and /fr/demande."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        for lang, path in paths.items():
            blueprint.add_url_rule(
                path, endpoint=endpoint, view_func=view, defaults={"lang_code": lang}, **options
            )
        return view

    return decorator


def safe_next_path(target: str | None, fallback: str = "/") -> str:
    """Only same-site paths are followed, never another host."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


def toggle_url() -> str:
    """The same page in the other language."""
    lang = other_language(select_locale())
    rule = request.url_rule
    if rule is not None and rule.defaults and "lang_code" in rule.defaults and request.endpoint:
        args = dict(request.view_args or {})
        args["lang_code"] = lang
        args.update(request.args.to_dict())
        return url_for(request.endpoint, **args)
    here = request.full_path if request.query_string else request.path
    return url_for("public.set_language", lang_code=lang, next=here)


class _WTFormsMessages:
    """WTForms' own messages in the request's language, each catalogue read once per process.

    Flask-WTF reads WTForms' catalogue from disk on every request that builds a form (about
    0.35 ms of CPU each time); it looks for ``request.wtforms_translations`` first, so this
    object, put there at the start of each request, answers from catalogues kept per locale.
    The locale is asked for when a message is, as Flask-WTF would.
    """

    def __init__(self) -> None:
        self._loaded: dict[str, Any] = {}

    def _catalogue(self) -> Any:
        from babel import support
        from flask_babel import get_locale
        from wtforms.i18n import messages_path

        key = str(get_locale() or "en")
        catalogue = self._loaded.get(key)
        if catalogue is None:
            catalogue = self._loaded[key] = support.Translations.load(messages_path(), [key], domain="wtforms")
        return catalogue

    def ugettext(self, string: str) -> str:
        return str(self._catalogue().ugettext(string))

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return str(self._catalogue().ungettext(singular, plural, n))


def init_app(app: Flask) -> None:
    wtforms_messages = _WTFormsMessages()

    def _remember_language() -> None:
        request.wtforms_translations = wtforms_messages  # type: ignore[attr-defined]
        g.lang = _negotiated_language()
        url_lang = (request.view_args or {}).get("lang_code")
        if url_lang in LANGUAGES and session.get("lang") != url_lang:
            session["lang"] = url_lang

    # Before the CSRF check and the other hooks: a request they refuse is answered in its own language.
    app.before_request_funcs.setdefault(None, []).insert(0, _remember_language)

    @app.context_processor
    def _language_context() -> dict[str, Any]:
        lang = current_language()
        return {
            "current_lang": lang,
            "other_lang": other_language(lang),
            "other_lang_name": LANGUAGE_NAMES[other_language(lang)],
            "language_toggle_url": toggle_url if request else (lambda: "/"),
        }
