"""What the inquiry page shows of protected information: the metadata-only page, the reason a lead
gives before opening a restricted inquiry, and the access panel's forms (inbox/protection_views.py
holds the routes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user

from inquiry_desk.accounts import services as accounts
from inquiry_desk.core.forms import SelectChoice, select_choices
from inquiry_desk.inbox.forms import (
    ConsentForm,
    JustifyForm,
    NameStaffForm,
    PersonForm,
    RedactFieldForm,
    RedactForm,
    RestrictForm,
)
from inquiry_desk.inquiries import access, consent, redaction, targets
from inquiry_desk.inquiries.models import Inquiry


def name_choices(inquiry: Inquiry) -> list[SelectChoice]:
    named = {user.id for user in access.named_staff(inquiry.id)}
    return select_choices([("", _("Choose a staff member")), *(
        (str(user.id), user.name) for user in accounts.list_users() if user.active and user.id not in named)])


def person_choices(inquiry: Inquiry) -> list[SelectChoice]:
    return select_choices((str(person.id), person.name) for person in consent.people_of(inquiry))


def field_choices(inquiry: Inquiry) -> list[SelectChoice]:
    """The fields a lead may redact, named in words ("Identifiers of the person concerned: Amina Y.")."""
    choices: list[tuple[str, str]] = [("", _("Choose a field"))]
    for candidate in redaction.redactable(inquiry):
        label = str(redaction.FIELDS[candidate.field][2])
        if candidate.person is not None and candidate.field != "person_name":
            label = _("%(field)s: %(name)s", field=label, name=candidate.person.name)
        choices.append((candidate.value, label))
    return select_choices(choices)


def protection_forms(inquiry: Inquiry) -> dict[str, Any]:
    name_form = NameStaffForm()
    name_form.user.choices = name_choices(inquiry)
    consent_form = ConsentForm(formdata=None)
    consent_form.person.choices = person_choices(inquiry)
    redact_field_form = RedactFieldForm(formdata=None, prefix="redact-field")
    redact_field_form.field.choices = field_choices(inquiry)
    return {"restrict_form": RestrictForm(formdata=None, prefix="restrict"), "name_form": name_form,
            "redact_field_form": redact_field_form,
            "redact_form": RedactForm(), "person_form": PersonForm(formdata=None), "consent_form": consent_form}


def render_metadata(inquiry: Inquiry, now: datetime) -> str:
    """A restricted inquiry for someone who may not read it: reference, status, dates and target only."""
    due_state, due_text = targets.describe_due(inquiry.due_at, now) if inquiry.due_at else ("", "")
    return render_template("inbox/inquiry_restricted.html", inquiry=inquiry, due_state=due_state,
                           due_text=due_text, asking=None)


def render_justify(inquiry: Inquiry, form: JustifyForm | None = None) -> str:
    """A lead who is not named gives a reason before the restricted inquiry opens."""
    return render_template("inbox/inquiry_restricted.html", inquiry=inquiry, due_state="", due_text="",
                           asking=form or JustifyForm(), user=current_user)
