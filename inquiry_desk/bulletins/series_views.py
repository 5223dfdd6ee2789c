"""Staff pages of series: officers read them; leads create, edit, pause, resume, end, skip and send late.

A blueprint nested in the bulletin pages' (``bulletins_staff.series.*``, under /staff/bulletins/series).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from inquiry_desk.accounts.models import Role, User
from inquiry_desk.accounts.permissions import role_required
from inquiry_desk.bulletins import series as series_service
from inquiry_desk.bulletins import services, view_support
from inquiry_desk.bulletins.forms import WEEKDAYS, ActionForm, SeriesForm, SkipForm
from inquiry_desk.bulletins.models import Bulletin, BulletinSeries
from inquiry_desk.core.clock import team_timezone, utcnow
from inquiry_desk.core.domain import DomainError
from inquiry_desk.core.extensions import db
from inquiry_desk.core.forms import SelectChoice, add_error
from inquiry_desk.core.templating import format_clock
from inquiry_desk.mailing import services as mailing

series_bp = Blueprint("series", __name__, url_prefix="/series")

SERIES_STATUS_LABELS = {"active": _l("Active"), "paused": _l("Paused"), "ended": _l("Ended")}
OCCURRENCE_LABELS = {
    "created": _l("Edition made"), "skipped": _l("Skipped"), "sent": _l("Sent at its time"),
    "held": _l("Held: not sent"), "sent_late": _l("Sent late, by choice"), "cancelled": _l("Cancelled"),
}
HELD_REASONS = {"not_approved": _l("not approved in time"), "paused": _l("the series was paused"),
                "late": _l("the scheduler could not decide it at its time")}


series_bp.url_value_preprocessor(view_support.ids_in_range)


def describe(series: BulletinSeries) -> str:
    """"Weekly, on Thursday at 10:00 a.m." in the reader's language (times in the team's zone)."""
    at = format_clock(series.at_minute // 60, series.at_minute % 60)
    if series.rule == "weekly":
        weekday = str(WEEKDAYS.get(series.weekday or 0, ""))
        locale = get_locale()
        if locale is not None and locale.language == "fr":  # French writes weekdays in lower case in a sentence
            weekday = weekday.lower()
        return _("Weekly, on %(weekday)s at %(time)s", weekday=weekday, time=at)
    if series.business_day == 1:
        return _("Monthly, on the first business day at %(time)s", time=at)
    return _("Monthly, on business day %(number)s at %(time)s", number=series.business_day, time=at)


def lead_time(series: BulletinSeries) -> str:
    days, minutes = divmod(series.lead_minutes, 24 * 60)
    return _("%(days)s days and %(hours)s hours ahead", days=days, hours=minutes // 60)


@series_bp.context_processor
def _labels() -> dict[str, object]:
    return {"series_status_labels": SERIES_STATUS_LABELS, "occurrence_labels": OCCURRENCE_LABELS,
            "held_reasons": HELD_REASONS, "describe": describe, "lead_time": lead_time,
            "timezone": str(team_timezone())}


def _series_or_404(series_id: int) -> BulletinSeries:
    try:
        return series_service.get(series_id)
    except DomainError:
        abort(404)


def _fill(form: SeriesForm, series: BulletinSeries | None) -> None:
    lang = "fr" if str(getattr(current_user, "language", "en")) == "fr" else "en"
    lists = [ml for ml in mailing.all_lists() if ml.active or (series and ml.id in series.list_ids)]
    form.lists.choices = [SelectChoice(ml.id, ml.name(lang)) for ml in lists]
    staff = db.session.scalars(select(User).where(User.active.is_(True), User.role != Role.VIEWER.value)
                               .order_by(User.name, User.id)).all()
    form.editors.choices = [SelectChoice(user.id, user.name) for user in staff]


def _fields(form: SeriesForm) -> series_service.SeriesFields:
    minutes = (form.lead_days.data or 0) * 24 * 60 + (form.lead_hours.data or 0) * 60
    return series_service.SeriesFields(
        name=form.name.data or "", rule=form.rule.data or "", at=form.at.data or time(0, 0),
        lead_minutes=minutes, weekday=form.weekday.data, business_day=form.business_day.data,
        editor_ids=tuple(form.editors.data or ()),
        template=services.BulletinFields(
            sender_name=form.sender_name.data or "", list_ids=tuple(form.lists.data or ()),
            title_en=form.title_en.data or "", title_fr=form.title_fr.data or "",
            subject_en=form.subject_en.data or "", subject_fr=form.subject_fr.data or "",
            body_en=form.body_en.data or "", body_fr=form.body_fr.data or ""))


def _error_field(form: SeriesForm, error: DomainError) -> Any:
    if isinstance(error, series_service.BadRule):
        return form.weekday if form.rule.data == "weekly" else form.business_day
    if isinstance(error, series_service.BadLeadTime):
        return form.lead_days
    return form.lists


@series_bp.get("/")
@role_required(Role.OFFICER)
def index() -> str:
    now = utcnow()
    rows = [(item, series_service.next_times(item, after=now, count=1) if item.status == "active" else [])
            for item in series_service.all_series()]
    return render_template("bulletins/series/index.html", rows=rows)


@series_bp.route("/new", methods=["GET", "POST"])
@role_required(Role.LEAD)
def new() -> Response | str:
    form = SeriesForm()
    _fill(form, None)
    if not form.is_submitted():
        form.editors.data = [current_user.id]
    if form.validate_on_submit():
        try:
            created = series_service.create(_fields(form), actor=current_user, now=utcnow())
        except DomainError as error:
            add_error(_error_field(form, error), str(error))
        else:
            db.session.commit()
            flash(_("Series saved. Its editions will be made as drafts ahead of their time."), "success")
            return redirect(url_for("bulletins_staff.series.show", series_id=created.id))
    return render_template("bulletins/series/edit.html", form=form, series=None)


@series_bp.route("/<int:series_id>/edit", methods=["GET", "POST"])
@role_required(Role.LEAD)
def edit(series_id: int) -> Response | str:
    item = _series_or_404(series_id)
    form = SeriesForm(obj=item)
    if not form.is_submitted():
        form.lists.data = list(item.list_ids)
        form.editors.data = list(item.editor_ids)
        form.at.data = time(item.at_minute // 60, item.at_minute % 60)
        form.lead_days.data, rest = divmod(item.lead_minutes, 24 * 60)
        form.lead_hours.data = rest // 60
        form.weekday.data = item.weekday or 4
        form.business_day.data = item.business_day or 1
    _fill(form, item)
    if form.validate_on_submit():
        try:
            series_service.edit(item, _fields(form), actor=current_user, now=utcnow())
        except DomainError as error:
            add_error(_error_field(form, error), str(error))
        else:
            db.session.commit()
            flash(_("Series saved. Editions already made keep their text."), "success")
            return redirect(url_for("bulletins_staff.series.show", series_id=series_id))
    return render_template("bulletins/series/edit.html", form=form, series=item)


@series_bp.get("/<int:series_id>")
@role_required(Role.OFFICER)
def show(series_id: int) -> str:
    item = _series_or_404(series_id)
    now = utcnow()
    editors = db.session.scalars(select(User).where(User.id.in_(item.editor_ids)).order_by(User.name)).all()
    return render_template("bulletins/series/show.html", series=item, upcoming=series_service.upcoming(item, now=now),
                           past=series_service.past(item, now=now), editors=editors, action_form=ActionForm(),
                           skip_form=SkipForm(), lists=mailing.all_lists())


def _act(series_id: int, action: Callable[[BulletinSeries], object], done: str, *, form: Any = None) -> Response:
    return view_support.act(_series_or_404(series_id), action, done, form=form or ActionForm(),
                            back=url_for("bulletins_staff.series.show", series_id=series_id))


@series_bp.post("/<int:series_id>/pause")
@role_required(Role.LEAD)
def pause(series_id: int) -> Response:
    return _act(series_id, lambda s: series_service.pause(s, actor=current_user, now=utcnow()),
                _("Series paused: no edition is made or sent until it is resumed."))


@series_bp.post("/<int:series_id>/resume")
@role_required(Role.LEAD)
def resume(series_id: int) -> Response:
    return _act(series_id, lambda s: series_service.resume(s, actor=current_user, now=utcnow()),
                _("Series resumed from its next edition."))


@series_bp.post("/<int:series_id>/end")
@role_required(Role.LEAD)
def end(series_id: int) -> Response:
    return _act(series_id, lambda s: series_service.end(s, actor=current_user, now=utcnow()),
                _("Series ended. Its editions not yet sent are cancelled."))


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value[:40])
    except ValueError:
        raise series_service.NotUpcoming() from None
    if moment.tzinfo is None:
        raise series_service.NotUpcoming()
    return moment.astimezone(UTC)


@series_bp.post("/<int:series_id>/skip")
@role_required(Role.LEAD)
def skip(series_id: int) -> Response:
    form = SkipForm()
    return _act(series_id, lambda s: series_service.skip(s, _moment(form.at.data or ""), actor=current_user,
                                                         now=utcnow()),
                _("Edition skipped."), form=form)


@series_bp.post("/editions/<int:bulletin_id>/send-late")
@role_required(Role.LEAD)
def send_late(bulletin_id: int) -> Response:
    bulletin = db.session.get(Bulletin, bulletin_id)
    if bulletin is None:
        abort(404)
    return view_support.act(bulletin, lambda b: series_service.send_late(b, actor=current_user, now=utcnow()),
                            _("The held edition is being sent now, late, as you chose."), form=ActionForm(),
                            back=url_for("bulletins_staff.show", bulletin_id=bulletin_id))
