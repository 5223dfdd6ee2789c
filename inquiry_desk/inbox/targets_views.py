"""Lead-only settings: service targets, the team's working week, and closures.

One page shows every setting; each of its forms posts to its own route, which
redirects back on success and shows the page again with the errors otherwise.
Every change is audited and bumps the calendar version (inquiries/targets.py).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from inquiry_desk.accounts.models import Role
from inquiry_desk.accounts.permissions import role_required
from inquiry_desk.core.clock import team_timezone, utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.core.forms import SelectChoice, add_error, required
from inquiry_desk.core.navigation import STAFF_MENU, MenuItem
from inquiry_desk.core.templating import format_day
from inquiry_desk.inbox.targets_forms import (
    SUBDIVISION_LABELS,
    CalendarForm,
    ClosureForm,
    RemoveForm,
    TargetsForm,
    TopicTargetForm,
    format_clock,
    targets_form,
)
from inquiry_desk.inquiries import services as inquiries
from inquiry_desk.inquiries import targets
from inquiry_desk.inquiries.labels import priority_label
from inquiry_desk.inquiries.targets.models import ServiceTarget

targets_bp = Blueprint("targets", __name__, url_prefix="/staff/targets")

STAFF_MENU.append(MenuItem("targets.index", _l("Targets and calendar"), Role.LEAD.value))


def _row_label(target: ServiceTarget) -> str:
    if target.topic is None:
        return priority_label(target.priority)
    return _("%(priority)s, %(topic)s", priority=priority_label(target.priority), topic=target.topic.name(g.lang))


def _targets_form(from_request: bool = False) -> TargetsForm:
    rows = [(target.id, _row_label(target), target.first_response_minutes, target.resolution_minutes)
            for target in targets.list_targets()]
    return targets_form(rows, from_request=from_request)


def _topic_target_form(from_request: bool = False) -> TopicTargetForm:
    form = TopicTargetForm() if from_request else TopicTargetForm(formdata=None)
    form.topic.choices = [SelectChoice(topic.id, topic.name(g.lang)) for topic in inquiries.active_topics()]
    return form


def _calendar_form(from_request: bool = False) -> CalendarForm:
    if from_request:
        return CalendarForm()
    row = targets.team_calendar()
    return CalendarForm(formdata=None, data={
        "working_days": targets.parse_working_days(row.working_days),
        "opens": format_clock(row.opens_minute),
        "closes": format_clock(row.closes_minute),
        "subdivision": row.subdivision,
    })


def _page(**forms: FlaskForm) -> str:
    """The settings page, with the submitted form (if any) showing its errors."""
    year = utcnow().astimezone(team_timezone()).year
    failed = next(iter(forms.values()), None)
    return render_template(
        "targets/index.html",
        form=failed,  # base.html marks the title of a page with errors
        targets_form=forms.get("targets_form") or _targets_form(),
        topic_target_form=forms.get("topic_target_form") or _topic_target_form(),
        calendar_form=forms.get("calendar_form") or _calendar_form(),
        closure_form=forms.get("closure_form") or ClosureForm(formdata=None),
        remove_form=RemoveForm(formdata=None),
        target_rows=targets.list_targets(),
        closures=targets.list_closures(),
        holidays=targets.holidays_in_year(year, g.lang),
        holidays_year=year,
        subdivision_name=SUBDIVISION_LABELS.get(targets.team_calendar().subdivision, ""),
    )


def _done(message: str, anchor: str, changed: Any = True) -> Response:
    db.session.commit()
    if changed:
        flash(message, "success")
    else:
        flash(_("Nothing was changed."), "info")
    return redirect(url_for("targets.index", _anchor=anchor))


@targets_bp.route("/")
@role_required(Role.LEAD)
def index() -> str:
    return _page()


@targets_bp.route("/service-targets", methods=["POST"])
@role_required(Role.LEAD)
def save_targets() -> Response | str:
    form = _targets_form(from_request=True)
    if form.validate_on_submit():
        changed = targets.update_targets(form.minutes_by_target(), actor=current_user, now=utcnow())
        return _done(_("Service targets saved."), "service-targets", changed)
    return _page(targets_form=form)


@targets_bp.route("/topic-targets", methods=["POST"])
@role_required(Role.LEAD)
def add_topic_target() -> Response | str:
    form = _topic_target_form(from_request=True)
    if form.validate_on_submit():
        try:
            targets.add_topic_target(topic_id=form.topic.data, priority=form.priority.data,
                                     first_response_minutes=required(form.first_response.minutes),
                                     resolution_minutes=required(form.resolution.minutes),
                                     actor=current_user, now=utcnow())
        except targets.TargetExists:
            form.form_errors.append(_("This topic already has its own target for this priority. "
                                      "Change it in the table of service targets."))
        else:
            return _done(_("Target added for the topic."), "service-targets")
    return _page(topic_target_form=form)


@targets_bp.route("/topic-targets/remove", methods=["POST"])
@role_required(Role.LEAD)
def remove_topic_target() -> Response:
    form = RemoveForm()
    try:
        if not form.validate_on_submit():
            raise targets.NotFound()
        targets.remove_topic_target(required(form.item_id.data), actor=current_user, now=utcnow())
    except targets.NotFound:
        flash(_("That target was already removed."), "info")
        return redirect(url_for("targets.index", _anchor="service-targets"))
    return _done(_("Target removed: the topic now follows the default for its priority."), "service-targets")


@targets_bp.route("/working-week", methods=["POST"])
@role_required(Role.LEAD)
def save_calendar() -> Response | str:
    form = _calendar_form(from_request=True)
    if form.validate_on_submit():
        try:
            changed = targets.update_calendar(
                working_days=required(form.working_days.data), opens_minute=required(form.opens.minute),
                closes_minute=required(form.closes.minute), subdivision=form.subdivision.data,
                actor=current_user, now=utcnow(),
            )
        except targets.InvalidCalendar:
            form.form_errors.append(_("These settings cannot be used. Check the days, times and province."))
        else:
            return _done(_("Working week saved."), "working-week", changed)
    return _page(calendar_form=form)


@targets_bp.route("/closures", methods=["POST"])
@role_required(Role.LEAD)
def add_closure() -> Response | str:
    form = ClosureForm()
    if form.validate_on_submit():
        try:
            targets.add_closure(required(form.day.data), form.reason.data or "", actor=current_user, now=utcnow())
        except targets.ClosureExists:
            add_error(form.day, _("This day is already a closure."))
        else:
            return _done(_("Closure added for %(day)s.", day=format_day(form.day.data)), "closures")
    return _page(closure_form=form)


@targets_bp.route("/closures/remove", methods=["POST"])
@role_required(Role.LEAD)
def remove_closure() -> Response:
    form = RemoveForm()
    try:
        if not form.validate_on_submit():
            raise targets.NotFound()
        closure = targets.remove_closure(required(form.item_id.data), actor=current_user, now=utcnow())
    except targets.NotFound:
        flash(_("That closure was already removed."), "info")
        return redirect(url_for("targets.index", _anchor="closures"))
    return _done(_("Closure removed for %(day)s.", day=format_day(closure.day)), "closures")
