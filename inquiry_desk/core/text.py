"""Plain-text input, checked the same way wherever it comes from (a form, email in, the API).

- Line endings are normalised to ``\\n`` before anything is counted: a browser sends CRLF, so
  a 20,000-character message with line breaks would otherwise count some characters twice.
- Control characters are refused with a clear message: NUL cannot be stored by PostgreSQL at
  all, and the others have no business in a name or a message. A single line (a name, a
  subject, a tag) also refuses line breaks and tabs; a text keeps ``\\n`` and ``\\t``.
- Leading and trailing whitespace is dropped, and what is left must not be empty when the
  value is required: a subject of spaces is no subject.
"""

from __future__ import annotations

import re
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l

from inquiry_desk.core.domain import InvalidInput

# C0 controls, DEL and the C1 block, plus the Unicode line and paragraph separators.
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_IN_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class TextRequired(InvalidInput):
    code = "required"
    default_message = _l("This field is required.")


class TextTooLong(InvalidInput):
    code = "too_long"

    def __init__(self, limit: int) -> None:
        super().__init__(_l("Use %(count)s characters or fewer.", count=format_decimal(limit)))
        self.limit = limit


class ControlCharacters(InvalidInput):
    code = "control_characters"
    default_message = _l("Remove the invisible control characters (for example from a copy and paste).")


class LineBreaks(InvalidInput):
    code = "line_breaks"
    default_message = _l("Use one line, without line breaks.")


def has_control_characters(value: str, *, single_line: bool = True) -> bool:
    """Whether a text holds characters ``parse_line`` (or, not single-line, ``parse_text``) refuses."""
    return bool((_CONTROL_IN_LINE if single_line else _CONTROL_IN_TEXT).search(value))


def normalise_newlines(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n")


def parse_text(value: Any, *, max_length: int, required: bool = True) -> str:
    """A text of several lines (a message, a note): newlines normalised, stripped, checked."""
    text = normalise_newlines(str(value or "")).strip()
    if not text:
        if required:
            raise TextRequired()
        return ""
    if _CONTROL_IN_TEXT.search(text):
        raise ControlCharacters()
    if len(text) > max_length:
        raise TextTooLong(max_length)
    return text


def parse_line(value: Any, *, max_length: int, required: bool = True) -> str:
    """One line (a name, a subject, a tag, a search): stripped, without line breaks or controls."""
    text = str(value or "").strip()
    if not text:
        if required:
            raise TextRequired()
        return ""
    if "\n" in text or "\r" in text:
        raise LineBreaks()
    if _CONTROL_IN_LINE.search(text):
        raise ControlCharacters()
    if len(text) > max_length:
        raise TextTooLong(max_length)
    return text


class InvalidEmailAddress(InvalidInput):
    code = "invalid_email"
    default_message = _l("Enter an email address like name@example.org.")


EMAIL_MAX = 320


def parse_email_address(value: Any, *, required: bool = True, check_deliverability: bool = False) -> str:
    """An email address, normalised (the domain lower-cased, Unicode normalised) and checked.

    ``check_deliverability`` also asks DNS whether the domain takes mail.
    """
    line = parse_line(value, max_length=EMAIL_MAX, required=required)
    if not line:
        return ""
    try:
        return validate_email(line, check_deliverability=check_deliverability).normalized
    except EmailNotValidError as exc:
        raise InvalidEmailAddress() from exc


# The plainest addresses (a dot-atom of common characters at an ASCII host name with a
# letters-only top-level domain) are, by construction, ones ``parse_email_address`` accepts
# unchanged but for case: they skip its slower full check (a large file is mostly these).
# Anything else (Unicode, "xn--", a double hyphen, a special-use domain, a long part) takes the
# full check. tests/core/test_email_key.py holds the two to the same answers.
_PLAIN_ADDRESS = re.compile(
    r"(?P<local>[a-z0-9_%+-]{1,64}(?:\.[a-z0-9_%+-]{1,64})*)@"
    r"(?P<domain>(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?P<tld>[a-z]{2,63}))",
    re.IGNORECASE | re.ASCII,
)
_SPECIAL_USE = frozenset(("arpa", "invalid", "local", "localhost", "onion", "test"))


def parse_email_key(value: Any) -> str:
    """An email address as the key of one contact: checked as ``parse_email_address`` does, lower-cased.

    One address is one contact, compared in lower case: the directory's forms and CSV import,
    the mailing lists' sign-ups, members and CSV import all parse addresses here.
    """
    if isinstance(value, str):
        match = _PLAIN_ADDRESS.fullmatch(value)
        if (match is not None and len(value) <= 254 and len(match["local"]) <= 64 and "--" not in match["domain"]
                and match["tld"].lower() not in _SPECIAL_USE):
            return value.lower()
    return parse_email_address(value).lower()
