"""Forms of the directory's pages. The rules live in directory.rules; these only check the shape."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Optional

from inquiry_desk.core.forms import SelectChoice, add_error, language_choices
from inquiry_desk.directory.labels import DIRECTORY_KIND_CHOICES, PARTNERSHIP_STATUS_LABELS


def kind_choices(blank: bool = False) -> list[SelectChoice]:
    choices = [SelectChoice(value, str(label)) for value, label in DIRECTORY_KIND_CHOICES]
    return [SelectChoice("", str(_l("Any kind"))), *choices] if blank else choices


def status_choices(blank: bool = False, *, include_trusted: bool = True) -> list[SelectChoice]:
    choices = [SelectChoice(value, str(label)) for value, label in PARTNERSHIP_STATUS_LABELS.items()
               if include_trusted or value != "trusted_referral_partner"]
    return [SelectChoice("", str(_l("Any status"))), *choices] if blank else choices


def show_problems(form: FlaskForm, problems: dict[str, str]) -> None:
    """Put what the service refused on the fields (or on the form when no field has that name)."""
    for name, message in problems.items():
        field = getattr(form, name, None)
        if field is not None:
            add_error(field, message)
        else:
            form.form_errors.append(message)


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name (English, or the organisation's own)"),
                       validators=[InputRequired(_l("Enter the organisation's name."))])
    name_fr = StringField(_l("Name in French (optional)"), render_kw={"lang": "fr"})
    short_name = StringField(_l("Short name (optional)"), description=_l("For example JHR or MCC."))
    kind = SelectField(_l("Kind of organisation"))
    status = SelectField(_l("Partnership status"), description=_l(
        "A trusted referral partner is set afterwards, on the organisation's page, by a lead with a reason."))
    website = StringField(_l("Website (optional)"))
    country = StringField(_l("Country (optional)"))
    tags = StringField(_l("Tags (optional)"), description=_l("Separate tags with commas."))
    notes = TextAreaField(_l("Notes (optional)"), render_kw={"rows": "4"})
    submit = SubmitField(_l("Save"))

    def __init__(self, *args: Any, new: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = kind_choices()
        if new:
            self.status.choices = status_choices(include_trusted=False)
        else:
            del self.status

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name).data for name in
                ("name", "name_fr", "short_name", "kind", "website", "country", "tags", "notes")}


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"))
    reason = TextAreaField(_l("Reason"), render_kw={"rows": "3"}, description=_l(
        "Needed to give or take trusted referral partner status: the due-diligence note."))
    submit = SubmitField(_l("Change the status"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = status_choices()


class DomainForm(FlaskForm):
    domain = StringField(_l("Email domain"), validators=[InputRequired(_l("Enter a domain like example.org."))],
                         description=_l("The part after the @, for example amanlara.org."))
    include_subdomains = BooleanField(_l("Also its subdomains (like field.example.org)"))
    method = StringField(_l("How it was verified"), description=_l(
        "For example: a call to the number on the organisation's website, a DNS record, a signed letter."))
    submit = SubmitField(_l("Add the verified domain"))


class ConfirmForm(FlaskForm):
    confirm = BooleanField(_l("I have checked, and I want to do this"),
                           validators=[InputRequired(_l("Tick the box to confirm."))])
    submit = SubmitField(_l("Confirm"))


class PlainForm(FlaskForm):
    """A button that posts (CSRF only)."""


class MergeForm(FlaskForm):
    kept_id = RadioField(_l("Keep this one"), coerce=str, validators=[InputRequired(_l("Choose the one to keep."))])
    confirm = BooleanField(_l("Every link moves to the one kept; this one is kept as merged. I want to merge."),
                           validators=[InputRequired(_l("Tick the box to confirm."))])
    submit = SubmitField(_l("Merge"))


class ContactForm(FlaskForm):
    email = StringField(_l("Email address"), validators=[InputRequired(_l("Enter the email address."))],
                        render_kw={"autocomplete": "off"})
    name = StringField(_l("Name"), validators=[InputRequired(_l("Enter the name."))])
    title = StringField(_l("Title (optional)"))
    phone = StringField(_l("Phone (optional)"))
    organisation = StringField(_l("Organisation (optional)"),
                               description=_l("Its name as it is in the directory."))
    language = SelectField(_l("Preferred language"))
    notes = TextAreaField(_l("Notes (optional)"), render_kw={"rows": "4"})
    submit = SubmitField(_l("Save"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = language_choices()

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name).data for name in ("email", "name", "title", "phone", "language", "notes")}


class SenderForm(FlaskForm):
    """File an inquiry's sender in the directory: the contact and its organisation, in one step."""

    name = StringField(_l("Name"), validators=[InputRequired(_l("Enter the name."))])
    title = StringField(_l("Title (optional)"))
    phone = StringField(_l("Phone (optional)"))
    language = SelectField(_l("Preferred language"))
    organisation = StringField(_l("An organisation of the directory"), validators=[Optional()],
                               description=_l("Its name as it is in the directory. Leave empty to add a new one."))
    new_organisation = StringField(_l("Or a new organisation: its name"), validators=[Optional()])
    new_kind = SelectField(_l("Kind of the new organisation"))
    submit = SubmitField(_l("Save the contact and link the organisation"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = language_choices()
        self.new_kind.choices = kind_choices()


class ImportForm(FlaskForm):
    subject = RadioField(_l("What the file holds"), choices=[SelectChoice("organisations", _l("Organisations")),
                                                            SelectChoice("contacts", _l("Contacts"))],
                         validators=[InputRequired(_l("Choose what the file holds."))], default="contacts")
    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose a CSV file."))],
                     description=_l("UTF-8, with the column names on the first line."))
    submit = SubmitField(_l("Check the file"))


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search"))


class HiddenIdForm(FlaskForm):
    target = HiddenField()
