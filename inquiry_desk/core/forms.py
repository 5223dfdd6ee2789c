"""What every capability's forms share: select options, errors added after validation, ``Parsed``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from wtforms import Field

# types-WTForms 3.2 predates SelectChoice (WTForms 3.3): other modules import it from here.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import Length, StopValidation

from inquiry_desk.core.domain import DomainError
from inquiry_desk.core.text import TextRequired, normalise_newlines

__all__ = ["Parsed", "SelectChoice", "TextLength", "add_error", "language_choices", "required", "select_choices"]

Value = TypeVar("Value")


def select_choices(pairs: Iterable[tuple[str, object]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms options; labels may be lazy strings."""
    return [SelectChoice(value, str(label)) for value, label in pairs]


def language_choices() -> list[SelectChoice]:
    """The two official languages, each named in itself and marked with its language."""
    return [
        SelectChoice("en", "English", render_kw={"lang": "en"}),
        SelectChoice("fr", "Français", render_kw={"lang": "fr"}),
    ]


def add_error(field: Field, message: str) -> None:
    """Show ``message`` on ``field`` after validation: a service refused what the form accepted."""
    field.errors = [*field.errors, message]


def required(value: Value | None) -> Value:
    """The value of a field that validation has made sure of: a WTForms field's ``data`` is typed optional."""
    if value is None:
        raise ValueError("a field that validation requires has no value")
    return value


class Parsed:
    """A WTForms validator that runs one of the plain ``parse_*`` functions (core/text.py…).

    The form and every other way in (email, the API) then check a value the same way; the
    field keeps the cleaned value. ``required_message`` replaces the generic "required" text
    with the field's own ("Enter your name.").
    """

    def __init__(self, parse: Callable[..., Any], *, required_message: Any = None, **options: Any) -> None:
        self.parse = parse
        self.options = options
        self.required_message = required_message
        self.field_flags: dict[str, Any] = {"required": True} if options.get("required", True) else {}
        if "max_length" in options:  # the browser counts a line break once, as the parse function does
            self.field_flags["maxlength"] = options["max_length"]

    def __call__(self, form: Any, field: Any) -> None:
        try:
            field.data = self.parse(field.data, **self.options)
        except TextRequired as exc:
            raise StopValidation(str(self.required_message or exc)) from exc
        except DomainError as exc:
            raise StopValidation(str(exc)) from exc


class TextLength(Length):
    """``Length`` counting a line break once, as the browser's ``maxlength`` does (a textarea sends CRLF)."""

    def __call__(self, form: Any, field: Any) -> None:
        raw = field.data
        if isinstance(raw, str):
            field.data = normalise_newlines(raw)
        try:
            super().__call__(form, field)
        finally:
            field.data = raw
