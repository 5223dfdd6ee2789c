"""Dates as people read them: the team's zone, to the minute, in both languages (issue 10 defect 8)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask_babel import force_locale

from inquiry_desk.core.templating import (
    forget_request_formats,
    format_clock,
    format_datetime,
    format_day,
    machine_datetime,
)

DUE = datetime(2026, 11, 24, 21, 30, 15, 123456, tzinfo=UTC)  # 4:30\u202fp.m. in Toronto


ONE_FORMAT = {"en": "Nov 24, 2026, 4:30\u202fp.m.", "fr": "24 nov. 2026, 16 h 30"}


@pytest.mark.parametrize("width", ["short", "medium", "long", "full"])
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_one_format_to_the_minute_whatever_the_width(app, lang: str, width: str) -> None:
    """Issue 10: one date format everywhere; a template asking for another width gets the same."""
    with app.test_request_context(), force_locale(lang):
        forget_request_formats()
        assert format_datetime(DUE, width) == ONE_FORMAT[lang]


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_days_and_babel_filters_use_the_one_format(app, lang: str) -> None:
    day = {"en": "Nov 24, 2026", "fr": "24 nov. 2026"}[lang]
    with app.test_request_context(), force_locale(lang):
        forget_request_formats()
        assert format_day(DUE.date(), "full") == day
        rendered = app.jinja_env.from_string("{{ d|dateformat('full') }} / {{ t|datetimeformat('short') }}").render(
            d=DUE.date(), t=DUE)
        assert rendered == f"{day} / {ONE_FORMAT[lang]}"


@pytest.mark.parametrize(("hour", "minute", "english", "french"), [
    (9, 30, "9:30\u202fa.m.", "9 h 30"), (0, 5, "12:05\u202fa.m.", "0 h 05"), (16, 0, "4:00\u202fp.m.", "16 h 00")])
def test_a_french_hour_has_no_leading_zero(app, hour: int, minute: int, english: str, french: str) -> None:
    """Canadian French writes "9 h 30" (OQLF, Termium), not CLDR's "09 h 30"; English is unchanged."""
    when = datetime(2026, 11, 24, hour + 5, minute, tzinfo=UTC)  # Toronto is UTC-5 in November
    for lang, expected in (("en", english), ("fr", french)):
        with app.test_request_context(), force_locale(lang):
            forget_request_formats()
            assert format_clock(hour, minute) == expected
            assert format_datetime(when).endswith(f", {expected}")


def test_machine_readable_time_is_valid_html() -> None:
    assert machine_datetime(DUE) == "2026-11-24T21:30:15Z"
