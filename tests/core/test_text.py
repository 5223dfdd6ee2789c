"""core/text.py: plain text checked the same way from every way in (QUALITY.md R7; issue 10 defect 5)."""

from __future__ import annotations

import pytest

from inquiry_desk.core import text


def test_line_endings_are_normalised_before_counting() -> None:
    """A browser sends CRLF: 20,000 characters with line breaks must not count as more."""
    body = ("x" * 99 + "\r\n") * 200  # 20,000 characters as the browser counts them, 20,200 as sent
    assert len(body) == 20_200
    parsed = text.parse_text(body, max_length=20_000)
    assert len(parsed) == 19_999 and "\r" not in parsed  # the last line break is stripped
    with pytest.raises(text.TextTooLong):
        text.parse_text("x" * 20_001, max_length=20_000)


@pytest.mark.parametrize("value", ["secret abc\x00def", "bell\x07", "escape\x1b[31m", "next\x85line", "a\u2028b"])
def test_control_characters_are_refused_in_text_and_lines(value: str) -> None:
    with pytest.raises(text.ControlCharacters):
        text.parse_text(value, max_length=100)
    with pytest.raises((text.ControlCharacters, text.LineBreaks)):
        text.parse_line(value, max_length=100)


def test_a_text_keeps_its_line_breaks_and_tabs_and_a_line_refuses_them() -> None:
    assert text.parse_text("  one\n\ttwo  ", max_length=100) == "one\n\ttwo"
    with pytest.raises(text.LineBreaks):
        text.parse_line("one\ntwo", max_length=100)
    with pytest.raises(text.ControlCharacters):
        text.parse_line("one\ttwo", max_length=100)


@pytest.mark.parametrize("blank", ["", "   ", "\r\n\t \n", None])
def test_blank_is_empty_and_refused_when_required(blank: str | None) -> None:
    with pytest.raises(text.TextRequired):
        text.parse_text(blank, max_length=10)
    with pytest.raises(text.TextRequired):
        text.parse_line(blank, max_length=10)
    assert text.parse_line(blank, max_length=10, required=False) == ""


def test_errors_have_stable_codes_and_messages(app) -> None:
    with pytest.raises(text.TextTooLong) as caught:
        text.parse_line("abcdef", max_length=5)
    assert caught.value.code == "too_long" and caught.value.limit == 5
    assert str(caught.value) == "Use 5 characters or fewer."
