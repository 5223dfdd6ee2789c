"""Dates as people read them: the team's zone, to the minute, in both languages (issue 10 defect 8)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask_babel import force_locale

from inquiry_desk.core.templating import forget_request_formats, format_datetime, machine_datetime

DUE = datetime(2026, 11, 24, 21, 30, 15, 123456, tzinfo=UTC)  # 4:30\u202fp.m. in Toronto


@pytest.mark.parametrize(("lang", "width", "expected"), [
    ("en", "long", "November 24, 2026, 4:30\u202fp.m. EST"),
    ("fr", "long", "24 novembre 2026, 16 h 30 HNE"),
    ("en", "medium", "Nov 24, 2026, 4:30\u202fp.m."),
    ("en", "short", "2026-11-24, 4:30\u202fp.m."),
])
def test_no_seconds_in_any_width(app, lang: str, width: str, expected: str) -> None:
    with app.test_request_context(), force_locale(lang):
        forget_request_formats()
        assert format_datetime(DUE, width) == expected


def test_machine_readable_time_is_valid_html() -> None:
    assert machine_datetime(DUE) == "2026-11-24T21:30:15Z"
