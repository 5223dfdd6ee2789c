"""Protected information on the inquiry page: restrict, name staff, justify an opening, the access
report, redact a message; and the restricted topics. Each a POST that redirects back, or a page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from inquiry_desk.accounts import services as accounts
from inquiry_desk.accounts.models import Role
from inquiry_desk.accounts.permissions import role_required
from inquiry_desk.core.clock import team_timezone, utcnow
from inquiry_desk.core.domain import Conflict, DomainError, InvalidInput
from inquiry_desk.core.errors import flash_domain_error
from inquiry_desk.core.extensions import db
from inquiry_desk.core.i18n import current_language
from inquiry_desk.inbox.blueprint import inbox_bp
from inquiry_desk.inbox.forms import (
    ConsentForm,
    JustifyForm,
    NameStaffForm,
    PersonForm,
    RedactFieldForm,
    RedactForm,
    RestrictForm,
)
from inquiry_desk.inbox.inquiry_views import _inquiry_or_404
from inquiry_desk.inbox.protection_pages import field_choices, name_choices, person_choices, render_justify
from inquiry_desk.inquiries import consent, protection, redaction
from inquiry_desk.inquiries.models import Inquiry, Message, PersonConcerned

MAX_ID = 2**31 - 1  # the id columns are 32-bit: a larger id names nothing (and must not reach the database)


def _bounded(*ids: int) -> None:
    if any(not 0 < value <= MAX_ID for value in ids):
        abort(404)


def _run(inquiry_id: int, form: FlaskForm, action: Callable[[Inquiry], object], done: str) -> Response:
    _bounded(inquiry_id)
    inquiry = _inquiry_or_404(inquiry_id)
    if not form.validate_on_submit():
        messages = [str(message) for errors in form.errors.values() for message in errors]
        flash(" ".join(messages) or _("That change could not be made."), "error")
        return redirect(url_for("inbox.show", inquiry_id=inquiry.id))
    try:
        action(inquiry)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash_domain_error(exc)
    except StaleDataError:
        db.session.rollback()
        flash_domain_error(Conflict())
    else:
        flash(done, "success")
    return redirect(url_for("inbox.show", inquiry_id=inquiry_id))


@inbox_bp.route("/<int:inquiry_id>/restrict", methods=["POST"])
@role_required(Role.OFFICER)
def restrict(inquiry_id: int) -> Response:
    form = RestrictForm(prefix="restrict")  # the page has other "reason" fields (hold)
    return _run(inquiry_id, form, lambda inquiry: protection.restrict(
        inquiry, form.reason.data or "", actor=current_user, now=utcnow()), _("The inquiry is restricted."))


@inbox_bp.route("/<int:inquiry_id>/lift-restriction", methods=["POST"])
@role_required(Role.LEAD)
def lift_restriction(inquiry_id: int) -> Response:
    return _run(inquiry_id, FlaskForm(), lambda inquiry: protection.lift_restriction(
        inquiry, actor=current_user, now=utcnow()), _("The restriction is lifted."))


@inbox_bp.route("/<int:inquiry_id>/named", methods=["POST"])
@role_required(Role.OFFICER)
def name_staff(inquiry_id: int) -> Response:
    _bounded(inquiry_id)
    inquiry = _inquiry_or_404(inquiry_id)
    form = NameStaffForm()
    form.user.choices = name_choices(inquiry)

    def run(inquiry: Inquiry) -> None:
        user = accounts.get_user(int(form.user.data)) if (form.user.data or "").isdigit() else None
        if user is None:
            raise InvalidInput(_("Choose a staff member."))
        protection.name_staff(inquiry, user, actor=current_user, now=utcnow())

    return _run(inquiry_id, form, run, _("Staff member named on the inquiry."))


@inbox_bp.route("/<int:inquiry_id>/named/<int:user_id>/remove", methods=["POST"])
@role_required(Role.OFFICER)
def unname_staff(inquiry_id: int, user_id: int) -> Response:
    _bounded(inquiry_id, user_id)
    return _run(inquiry_id, FlaskForm(), lambda inquiry: protection.unname_staff(
        inquiry, user_id, actor=current_user, now=utcnow()), _("Staff member removed from the inquiry."))


@inbox_bp.route("/<int:inquiry_id>/justify", methods=["POST"])
@role_required(Role.LEAD)
def justify(inquiry_id: int) -> Response | tuple[str, int]:
    _bounded(inquiry_id)
    inquiry = _inquiry_or_404(inquiry_id, to_act=False)
    form = JustifyForm()
    if not form.validate_on_submit():
        return render_justify(inquiry, form), 422
    try:
        protection.justify_access(inquiry, form.reason.data or "", actor=current_user, now=utcnow())
    except DomainError as exc:
        flash_domain_error(exc)
        return render_justify(inquiry, form), 422
    db.session.commit()
    return redirect(url_for("inbox.show", inquiry_id=inquiry.id))


@inbox_bp.route("/<int:inquiry_id>/access")
@role_required(Role.LEAD)
def access_report(inquiry_id: int) -> str:
    _bounded(inquiry_id)
    """Who opened this inquiry, and when (the privacy officer's question)."""
    inquiry = _inquiry_or_404(inquiry_id)
    openings = protection.access_report(inquiry, actor=current_user)
    users = {user.id: user for user in accounts.list_users()}
    return render_template("inbox/access_report.html", inquiry=inquiry, openings=openings, users=users)


@inbox_bp.route("/<int:inquiry_id>/messages/<int:message_id>/redact", methods=["POST"])
@role_required(Role.LEAD)
def redact(inquiry_id: int, message_id: int) -> Response:
    _bounded(inquiry_id, message_id)
    _inquiry_or_404(inquiry_id)  # need-to-know first
    message = db.session.get(Message, message_id)
    if message is None or message.inquiry_id != inquiry_id:
        abort(404)
    form = RedactForm()
    return _run(inquiry_id, form, lambda inquiry: protection.redact_message(
        message, form.reason.data or "", actor=current_user, now=utcnow()), _("The message is redacted."))


@inbox_bp.route("/<int:inquiry_id>/redact-subject", methods=["POST"])
@role_required(Role.LEAD)
def redact_subject(inquiry_id: int) -> Response:
    form = RedactForm()
    return _run(inquiry_id, form, lambda inquiry: protection.redact_subject(
        inquiry, form.reason.data or "", actor=current_user, now=utcnow()), _("The subject is redacted."))


@inbox_bp.route("/<int:inquiry_id>/redact-field", methods=["POST"])
@role_required(Role.LEAD)
def redact_field(inquiry_id: int) -> Response:
    """One field of the inquiry, its requester or a person concerned (a passport number typed as a phone)."""
    _bounded(inquiry_id)
    inquiry = _inquiry_or_404(inquiry_id)  # need-to-know first: 403 before anything is said about the fields
    form = RedactFieldForm(prefix="redact-field")
    form.field.choices = field_choices(inquiry)

    def run(inquiry: Inquiry) -> None:
        chosen = redaction.find(inquiry, form.field.data or "")
        redaction.redact_field(inquiry, chosen.field, form.reason.data or "", person=chosen.person,
                               actor=current_user, now=utcnow())

    return _run(inquiry_id, form, run, _("The field is redacted."))


@inbox_bp.route("/topics", methods=["GET", "POST"])
@role_required(Role.LEAD)
def topics() -> Any:
    """Which topics are restricted: every inquiry on a restricted topic is need-to-know."""
    form = FlaskForm()
    if form.validate_on_submit():
        chosen = set(request.form.getlist("restricted"))
        now = utcnow()
        for topic in protection.topics():
            protection.set_topic_restricted(topic, topic.code in chosen, actor=current_user, now=now)
        db.session.commit()
        flash(_("Restricted topics saved."), "success")
        return redirect(url_for("inbox.topics"))
    return render_template("inbox/topics.html", topics=protection.topics(), form=form, lang=current_language())


# --- people concerned and consent to disclose ----------------------------------------------


@inbox_bp.route("/<int:inquiry_id>/people", methods=["POST"])
@role_required(Role.OFFICER)
def add_person(inquiry_id: int) -> Response:
    form = PersonForm()
    return _run(inquiry_id, form, lambda inquiry: consent.add_person(
        inquiry, form.name.data or "", form.relationship.data or "", form.identifiers.data,
        actor=current_user, now=utcnow()), _("Person concerned added."))


@inbox_bp.route("/<int:inquiry_id>/people/<int:person_id>/remove", methods=["POST"])
@role_required(Role.OFFICER)
def remove_person(inquiry_id: int, person_id: int) -> Response:
    _bounded(inquiry_id, person_id)
    _inquiry_or_404(inquiry_id)  # need-to-know first: 403 before anything is said about the person
    person = db.session.get(PersonConcerned, person_id)
    if person is None or person.inquiry_id != inquiry_id:
        abort(404)
    return _run(inquiry_id, FlaskForm(), lambda inquiry: consent.remove_person(
        person, actor=current_user, now=utcnow()), _("Person concerned removed."))


@inbox_bp.route("/<int:inquiry_id>/consent", methods=["POST"])
@role_required(Role.OFFICER)
def record_consent(inquiry_id: int) -> Response:
    _bounded(inquiry_id)
    inquiry = _inquiry_or_404(inquiry_id)
    form = ConsentForm()
    form.person.choices = person_choices(inquiry)

    def run(inquiry: Inquiry) -> None:
        person = db.session.get(PersonConcerned, int(form.person.data or 0))
        if person is None or person.inquiry_id != inquiry.id:
            raise InvalidInput(_("Choose a person concerned."))
        if form.given_on.data is None:
            raise InvalidInput(_("Give the date consent was given."))
        consent.record_consent(person, how=form.how.data or "", given_on=form.given_on.data,
                               until=form.until.data, document=form.document.data, actor=current_user,
                               now=utcnow())

    return _run(inquiry_id, form, run, _("Consent recorded."))


# --- what one staff member opened (administrators) -----------------------------------------

OPENINGS_PAGE = 100


def _day(value: str | None) -> datetime | None:
    """A YYYY-MM-DD day of the team's time zone, as the instant it starts; None if blank or malformed."""
    try:
        day = date.fromisoformat((value or "").strip()[:10])
    except ValueError:
        return None
    return datetime.combine(day, time.min, tzinfo=team_timezone())


@inbox_bp.route("/openings")
@role_required(Role.ADMIN)
def openings_by_user() -> str:
    """The privacy officer's question: what did this person open in this period?"""
    users = accounts.list_users()
    chosen = request.args.get("user", "")
    user = next((candidate for candidate in users if str(candidate.id) == chosen), None)
    since, until = _day(request.args.get("from")), _day(request.args.get("to"))
    before = request.args.get("before", "")
    before_id = int(before) if before.isdigit() and len(before) < 12 else None
    rows = []
    if user is not None:
        rows = protection.openings_by(user.id, actor=current_user, since=since,
                                      until=until + timedelta(days=1) if until else None,
                                      before_id=before_id, limit=OPENINGS_PAGE + 1)
    more = len(rows) > OPENINGS_PAGE
    rows = rows[:OPENINGS_PAGE]
    next_args = None
    if more and user is not None:
        next_args = {"user": user.id, "from": request.args.get("from", ""), "to": request.args.get("to", ""),
                     "before": rows[-1].event_id}
    return render_template("inbox/openings.html", users=users, user=user, rows=rows, next_args=next_args,
                           since=request.args.get("from", ""), until=request.args.get("to", ""))
