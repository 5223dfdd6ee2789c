"""What every capability's forms share: options for select fields, and the ``Parsed`` validator."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from wtforms.fields.choices import SelectChoice
from wtforms.validators import StopValidation

from inquiry_desk.core.domain import DomainError
from inquiry_desk.core.text import TextRequired


def select_choices(pairs: Iterable[tuple[str, object]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms options; labels may be lazy strings."""
    return [SelectChoice(value, str(label)) for value, label in pairs]


def language_choices() -> list[SelectChoice]:
    """The two official languages, each named in itself and marked with its language."""
    return [
        SelectChoice("en", "English", render_kw={"lang": "en"}),
        SelectChoice("fr", "Français", render_kw={"lang": "fr"}),
    ]


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
