"""The public inquiry form, the portal reply form and the new-link form."""

from __future__ import annotations

from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp, ValidationError

from inquiry_desk.core.forms import language_choices, select_choices
from inquiry_desk.directory.labels import ORGANISATION_KIND_LABELS


def organisation_kind_choices() -> list[SelectChoice]:
    return select_choices([("", _l("Choose one")), *((kind, label) for kind, label in
                                                     ORGANISATION_KIND_LABELS.items())])


class ValidEmail:
    """Syntax always; deliverability (a DNS look-up) only when configured."""

    def __call__(self, form: FlaskForm, field: Any) -> None:
        if not field.data:
            return
        try:
            result = validate_email(
                field.data.strip(), check_deliverability=current_app.config["EMAIL_CHECK_DELIVERABILITY"]
            )
        except EmailNotValidError as exc:
            raise ValidationError(_l("Enter an email address like name@example.org.")) from exc
        field.data = result.normalized


class SingleLine:
    """Refuse line breaks and control characters where one line is expected (names, subjects)."""

    def __call__(self, form: FlaskForm, field: Any) -> None:
        if field.data and any(ord(ch) < 32 or ord(ch) == 127 for ch in field.data):
            raise ValidationError(_l("Use one line, without line breaks."))


class InquiryForm(FlaskForm):
    name = StringField(
        _l("Your name"),
        validators=[InputRequired(_l("Enter your name.")), Length(max=200, message=_l("Use 200 characters or fewer.")),
                    SingleLine()],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        _l("Your email address"),
        description=_l("We send our answer and a private link to follow your inquiry to this address."),
        validators=[InputRequired(_l("Enter your email address.")),
                    Length(max=320, message=_l("Use 320 characters or fewer.")), ValidEmail()],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )
    phone = StringField(
        _l("Phone number (optional)"),
        validators=[Optional(), Length(max=40, message=_l("Use 40 characters or fewer.")),
                    Regexp(r"^[0-9+().\- x]*$", message=_l("Use only digits, spaces and + ( ) - in a phone number."))],
        render_kw={"autocomplete": "tel", "type": "tel"},
    )
    organisation = StringField(
        _l("Organisation"),
        description=_l("The organisation you write for, if any."),
        validators=[Optional(), Length(max=300, message=_l("Use 300 characters or fewer.")), SingleLine()],
        render_kw={"autocomplete": "organization"},
    )
    organisation_kind = SelectField(
        _l("Kind of organisation"),
        choices=organisation_kind_choices,
        validators=[InputRequired(_l("Choose the kind of organisation."))],
    )
    topic = SelectField(_l("Topic"), validators=[InputRequired(_l("Choose a topic."))], choices=[])
    subject = StringField(
        _l("Subject"),
        validators=[InputRequired(_l("Enter a subject.")), Length(max=200, message=_l("Use 200 characters or fewer.")),
                    SingleLine()],
    )
    message = TextAreaField(
        _l("Your message"),
        description=_l("Do not include information about a person at risk unless it is needed to answer you."),
        validators=[InputRequired(_l("Enter your message.")),
                    Length(max=20000, message=_l("Use 20,000 characters or fewer."))],
        render_kw={"rows": 10},
    )
    language = SelectField(
        _l("Language for our answer"),
        choices=language_choices,
        validators=[InputRequired()],
    )
    consent = BooleanField(
        _l("I have read the privacy notice and agree that the team keeps and uses this information to answer me."),
        validators=[DataRequired(_l("Agree to the privacy notice so that we can answer you."))],
    )
    # Anti-spam: a field people never see (bots fill it) and the time the form was shown.
    website = StringField(_l("Leave this field empty"), validators=[Optional(), Length(max=200)])
    started = HiddenField()
    submit = SubmitField(_l("Send inquiry"))


class PortalReplyForm(FlaskForm):
    message = TextAreaField(
        _l("Your reply"),
        validators=[InputRequired(_l("Enter your reply.")),
                    Length(max=20000, message=_l("Use 20,000 characters or fewer."))],
        render_kw={"rows": 8},
    )
    submit = SubmitField(_l("Send reply"))


class NewLinkForm(FlaskForm):
    reference = StringField(
        _l("Reference number"),
        description=_l("For example INQ-2026-000123. It is in the confirmation email."),
        validators=[InputRequired(_l("Enter the reference number.")), Length(max=24)],
        render_kw={"spellcheck": "false", "autocomplete": "off"},
    )
    email = EmailField(
        _l("Your email address"),
        validators=[InputRequired(_l("Enter your email address.")), Length(max=320), ValidEmail()],
        render_kw={"autocomplete": "email"},
    )
    submit = SubmitField(_l("Send me a new link"))
