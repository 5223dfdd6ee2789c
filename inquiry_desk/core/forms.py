"""Helpers shared by every capability's forms: select options, errors added after validation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from wtforms import Field

# types-WTForms 3.2 predates SelectChoice (WTForms 3.3): other modules import it from here.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]

__all__ = ["SelectChoice", "add_error", "language_choices", "required", "select_choices"]

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
