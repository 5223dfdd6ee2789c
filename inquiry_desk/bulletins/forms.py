"""Forms of the bulletin pages: compose, test send, approve, return, single-language, schedule, control."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from inquiry_desk.core.forms import Parsed, SelectChoice
from inquiry_desk.core.text import parse_line, parse_text


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


BODY_HINT = _l("Markdown: # for headings, **bold**, [link text](web address), - for lists, "
               "![description](image address) for an image.")


class BulletinForm(FlaskForm):
    sender_name = StringField(_l("Sender name"), validators=[Parsed(parse_line, max_length=200)])
    lists = CheckboxesField(_l("Mailing lists"), coerce=int,
                            validators=[InputRequired(_l("Choose at least one mailing list."))])
    title_en = StringField(_l("Title in English"), validators=[Parsed(parse_line, max_length=200, required=False)])
    subject_en = StringField(_l("Email subject in English"),
                             validators=[Parsed(parse_line, max_length=200, required=False)])
    body_en = TextAreaField(_l("Text in English"), description=BODY_HINT,
                            validators=[Parsed(parse_text, max_length=100_000, required=False)])
    title_fr = StringField(_l("Title in French"), validators=[Parsed(parse_line, max_length=200, required=False)])
    subject_fr = StringField(_l("Email subject in French"),
                             validators=[Parsed(parse_line, max_length=200, required=False)])
    body_fr = TextAreaField(_l("Text in French"), description=BODY_HINT,
                            validators=[Parsed(parse_text, max_length=100_000, required=False)])
    submit = SubmitField(_l("Save the draft"))


class TestSendForm(FlaskForm):
    addresses = StringField(_l("Staff addresses (optional)"),
                            description=_l("Separated by commas. Empty: your own address."),
                            validators=[Parsed(parse_line, max_length=2000, required=False)])
    submit = SubmitField(_l("Send a test"))


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token (submit, cancel, pause, resume, unschedule)."""

    submit = SubmitField(_l("Go"))


class ApproveForm(FlaskForm):
    version = IntegerField(validators=[InputRequired()])
    acknowledged = CheckboxesField(_l("I have read these warnings"))
    submit = SubmitField(_l("Approve this version"))


class ReturnForm(FlaskForm):
    comment = TextAreaField(_l("What needs to change"),
                            validators=[Parsed(parse_text, max_length=5000,
                                               required_message=_l("Say what needs to change."))])
    submit = SubmitField(_l("Return to draft"))


class SingleLanguageForm(FlaskForm):
    language = SelectField(_l("Send in one language only"), validators=[Optional()])
    reason = StringField(_l("Reason"), validators=[Parsed(parse_line, max_length=500, required=False)])
    submit = SubmitField(_l("Save"))


class ScheduleForm(FlaskForm):
    when = RadioField(_l("When"), choices=[SelectChoice("now", _l("Send now")),
                                           SelectChoice("later", _l("At a date and time"))],
                      default="now", validators=[InputRequired()])
    day = DateField(_l("Date"), validators=[Optional()])
    at = TimeField(_l("Time"), validators=[Optional()])
    submit = SubmitField(_l("Schedule"))


class HiddenVersion(FlaskForm):
    version = HiddenField()


WEEKDAYS = {1: _l("Monday"), 2: _l("Tuesday"), 3: _l("Wednesday"), 4: _l("Thursday"), 5: _l("Friday"),
            6: _l("Saturday"), 7: _l("Sunday")}


class SeriesForm(BulletinForm):
    """A series: its name, rule, lead time and editors, then the template (the bulletin form's fields)."""

    name = StringField(_l("Name of the series"), validators=[Parsed(parse_line, max_length=200)])
    rule = RadioField(_l("Repeats"), choices=[SelectChoice("weekly", _l("Every week")),
                                              SelectChoice("monthly", _l("Every month, on a business day"))],
                      default="weekly", validators=[InputRequired()])
    weekday = SelectField(_l("Day of the week (weekly)"), coerce=int, default=4,
                          choices=[SelectChoice(number, label) for number, label in WEEKDAYS.items()],
                          validators=[Optional()])
    business_day = IntegerField(_l("Business day of the month (monthly)"),
                                description=_l("1 is the first business day: weekends, holidays and closures of "
                                               "the team calendar are not business days."),
                                default=1, validators=[Optional(), NumberRange(1, 10)])
    at = TimeField(_l("Time"), validators=[InputRequired(_l("Enter the time."))])
    lead_days = IntegerField(_l("Lead time in days"),
                             description=_l("Each edition is made as a draft this long before its time, and its "
                                            "editors are told."),
                             default=3, validators=[InputRequired(), NumberRange(0, 31)])
    lead_hours = IntegerField(_l("And hours"), default=0, validators=[Optional(), NumberRange(0, 23)])
    editors = CheckboxesField(_l("Editors"), coerce=int,
                              description=_l("They are told when an edition is ready and when one is held."))
    submit = SubmitField(_l("Save the series"))


class SkipForm(FlaskForm):
    at = HiddenField(validators=[InputRequired()])
    submit = SubmitField(_l("Skip this edition"))
