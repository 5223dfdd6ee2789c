"""Forms for the lead's settings page: service targets, the working week and closures."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from babel.dates import get_day_names
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, Field, IntegerField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, NumberRange, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, DateInput, ListWidget, TimeInput

from inquiry_desk.core.forms import SelectChoice, add_error, select_choices
from inquiry_desk.core.ids import MAX_ID
from inquiry_desk.inquiries.labels import priority_label
from inquiry_desk.inquiries.models import Priority
from inquiry_desk.inquiries.targets.business_hours import CANADIAN_SUBDIVISIONS

MAX_HOURS = 5000
REASON_MAX = 200

SUBDIVISION_LABELS = {
    "AB": _l("Alberta"),
    "BC": _l("British Columbia"),
    "MB": _l("Manitoba"),
    "NB": _l("New Brunswick"),
    "NL": _l("Newfoundland and Labrador"),
    "NS": _l("Nova Scotia"),
    "NT": _l("Northwest Territories"),
    "NU": _l("Nunavut"),
    "ON": _l("Ontario"),
    "PE": _l("Prince Edward Island"),
    "QC": _l("Quebec"),
    "SK": _l("Saskatchewan"),
    "YT": _l("Yukon"),
}


def subdivision_choices() -> list[SelectChoice]:
    pairs = sorted(((code, str(SUBDIVISION_LABELS.get(code, code))) for code in CANADIAN_SUBDIVISIONS),
                   key=lambda pair: pair[1])
    return select_choices(pairs)


def weekday_choices() -> list[SelectChoice]:
    """ISO weekdays (1 = Monday) named in the page's language."""
    names = get_day_names("wide", context="stand-alone", locale=get_locale())
    return select_choices((str(index + 1), names[index][:1].upper() + names[index][1:]) for index in range(7))


def format_hours(minutes: int) -> str:
    """Minutes as hours for a form field: 480 -> "8", 90 -> "1.5" ("1,5" in French)."""
    return format_decimal(Decimal(minutes) / 60, format="0.##")


def format_clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


class HoursField(StringField):
    """A number of business hours, typed with a decimal point or comma; ``minutes`` holds the value."""

    def __init__(self, label: Any = None, *, what: str, **kwargs: Any) -> None:
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off", "size": "6"})
        super().__init__(label, **kwargs)
        self.what = what
        self.minutes: int | None = None

    def pre_validate(self, form: Any) -> None:
        self.minutes = None
        text = re.sub(r"[\s\u00a0\u202f]", "", self.data or "")
        if not text:
            raise StopValidation(_("%(field)s: enter a number of hours.", field=self.what))
        if "," in text and "." in text:
            text = ""
        try:
            hours = Decimal(text.replace(",", "."))
        except InvalidOperation:
            hours = Decimal("NaN")
        if not hours.is_finite():
            raise StopValidation(_("%(field)s: enter the hours as a number, like 8 or 1.5.", field=self.what))
        minutes = int((hours * 60).to_integral_value())
        if minutes < 1:
            raise StopValidation(_("%(field)s: enter more than zero hours.", field=self.what))
        if hours > MAX_HOURS:
            raise StopValidation(_("%(field)s: enter at most %(max)s hours.", field=self.what,
                                   max=format_decimal(MAX_HOURS)))
        self.minutes = minutes


