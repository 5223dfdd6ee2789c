"""WTForms' own messages come in the page's language from catalogues kept per process (core/i18n.py),
as Flask-WTF gave them when it read the catalogue on every request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from babel import support
from flask import Flask
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, Length

from inquiry_desk.core.forms import SelectChoice


class _Probe(FlaskForm):
    class Meta:
        csrf = False

    choice = SelectField(choices=[SelectChoice("a", "A")])
    word = StringField(validators=[InputRequired(), Length(min=3)])


def _errors(app: Flask, path: str, data: dict[str, str]) -> dict[str, list[str]]:
    with app.test_request_context(path, method="POST", data=data):
        app.preprocess_request()  # the language hook
        form = _Probe()
        assert not form.validate()
        return {name: [str(error) for error in errors] for name, errors in form.errors.items()}


def test_wtforms_messages_follow_the_language_of_each_request(app_factory: Callable[..., Flask],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    app = app_factory()  # each request in its own app context (Flask-Babel keeps the locale there)
    reads: list[str] = []
    load = support.Translations.load

    def counted(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("domain") == "wtforms":
            reads.append(str(args[1][0]))
        return load(*args, **kwargs)

    monkeypatch.setattr(support.Translations, "load", counted)
    for _ in range(2):  # the second round answers from the kept catalogues
        assert _errors(app, "/fr/demande", {"choice": "z", "word": "ab"}) == {
            "choice": ["N'est pas un choix valide."],
            "word": ["Le champ doit contenir au moins 3 caractères."],
        }
        assert _errors(app, "/en/inquiry", {"choice": "z", "word": ""}) == {
            "choice": ["Not a valid choice."],
            "word": ["This field is required."],
        }
    assert sorted(reads) == ["en", "fr"]  # each catalogue read once, not once per request
