"""Helpers every template may use."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Any, Literal

import babel.dates
from babel import Locale
from flask import Flask, g, has_app_context
from flask_babel import get_locale

from inquiry_desk.core.clock import team_timezone


def format_datetime(value: datetime | None, format: str = "medium") -> str:
    """A UTC time shown in the team's time zone and the page's language, in the one format of the desk.

    One format everywhere (issue 10): the team's locale (Canadian English or French), the date
    with its month abbreviated, to the minute: "Nov 24, 2026, 4:53 p.m.", "24 nov. 2026, 16 h 53".
    ``format`` is accepted and ignored, so that a page or an email asking for "short" or "long"
    gets the same format as every other (docs/decisions.md, "One date format").

    The locale and zone are looked up once per request, and the date and time halves are
    kept per language (``_date_text``, ``_time_text``): a list of 50 rows formats 50 times.
    """
    if value is None:
        return ""
    if not has_app_context():  # no request: English, the zone as given
        return _one_format("en", value)
    if "_format_context" not in g:
        g._format_context = (get_locale(), team_timezone())
    locale, zone = g._format_context
    return _one_format(locale.language, value.astimezone(zone))


def datetime_formatter() -> Callable[[datetime], str]:
    """``format_datetime`` with the language and zone looked up once: for the rows of a list."""
    locale = get_locale()
    language, zone = (locale.language if locale else "en"), team_timezone()
    return lambda value: _one_format(language, value.astimezone(zone))


def format_day(value: date | None, format: str = "medium") -> str:
    """A calendar day (a closure, a holiday, a consent's date) in the date part of the one format.

    ``format`` is accepted and ignored, as in ``format_datetime``.
    """
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value)
    locale = get_locale() if has_app_context() else None
    return _date_text(locale.language if locale else "en", value)


def format_clock(hour: int, minute: int) -> str:
    """A time of day (a schedule's "every day at") as the one format writes times: "7:00 a.m.", "7 h 00"."""
    locale = get_locale() if has_app_context() else None
    return _time_text(locale.language if locale else "en", hour, minute)


def machine_datetime(value: datetime) -> str:
    """A ``<time datetime>`` value: UTC to the second ("2026-11-24T09:53:00Z").

    HTML allows at most three digits of a second; ``isoformat()`` gives six.
    """
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def icon_type(path: str) -> str:
    """The media type of the page icon, from its file name."""
    suffix = path.rsplit(".", 1)[-1].lower()
    return {"svg": "image/svg+xml", "png": "image/png", "ico": "image/x-icon"}.get(suffix, "image/svg+xml")


# The date's width in the one format: the month abbreviated, unambiguous in both languages
# ("Nov 24, 2026", "24 nov. 2026") where "2026-11-24" reads as a code and "11/24" as either order.
ONE_WIDTH: Literal["medium"] = "medium"


@lru_cache(maxsize=8)
def _patterns(language: str) -> tuple[babel.dates.DateTimePattern, babel.dates.DateTimePattern, str, Locale]:
    """The date, the time to the minute and how they join, as written in Canada, parsed once.

    Canadian English and French (en_CA: "Nov 24, 2026, 4:53 a.m."; fr_CA: "24 nov. 2026, 4 h 53").
    CLDR's fr_CA writes the hour on two digits ("04 h 53"); Canadian French writes it without the
    leading zero ("9 h 30": Office québécois de la langue française, Termium), so French drops it.
    Seconds are noise everywhere (issue 10 defect 8: "4:30:00 p.m." in reminders), and the time
    zone is the team's, said nowhere since it is the same on every page and email.
    """
    locale = Locale.parse(f"{language}_CA")
    date_part = babel.dates.get_date_format(ONE_WIDTH, locale)
    time_part = babel.dates.get_time_format("short", locale)
    if language == "fr":
        time_part = babel.dates.parse_pattern(re.sub(r"(?<![H'])HH(?!H)", "H", time_part.pattern))
    # Babel declares a DateTimePattern, but gives the "{1}, {0}" string: str() is right for both.
    glue = str(babel.dates.get_datetime_format(ONE_WIDTH, locale))
    time_fields = {letter for letter in re.sub(r"'[^']*'", "", time_part.pattern) if letter.isalpha()}
    if "'" in glue or not time_fields <= set(_CLOCK_FIELDS):
        raise ValueError(f"the one format of {language} cannot be made in halves: {glue!r}")  # pragma: no cover
    return date_part, time_part, glue, locale


_CLOCK_FIELDS = "hHkKmaBb"  # a time of day's fields: nothing of the date, so the halves are made apart


def _one_format(language: str, local: datetime) -> str:
    """The one format of a time already in the team's zone: the date and the time, each made once."""
    glue = _patterns(language)[2]
    return glue.replace("{1}", _date_text(language, local.date())).replace(
        "{0}", _time_text(language, local.hour, local.minute))


@lru_cache(maxsize=4096)
def _date_text(language: str, day: date) -> str:
    date_part, _, _, locale = _patterns(language)
    return date_part.apply(day, locale)


@lru_cache(maxsize=2048)
def _time_text(language: str, hour: int, minute: int) -> str:
    _, time_part, _, locale = _patterns(language)
    return time_part.apply(time(hour, minute), locale)


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
    app.jinja_env.globals.update(format_datetime=format_datetime, format_day=format_day,
                                 machine_datetime=machine_datetime, icon_type=icon_type)
    # Flask-Babel's filters give other formats: the one format replaces them (issue 10).
    app.jinja_env.filters.update(datetimeformat=format_datetime, dateformat=format_day)
