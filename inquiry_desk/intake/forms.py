"""The public inquiry form, the portal reply form and the new-link form."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from inquiry_desk.core.forms import Parsed, SelectChoice, language_choices, select_choices
from inquiry_desk.core.text import parse_email_address, parse_line, parse_text
from inquiry_desk.directory.labels import ORGANISATION_KIND_LABELS
from inquiry_desk.inquiries.attachment_fields import files_field
from inquiry_desk.intake.services import MESSAGE_MAX


def organisation_kind_choices() -> list[SelectChoice]:
    return select_choices([("", _l("Choose one")), *((kind, label) for kind, label in
                                                     ORGANISATION_KIND_LABELS.items())])


class ValidEmail:
    """Syntax always; deliverability (a DNS look-up) only when configured."""

    def __call__(self, form: FlaskForm, field: Any) -> None:
        Parsed(parse_email_address, required=False,
               check_deliverability=current_app.config["EMAIL_CHECK_DELIVERABILITY"])(form, field)


class InquiryForm(FlaskForm):
    name = StringField(
        _l("Your name"),
        validators=[Parsed(parse_line, max_length=200, required_message=_l("Enter your name."))],
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
        validators=[Parsed(parse_line, max_length=300, required=False)],
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
        validators=[Parsed(parse_line, max_length=200, required_message=_l("Enter a subject."))],
    )
    message = TextAreaField(
        _l("Your message"),
        description=_l("Do not include information about a person at risk unless it is needed to answer you."),
        validators=[Parsed(parse_text, max_length=MESSAGE_MAX, required_message=_l("Enter your message."))],
        render_kw={"rows": 10},
    )
    attachments = files_field()
    # Always one of the two, preselected with the page's language: not `required` in the HTML sense
    # (a required select must start with an empty option); SelectField refuses any other value.
    language = SelectField(
        _l("Language for our answer"),
        choices=language_choices,
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
        validators=[Parsed(parse_text, max_length=MESSAGE_MAX, required_message=_l("Enter your reply."))],
        render_kw={"rows": 8},
    )
    attachments = files_field()
    submit = SubmitField(_l("Send reply"))


class NewLinkForm(FlaskForm):
    reference = StringField(
        _l("Reference number"),
        description=_l("For example INQ-2026-000123. It is in the confirmation email."),
        validators=[Parsed(parse_line, max_length=24, required_message=_l("Enter the reference number."))],
        render_kw={"spellcheck": "false", "autocomplete": "off"},
    )
    email = EmailField(
        _l("Your email address"),
        validators=[InputRequired(_l("Enter your email address.")), Length(max=320), ValidEmail()],
        render_kw={"autocomplete": "email"},
    )
    submit = SubmitField(_l("Send me a new link"))
