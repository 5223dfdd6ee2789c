"""Helpers every template may use."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal, cast

import babel.dates
from babel import Locale
from flask import Flask, g, has_app_context
from flask_babel import format_datetime as babel_format_datetime
from flask_babel import get_locale

from inquiry_desk.core.clock import team_timezone


def format_datetime(value: datetime | None, format: str = "medium") -> str:
    """A UTC time shown in the team's time zone and the page's language.

    Calls Babel directly with the locale and zone looked up once per request:
    a list of 50 rows formats 50 times, and Flask-Babel's per-call lookups cost
    several times the formatting itself.
    """
    if value is None:
        return ""
    if not has_app_context():
        return babel_format_datetime(value, format)
    if "_format_context" not in g:
        g._format_context = (get_locale(), team_timezone())
    locale, zone = g._format_context
    pattern, canadian = _datetime_pattern(locale.language, format)
    return pattern.apply(value.astimezone(zone), canadian)


def machine_datetime(value: datetime) -> str:
    """A ``<time datetime>`` value: UTC to the second ("2026-11-24T09:53:00Z").

    HTML allows at most three digits of a second; ``isoformat()`` gives six.
    """
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


Width = Literal["short", "medium", "long", "full"]


@lru_cache(maxsize=32)
def _datetime_pattern(language: str, format: str) -> tuple[babel.dates.DateTimePattern, Locale]:
    """The date in the requested width and the time to the minute, as written in Canada.

    Canadian English and French (en_CA: "2026-11-24, 4:53 a.m."; fr_CA: "2026-11-24 04 h 53"),
    parsed once: a list formats many.
    """
    locale = Locale.parse(f"{language}_CA")
    width = cast(Width, format)
    date = babel.dates.get_date_format(width, locale).pattern
    # Seconds are noise everywhere (issue 10 defect 8: "4:30:00 p.m." in reminders); "long" and
    # "full" add the zone to the minute ("9:30 a.m. EST", "09 h 30 HNE").
    time = babel.dates.get_time_format("short", locale).pattern
    if width in ("long", "full"):
        time += " z"
    # Babel declares a DateTimePattern, but gives the "{1}, {0}" string: str() is right for both.
    combined = str(babel.dates.get_datetime_format(width, locale)).replace("{0}", time).replace("{1}", date)
    return babel.dates.parse_pattern(combined), locale


def forget_request_formats() -> None:
    """Drop the per-request locale caches (around ``force_locale``, which changes the language)."""
    if has_app_context():
        g.pop("_format_context", None)
        g.pop("_label_cache", None)


def translated_label(labels: dict[str, Any], key: str) -> str:
    """A label in the page's language, translated once per request and language."""
    cache = g.setdefault("_label_cache", {}) if has_app_context() else {}
    entry = (id(labels), key)
    if entry not in cache:
        cache[entry] = str(labels.get(key, key))
    return str(cache[entry])


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(format_datetime=format_datetime, machine_datetime=machine_datetime)
