"""Forms for canned responses, and the messages for what the service refuses."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from inquiry_desk.core.forms import TextLength
from inquiry_desk.inquiries.canned.services import BODY_MAX, TITLE_MAX, Problem

# What each variable holds, for the edit page (keys: canned.available_variables()).
VARIABLE_DESCRIPTIONS = {
    "requester_name": _l("Name of the person who wrote"),
    "reference": _l("Reference number of the inquiry, like INQ-2026-000123"),
    "officer_name": _l("Name of the officer who replies"),
    "subject": _l("Subject of the inquiry"),
    "organisation": _l("Organisation of the person who wrote (may be empty)"),
    "topic": _l("Topic of the inquiry, in the language of the reply (may be empty)"),
}

# Also used when the service finds a field empty once spaces are trimmed.
REQUIRED_MESSAGES = {
    "title_en": _l("Enter the title in English."),
    "body_en": _l("Enter the text in English."),
    "title_fr": _l("Enter the title in French."),
    "body_fr": _l("Enter the text in French."),
}


def _title_field(label: str, message: str, **render_kw: str) -> StringField:
    return StringField(
        label,
        validators=[InputRequired(message),
                    Length(max=TITLE_MAX, message=_l("The title can have at most %(max)d characters."))],
        render_kw={"autocomplete": "off", **render_kw},
    )


def _body_field(label: str, message: str, **render_kw: str) -> TextAreaField:
    return TextAreaField(
        label,
        validators=[InputRequired(message),
                    TextLength(max=BODY_MAX, message=_l("The text can have at most %(max)d characters."))],
        render_kw={"rows": "12", **render_kw},
    )


class CannedResponseForm(FlaskForm):
    title_en = _title_field(_l("Title in English"), REQUIRED_MESSAGES["title_en"], lang="en")
    body_en = _body_field(_l("Text in English"), REQUIRED_MESSAGES["body_en"], lang="en")
    title_fr = _title_field(_l("Title in French"), REQUIRED_MESSAGES["title_fr"], lang="fr")
    body_fr = _body_field(_l("Text in French"), REQUIRED_MESSAGES["body_fr"], lang="fr")
    submit = SubmitField(_l("Save"))

    def service_values(self) -> dict[str, str]:
        return {name: getattr(self, name).data or "" for name in ("title_en", "title_fr", "body_en", "body_fr")}


class DeactivateForm(FlaskForm):
    """A button that only carries the CSRF token."""

    submit = SubmitField(_l("Deactivate this response"))


def problem_message(problem: Problem, label: str) -> str:
    """A sentence for one problem the service found; ``label`` is the field's label."""
    if problem.code == "required":
        return str(REQUIRED_MESSAGES[problem.field])
    if problem.code == "too_long":
        return _("%(field)s can have at most %(limit)s characters.", field=label, limit=problem.limit)
    if problem.code == "syntax":
        return _("%(field)s, line %(line)s: a variable is not written right. Write variables like "
                 "{{ reference }}, with two braces on each side.", field=label, line=problem.line)
    if problem.code == "unknown_variable":
        return _("%(field)s, line %(line)s: there is no variable called {{ %(name)s }}. Use one of the "
                 "variables listed on this page.", field=label, line=problem.line, name=problem.name)
    if problem.code == "too_complex":
        return _("%(field)s: the text has too many {%% if %%} inside one another. Simplify it.", field=label)
    return _("%(field)s, line %(line)s: only variables like {{ reference }} and {%% if organisation %%} … "
             "{%% endif %%} may be used, without dots, brackets, calls or calculations.",
             field=label, line=problem.line or 1)


def show_problems(form: CannedResponseForm, problems: Iterable[Problem]) -> None:
    """Put each problem next to its field, where the error summary finds it."""
    for problem in problems:
        field = getattr(form, problem.field)
        field.errors.append(problem_message(problem, str(field.label.text)))
