"""Forms of the mailing pages: public sign-up and preferences; staff lists, members, import, suppression."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    FileField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from inquiry_desk.core.forms import Parsed, language_choices
from inquiry_desk.core.text import parse_email_address, parse_line, parse_text


class CheckboxesField(SelectMultipleField):
    """A group of checkboxes (one per list)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class FileRequired:
    """A file was uploaded (Flask-WTF hands WTForms the request's files with its form)."""

    def __init__(self, message: object) -> None:
        self.message = message

    def __call__(self, form: FlaskForm, field: FileField) -> None:
        if not hasattr(field.data, "read") or not getattr(field.data, "filename", ""):
            raise StopValidation(str(self.message))


def _email_field(label: str) -> EmailField:
    return EmailField(label, validators=[InputRequired(_l("Enter your email address.")),
                                         Length(max=320, message=_l("Use 320 characters or fewer.")),
                                         Parsed(parse_email_address)],
                      render_kw={"autocomplete": "email", "spellcheck": "false"})


class SubscribeForm(FlaskForm):
    email = _email_field(_l("Your email address"))
    name = StringField(_l("Your name (optional)"), validators=[Parsed(parse_line, max_length=200, required=False)],
                       render_kw={"autocomplete": "name"})
    lists = CheckboxesField(_l("Mailing lists"), coerce=int,
                            validators=[InputRequired(_l("Choose at least one mailing list."))])
    language = RadioField(_l("Language of the bulletins"), validators=[InputRequired()])
    consent = BooleanField(validators=[InputRequired(_l("Tick the box to agree to receive the bulletins."))])
    submit = SubmitField(_l("Subscribe"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = language_choices()


class ConfirmForm(FlaskForm):
    submit = SubmitField(_l("Confirm my subscription"))


class PreferencesForm(FlaskForm):
    lists = CheckboxesField(_l("The lists you receive"), coerce=int)
    language = RadioField(_l("Language of the bulletins"), validators=[InputRequired()])
    submit = SubmitField(_l("Save my preferences"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = language_choices()


class UnsubscribeAllForm(FlaskForm):
    submit = SubmitField(_l("Unsubscribe from all lists"))


class UndoForm(FlaskForm):
    submit = SubmitField(_l("Undo: subscribe me again"))


# --- staff -----------------------------------------------------------------------------------

class ListForm(FlaskForm):
    name_en = StringField(_l("Name in English"), validators=[Parsed(parse_line, max_length=200)])
    name_fr = StringField(_l("Name in French"), validators=[Parsed(parse_line, max_length=200)])
    description_en = TextAreaField(_l("Description in English"),
                                   validators=[Parsed(parse_text, max_length=2000, required=False)])
    description_fr = TextAreaField(_l("Description in French"),
                                   validators=[Parsed(parse_text, max_length=2000, required=False)])
    public = BooleanField(_l("Public: anyone may subscribe on the public page"))
    organisation_kinds = CheckboxesField(_l("Meant for these kinds of organisation"))
    submit = SubmitField(_l("Save the list"))


class ArchiveForm(FlaskForm):
    archived = HiddenField()
    submit = SubmitField(_l("Archive the list"))


class MemberForm(FlaskForm):
    email = _email_field(_l("Email address"))
    name = StringField(_l("Name (optional)"), validators=[Parsed(parse_line, max_length=200, required=False)])
    language = SelectField(_l("Language of the bulletins"), validators=[InputRequired()])
    consent_source = StringField(
        _l("How they asked to be on the list"),
        description=_l("For example: asked by phone on 30 November 2026."),
        validators=[Parsed(parse_line, max_length=500,
                           required_message=_l("Say how this person asked to be on the list."))],
    )
    submit = SubmitField(_l("Add the member"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = language_choices()


class RemoveMemberForm(FlaskForm):
    consent_source = StringField(
        _l("How they asked to leave the list"),
        validators=[Parsed(parse_line, max_length=500, required_message=_l("Say how this person asked to leave."))],
    )
    submit = SubmitField(_l("Remove from the list"))


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"), description=_l("UTF-8, with a header line: email, and optionally name and "
                                                    "language (en or fr)."),
                     validators=[FileRequired(_l("Choose a CSV file."))])
    consent_source = StringField(
        _l("How everyone in this file asked to be on the list"),
        validators=[Parsed(parse_line, max_length=500,
                           required_message=_l("Say how the people in this file asked to be on the list."))],
    )
    submit = SubmitField(_l("Check the file"))


class RunImportForm(FlaskForm):
    submit = SubmitField(_l("Import these subscribers"))


class SuppressForm(FlaskForm):
    email = _email_field(_l("Email address"))
    source = StringField(_l("Why"), validators=[Parsed(parse_line, max_length=200)])
    submit = SubmitField(_l("Suppress the address"))


class LiftForm(FlaskForm):
    reason = StringField(_l("Why it may receive email again"),
                         validators=[Parsed(parse_line, max_length=500,
                                            required_message=_l("Say why this address may receive email again."))])
    submit = SubmitField(_l("Lift"))