class ClockField(StringField):
    """A time of day (HH:MM) in the team's time zone; ``minute`` holds minutes after midnight."""

    widget = TimeInput()

    def __init__(self, label: Any = None, *, missing: str, invalid: str, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.missing, self.invalid = missing, invalid
        self.minute: int | None = None

    def pre_validate(self, form: Any) -> None:
        self.minute = None
        text = (self.data or "").strip()
        if not text:
            raise StopValidation(str(self.missing))
        match = re.fullmatch(r"(\d{1,2})[:h](\d{2})(?::00)?", text)
        if not match or int(match[1]) > 23 or int(match[2]) > 59:
            raise StopValidation(str(self.invalid))
        self.minute = int(match[1]) * 60 + int(match[2])


class DayField(DateField):
    """A date (YYYY-MM-DD, as date inputs send it) with a message people understand."""

    widget = DateInput()

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not "".join(valuelist).strip():
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(_("Enter the date as year, month and day, like 2026-12-24.")) from exc


class _PrefixedForm(FlaskForm):
    """Several forms share the settings page: each names its fields with its own prefix."""

    PREFIX = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", self.PREFIX)
        super().__init__(*args, **kwargs)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TargetsForm(_PrefixedForm):
    """Hours for every target on the page; fields are added per target by ``targets_form``."""

    PREFIX = "targets"

    submit = SubmitField(_l("Save targets"))
    # Set by ``targets_form``, with a field pair per target.
    target_ids: list[int]
    row_labels: dict[int, str]

    def rows(self) -> list[tuple[int, HoursField, HoursField]]:
        return [(target_id, cast(HoursField, self[f"first_{target_id}"]),
                 cast(HoursField, self[f"resolution_{target_id}"])) for target_id in self.target_ids]

    def minutes_by_target(self) -> dict[int, tuple[int, int]]:
        return {target_id: (first.minutes, resolution.minutes) for target_id, first, resolution in self.rows()
                if first.minutes is not None and resolution.minutes is not None}

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for target_id, first, resolution in self.rows():
            if first.minutes is not None and resolution.minutes is not None and resolution.minutes < first.minutes:
                add_error(resolution, _("%(row)s: the time to resolution cannot be shorter than the time to "
                                           "first response.", row=self.row_labels[target_id]))
                valid = False
        return valid


def targets_form(rows: Iterable[tuple[int, str, int, int]], *, from_request: bool = False) -> TargetsForm:
    """A TargetsForm for (target id, row label, first response minutes, resolution minutes) rows.

    Filled from the request when ``from_request``, else from the stored minutes.
    """
    rows = list(rows)

    class Form(TargetsForm):
        pass

    data = {}
    for target_id, label, first, resolution in rows:
        setattr(Form, f"first_{target_id}", HoursField(
            _("%(row)s: hours to first response", row=label), what=_("%(row)s, first response", row=label)))
        setattr(Form, f"resolution_{target_id}", HoursField(
            _("%(row)s: hours to resolution", row=label), what=_("%(row)s, resolution", row=label)))
        data[f"first_{target_id}"] = format_hours(first)
        data[f"resolution_{target_id}"] = format_hours(resolution)
    form = Form() if from_request else Form(formdata=None, data=data)
    form.target_ids = [row[0] for row in rows]
    form.row_labels = {row[0]: row[1] for row in rows}
    return form


def priority_choices() -> list[SelectChoice]:
    return select_choices((priority.value, priority_label(priority.value)) for priority in reversed(Priority))


class TopicTargetForm(_PrefixedForm):
    """A target for one topic and priority, instead of the default for that priority."""

    PREFIX = "topic-target"

    topic = SelectField(_l("Topic"), coerce=int, validate_choice=True)
    priority = SelectField(_l("Priority"), choices=priority_choices)
    first_response = HoursField(_l("Hours to first response"), what=_l("Hours to first response"))
    resolution = HoursField(_l("Hours to resolution"), what=_l("Hours to resolution"))
    submit = SubmitField(_l("Add the target"))

    def validate_resolution(self, field: HoursField) -> None:
        first = self.first_response.minutes
        if first is not None and field.minutes is not None and field.minutes < first:
            raise ValidationError(_("The time to resolution cannot be shorter than the time to first response."))


class CalendarForm(_PrefixedForm):
    PREFIX = "calendar"

    working_days = MultiCheckboxField(_l("Working days"), coerce=int, choices=weekday_choices,
                                      validators=[InputRequired(_l("Choose at least one working day."))])
    opens = ClockField(_l("Opening time"), missing=_l("Enter the opening time."),
                       invalid=_l("Enter the opening time as hours and minutes, like 08:30."))
    closes = ClockField(_l("Closing time"), missing=_l("Enter the closing time."),
                        invalid=_l("Enter the closing time as hours and minutes, like 16:30."))
    subdivision = SelectField(_l("Province or territory"), choices=subdivision_choices,
                              description=_l("Its statutory holidays count as closed days, besides the federal ones."))
    submit = SubmitField(_l("Save the working week"))

    def validate_closes(self, field: ClockField) -> None:
        if self.opens.minute is not None and field.minute is not None and field.minute <= self.opens.minute:
            raise ValidationError(_("The closing time must be after the opening time."))


class ClosureForm(_PrefixedForm):
    PREFIX = "closure"

    day = DayField(_l("Date"), validators=[InputRequired(_l("Enter the date of the closure."))])
    reason = StringField(
        _l("Reason"),
        validators=[InputRequired(_l("Enter the reason for the closure.")),
                    Length(max=REASON_MAX, message=_l("The reason can have at most %(max)d characters."))],
        description=_l("For example: Team retreat. Staff see it on this page only."),
        render_kw={"autocomplete": "off"},
    )
    submit = SubmitField(_l("Add the closure"))

    def validate_day(self, field: Field) -> None:
        if isinstance(field.data, date) and not 2000 <= field.data.year <= 2100:
            raise ValidationError(_("Enter a date between the years 2000 and 2100."))


class RemoveForm(FlaskForm):
    """The id of the row to remove comes from the button pressed (name="item_id")."""

    item_id = IntegerField(validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)])
