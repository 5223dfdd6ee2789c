"""Options for select fields, shared by every capability's forms."""

from __future__ import annotations

from collections.abc import Iterable

from wtforms.fields.choices import SelectChoice


def select_choices(pairs: Iterable[tuple[str, object]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms options; labels may be lazy strings."""
    return [SelectChoice(value, str(label)) for value, label in pairs]


def language_choices() -> list[SelectChoice]:
    """The two official languages, each named in itself and marked with its language."""
    return [
        SelectChoice("en", "English", render_kw={"lang": "en"}),
        SelectChoice("fr", "Français", render_kw={"lang": "fr"}),
    ]
