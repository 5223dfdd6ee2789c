"""Forms of the staff's intake pages: an inquiry logged by staff, a partner's network (issue 10)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired

from inquiry_desk.core.forms import Parsed, language_choices, select_choices
from inquiry_desk.core.text import parse_email_address, parse_line, parse_text
from inquiry_desk.intake import networks
from inquiry_desk.intake.services import MESSAGE_MAX, NAME_MAX, ORGANISATION_MAX, PHONE_MAX, SUBJECT_MAX


class LogInquiryForm(FlaskForm):
    channel = RadioField(
        _l("How it came in"),
        choices=lambda: select_choices([("phone", _l("By phone")),
                                        ("manual", _l("In a meeting, by letter or forwarded by another office"))]),
        default="phone", validators=[InputRequired(_l("Choose how the inquiry came in."))],
    )
    subject = StringField(_l("Subject"), validators=[
        Parsed(parse_line, max_length=SUBJECT_MAX, required_message=_l("Enter a subject."))])
    message = TextAreaField(
        _l("What the stakeholder asked"),
        description=_l("In their words where you can: it is the first message of the inquiry."),
        validators=[Parsed(parse_text, max_length=MESSAGE_MAX, required_message=_l("Enter what was asked."))],
        render_kw={"rows": 8},
    )
    topic = SelectField(_l("Topic (optional)"), choices=[])
    language = SelectField(_l("Language of the stakeholder"), choices=language_choices)
    name = StringField(_l("Stakeholder’s name (optional)"), validators=[
        Parsed(parse_line, max_length=NAME_MAX, required=False)], render_kw={"autocomplete": "off"})
    email = EmailField(
        _l("Stakeholder’s email address (optional)"),
        description=_l("Without an address the inquiry has no stakeholder: nobody can be answered by email."),
        validators=[Parsed(parse_email_address, required=False)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    phone = StringField(_l("Stakeholder’s phone number (optional)"), validators=[
        Parsed(parse_line, max_length=PHONE_MAX, required=False)], render_kw={"autocomplete": "off", "type": "tel"})
    organisation = StringField(_l("Organisation (optional)"), validators=[
        Parsed(parse_line, max_length=ORGANISATION_MAX, required=False)], render_kw={"autocomplete": "off"})
    send_confirmation = BooleanField(
        _l("Email the stakeholder a confirmation with the reference number and a private link"))
    submit = SubmitField(_l("Log the inquiry"))


class NetworkForm(FlaskForm):
    network = StringField(
        _l("Network"),
        description=_l("An address or a network in CIDR form, for example 203.0.113.0/24 or 2001:db8::/48."),
        validators=[Parsed(parse_line, max_length=networks.NETWORK_MAX, required_message=_l("Enter a network."))],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    label = StringField(
        _l("Whose network"),
        description=_l("The partner and its office, so that others know why it is here."),
        validators=[Parsed(parse_line, max_length=networks.LABEL_MAX,
                           required_message=_l("Say whose network this is."))],
        render_kw={"autocomplete": "off"},
    )
    submit = SubmitField(_l("Add the network"))


class RemoveForm(FlaskForm):
    """A button that takes a network off the list (the form carries only the CSRF token)."""
