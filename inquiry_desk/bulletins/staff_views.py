"""Staff pages: officers and leads write bulletins; a second lead approves; progress and the delivery log."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext  # type: ignore[attr-defined]  # not in its stubs
from flask_login import current_user
from werkzeug.wrappers import Response

from inquiry_desk.accounts.models import Role
from inquiry_desk.accounts.permissions import role_required
from inquiry_desk.bulletins import audience, checks, rendering, reports, series, services, view_support
from inquiry_desk.bulletins import timeline as _timeline  # noqa: F401  (registers the directory timeline source)
from inquiry_desk.bulletins.forms import (
    ActionForm,
    ApproveForm,
    BulletinForm,
    ReturnForm,
    ScheduleForm,
    SingleLanguageForm,
    TestSendForm,
)
from inquiry_desk.bulletins.models import Bulletin, BulletinSeries, BulletinStatus
from inquiry_desk.bulletins.series_views import HELD_REASONS, OCCURRENCE_LABELS, series_bp
from inquiry_desk.core.clock import team_timezone, utcnow
from inquiry_desk.core.domain import DomainError
from inquiry_desk.core.extensions import db
from inquiry_desk.core.forms import SelectChoice, add_error, language_choices
from inquiry_desk.core.i18n import LANGUAGES
from inquiry_desk.core.navigation import STAFF_MENU, MenuItem
from inquiry_desk.mail import sending
from inquiry_desk.mailing import services as mailing

bulletins_staff_bp = Blueprint("bulletins_staff", __name__, url_prefix="/staff/bulletins")
bulletins_staff_bp.register_blueprint(series_bp)

STAFF_MENU.append(MenuItem("bulletins_staff.index", _l("Bulletins"), Role.OFFICER.value))

STATUS_LABELS = {
    "draft": _l("Draft"), "submitted": _l("Submitted for approval"), "approved": _l("Approved"),
    "scheduled": _l("Scheduled"), "sending": _l("Sending"), "sent": lazy_pgettext("bulletin", "Sent"),
    "cancelled": _l("Cancelled"),
}
DELIVERY_LABELS = {"queued": _l("Waiting"), "sending": _l("Being sent"), "sent": _l("Delivered"),
                   "failed": _l("Failed"), "skipped": _l("Not sent (cancelled)")}
LEFT_OUT_LABELS = {"unsubscribed": _l("Unsubscribed members"), "unconfirmed": _l("Members who have not confirmed"),
                   "suppressed": _l("Suppressed addresses"),
                   "duplicate": _l("Addresses on more than one list (sent one copy)")}
SEND_LABELS = {"preparing": _l("Preparing"), "sending": _l("Sending"), "paused": _l("Paused"),
               "cancelled": _l("Cancelled"), "done": _l("Finished")}
# The preview of an email in a frame: its own inline styles, https images, nothing else (no script).
PREVIEW_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
                  "frame-ancestors 'self'; base-uri 'none'; form-action 'none'")


bulletins_staff_bp.url_value_preprocessor(view_support.ids_in_range)


@bulletins_staff_bp.context_processor
def _labels() -> dict[str, object]:
    return {"status_labels": STATUS_LABELS, "delivery_labels": DELIVERY_LABELS, "send_labels": SEND_LABELS,
            "left_out_labels": LEFT_OUT_LABELS, "languages": LANGUAGES}


def _bulletin_or_404(bulletin_id: int) -> Bulletin:
    try:
        return services.get(bulletin_id)
    except DomainError:
        abort(404)


def _fill_lists(form: BulletinForm, bulletin: Bulletin | None) -> None:
    lang = "fr" if str(getattr(current_user, "language", "en")) == "fr" else "en"
    lists = [ml for ml in mailing.all_lists() if ml.active or (bulletin and ml.id in bulletin.list_ids)]
    form.lists.choices = [SelectChoice(ml.id, ml.name(lang)) for ml in lists]


def _fields(form: BulletinForm) -> services.BulletinFields:
    return services.BulletinFields(
        sender_name=form.sender_name.data or "", list_ids=tuple(form.lists.data or ()),
        title_en=form.title_en.data or "", title_fr=form.title_fr.data or "",
        subject_en=form.subject_en.data or "", subject_fr=form.subject_fr.data or "",
        body_en=form.body_en.data or "", body_fr=form.body_fr.data or "")


@bulletins_staff_bp.get("/")
@role_required(Role.OFFICER)
def index() -> str:
    return render_template("bulletins/staff/index.html", bulletins=services.recent())


@bulletins_staff_bp.route("/new", methods=["GET", "POST"])
@role_required(Role.OFFICER)
def new() -> Response | str:
    form = BulletinForm()
    _fill_lists(form, None)
    if form.validate_on_submit():
        try:
            bulletin = services.create(_fields(form), actor=current_user, now=utcnow())
        except DomainError as error:
            add_error(form.lists, str(error))
        else:
            db.session.commit()
            flash(_("Draft saved."), "success")
            return redirect(url_for("bulletins_staff.show", bulletin_id=bulletin.id))
    return render_template("bulletins/staff/edit.html", form=form, bulletin=None)


@bulletins_staff_bp.route("/<int:bulletin_id>/edit", methods=["GET", "POST"])
@role_required(Role.OFFICER)
def edit(bulletin_id: int) -> Response | str:
    bulletin = _bulletin_or_404(bulletin_id)
    if bulletin.status not in services.EDITABLE:
        flash(_("This bulletin can no longer be edited."), "error")
        return redirect(url_for("bulletins_staff.show", bulletin_id=bulletin_id))
    form = BulletinForm(obj=bulletin)
    if not form.is_submitted():
        form.lists.data = list(bulletin.list_ids)
    _fill_lists(form, bulletin)
    if form.validate_on_submit():
        was = bulletin.status
        try:
            services.edit(bulletin, _fields(form), actor=current_user, now=utcnow())
        except DomainError as error:
            add_error(form.lists, str(error))
        else:
            db.session.commit()
            if was != bulletin.status:
                flash(_("Saved. The bulletin is a draft again: any approval is void."), "success")
            else:
                flash(_("Draft saved."), "success")
            return redirect(url_for("bulletins_staff.show", bulletin_id=bulletin_id))
    return render_template("bulletins/staff/edit.html", form=form, bulletin=bulletin)


def _previews(bulletin: Bulletin) -> dict[str, str]:
    """The text part per language (the HTML part is in the frames)."""
    texts = {}
    for lang in LANGUAGES:
        if bulletin.has_language(lang):
            texts[lang] = rendering.render_bulletin(
                rendering.parts(bulletin.title(lang), bulletin.subject(lang), bulletin.body(lang)), lang,
                sender_name=bulletin.sender_name, archive_url=None, personal_links=True).text
    return texts


@bulletins_staff_bp.get("/<int:bulletin_id>")
@role_required(Role.OFFICER)
def show(bulletin_id: int) -> str:
    bulletin = _bulletin_or_404(bulletin_id)
    now = utcnow()
    search = request.args.get("q", "")[:200].replace("\x00", "").strip()
    after = request.args.get("after", "")
    after_id = int(after) if after.isascii() and after.isdigit() and len(after) < 11 else None
    log, next_cursor = reports.delivery_log(bulletin, search, after_id=after_id)
    schedule_form = ScheduleForm()
    schedule_form.day.description = _("Date and time in the team's time zone (%(zone)s).", zone=team_timezone())
    single_form = SingleLanguageForm()
    single_form.language.choices = [SelectChoice("", _("Both languages")), *language_choices()]
    single_form.language.data = bulletin.single_language or ""
    single_form.reason.data = bulletin.single_language_reason or ""
    edition = series.occurrence_of(bulletin)
    snapshot = reports.snapshot_of(bulletin)
    return render_template(
        "bulletins/staff/show.html", bulletin=bulletin, texts=_previews(bulletin),
        transitions=services.transitions(bulletin), report=reports.send_report(bulletin, now=now),
        snapshot=snapshot, left_out=reports.left_out(snapshot), log=log, search=search, next_cursor=next_cursor,
        action_form=ActionForm(), test_form=TestSendForm(), schedule_form=schedule_form, single_form=single_form,
        timezone=str(team_timezone()), may_approve=services.may_approve(bulletin, current_user),
        lists=audience.by_list(bulletin), edition=edition,
        edition_series=db.session.get(BulletinSeries, edition.series_id) if edition else None,
        occurrence_labels=OCCURRENCE_LABELS, held_reasons=HELD_REASONS)


@bulletins_staff_bp.get("/<int:bulletin_id>/preview/<lang>")
@role_required(Role.OFFICER)
def preview(bulletin_id: int, lang: str) -> Response:
    """The HTML email, for the preview frames (a policy of its own: inline styles, no script)."""
    bulletin = _bulletin_or_404(bulletin_id)
    if lang not in LANGUAGES:
        abort(404)
    html = rendering.render_bulletin(
        rendering.parts(bulletin.title(lang), bulletin.subject(lang), bulletin.body(lang)), lang,
        sender_name=bulletin.sender_name, archive_url=None, personal_links=True).html or ""
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PREVIEW_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def _act(bulletin_id: int, action: Callable[[Bulletin], object], done: str, *,
         target: str = "bulletins_staff.show", form: Any = None) -> Response:
    return view_support.act(_bulletin_or_404(bulletin_id), action, done, form=form or ActionForm(),
                            back=url_for(target, bulletin_id=bulletin_id))


@bulletins_staff_bp.post("/<int:bulletin_id>/test")
@role_required(Role.OFFICER)
def test_send(bulletin_id: int) -> Response:
    form = TestSendForm()
    addresses = (form.addresses.data or "").split(",") if form.validate_on_submit() else []
    return _act(bulletin_id, lambda b: services.test_send(b, addresses, actor=current_user, now=utcnow()),
                _("Test sent. Look for [TEST] in the inbox."), form=form)


@bulletins_staff_bp.post("/<int:bulletin_id>/submit")
@role_required(Role.OFFICER)
def submit(bulletin_id: int) -> Response:
    return _act(bulletin_id, lambda b: services.submit(b, actor=current_user, now=utcnow()),
                _("Submitted for approval: another lead will review it."))


@bulletins_staff_bp.get("/<int:bulletin_id>/review")
@role_required(Role.LEAD)
def review(bulletin_id: int) -> str:
    """The approval page: both languages, recipients per list and language, the pre-send checks."""
    bulletin = _bulletin_or_404(bulletin_id)
    findings = checks.run_checks(bulletin)
    form = ApproveForm(version=bulletin.version)
    form.acknowledged.choices = [SelectChoice(f.key, f"{f.language.upper()}: {f.message}") for f in findings
                                 if not f.blocking]
    return render_template("bulletins/staff/review.html", bulletin=bulletin, findings=findings, form=form,
                           return_form=ReturnForm(), texts=_previews(bulletin), lists=audience.by_list(bulletin),
                           total=audience.unique_total(bulletin), change=audience.change_since_last(bulletin),
                           may_approve=services.may_approve(bulletin, current_user),
                           authors=services.authors(bulletin))


@bulletins_staff_bp.post("/<int:bulletin_id>/approve")
@role_required(Role.LEAD)
def approve(bulletin_id: int) -> Response:
    form = ApproveForm()
    form.acknowledged.choices = [SelectChoice(key, key) for key in request.form.getlist("acknowledged")]
    return _act(bulletin_id, lambda b: services.approve(
        b, version=int(form.version.data or 0), acknowledged=form.acknowledged.data or [], actor=current_user,
        now=utcnow()), _("Approved. It can now be scheduled."), form=form, target="bulletins_staff.review")


@bulletins_staff_bp.post("/<int:bulletin_id>/return")
@role_required(Role.LEAD)
def return_to_draft(bulletin_id: int) -> Response:
    form = ReturnForm()
    if not form.validate_on_submit():
        flash(_("Say what needs to change."), "error")
        return redirect(url_for("bulletins_staff.review", bulletin_id=bulletin_id))
    return _act(bulletin_id, lambda b: services.return_to_draft(b, form.comment.data or "", actor=current_user,
                                                                now=utcnow()),
                _("Returned to draft with your comments."), form=form)


@bulletins_staff_bp.post("/<int:bulletin_id>/single-language")
@role_required(Role.LEAD)
def single_language(bulletin_id: int) -> Response:
    form = SingleLanguageForm()
    form.language.choices = [SelectChoice("", ""), *language_choices()]
    return _act(bulletin_id, lambda b: services.mark_single_language(
        b, form.language.data or None, form.reason.data or "", actor=current_user, now=utcnow()),
        _("Languages saved."), form=form)


@bulletins_staff_bp.post("/<int:bulletin_id>/schedule")
@role_required(Role.OFFICER)
def schedule(bulletin_id: int) -> Response:
    form = ScheduleForm()

    def act(bulletin: Bulletin) -> None:
        at = None
        if form.when.data == "later":
            if form.day.data is None or form.at.data is None:
                raise services.TimeMissing()
            at = services.local_to_utc(form.day.data, form.at.data)
        services.schedule(bulletin, at, actor=current_user, now=utcnow())

    return _act(bulletin_id, act, _("Scheduled."), form=form)


@bulletins_staff_bp.post("/<int:bulletin_id>/unschedule")
@role_required(Role.OFFICER)
def unschedule(bulletin_id: int) -> Response:
    return _act(bulletin_id, lambda b: services.unschedule(b, actor=current_user, now=utcnow()),
                _("No longer scheduled: it stays approved."))


@bulletins_staff_bp.post("/<int:bulletin_id>/cancel")
@role_required(Role.LEAD)
def cancel(bulletin_id: int) -> Response:
    return _act(bulletin_id, lambda b: services.cancel(b, actor=current_user, now=utcnow()),
                _("Bulletin cancelled."))


def _control(bulletin: Bulletin, pause: bool) -> None:
    send = reports.send_of(bulletin)
    if bulletin.status != BulletinStatus.SENDING.value or send is None:
        raise services.WrongStatus()
    try:
        (sending.pause_send if pause else sending.resume_send)(send, now=utcnow())
    except DomainError:
        raise
    except Exception as error:  # the engine's SendStateError
        raise services.WrongStatus() from error


@bulletins_staff_bp.post("/<int:bulletin_id>/pause")
@role_required(Role.LEAD)
def pause(bulletin_id: int) -> Response:
    return _act(bulletin_id, lambda b: _control(b, True), _("Sending paused."))


@bulletins_staff_bp.post("/<int:bulletin_id>/resume")
@role_required(Role.LEAD)
def resume(bulletin_id: int) -> Response:
    return _act(bulletin_id, lambda b: _control(b, False), _("Sending resumed."))


@bulletins_staff_bp.get("/<int:bulletin_id>/progress")
@role_required(Role.OFFICER)
def progress(bulletin_id: int) -> Response:
    """What the progress bar polls."""
    bulletin = _bulletin_or_404(bulletin_id)
    report = reports.send_report(bulletin, now=utcnow())
    return jsonify({"status": bulletin.status, "status_label": str(STATUS_LABELS[bulletin.status]),
                    **(report.as_json() if report else {"total": 0, "done": 0, "percent": 0, "counts": {}})})


@bulletins_staff_bp.get("/<int:bulletin_id>/record.json")
@role_required(Role.LEAD)
def export(bulletin_id: int) -> Response:
    """The record of what was sent (snapshot, recipients, approver, times, outcome)."""
    bulletin = _bulletin_or_404(bulletin_id)
    snapshot = reports.snapshot_of(bulletin)
    if snapshot is None:
        abort(404)
    data = reports.snapshot_export(bulletin, snapshot, reports.send_report(bulletin, now=utcnow()))
    response = Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="bulletin-{bulletin.id}.json"'
    return response

