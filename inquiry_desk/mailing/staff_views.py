"""Staff pages for leads: mailing lists, their members, import and export, the suppression list."""

from __future__ import annotations

import csv
import io
import logging
import threading
from collections.abc import Iterator
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from inquiry_desk.accounts.models import Role, User
from inquiry_desk.accounts.permissions import role_required
from inquiry_desk.audit import services as audit
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.domain import DomainError
from inquiry_desk.core.errors import flash_domain_error
from inquiry_desk.core.extensions import db
from inquiry_desk.core.forms import add_error, required, select_choices
from inquiry_desk.core.navigation import STAFF_MENU, MenuItem
from inquiry_desk.directory.labels import ORGANISATION_KIND_LABELS
from inquiry_desk.directory.models import Contact
from inquiry_desk.mailing import imports, reports, services, suppression
from inquiry_desk.mailing.forms import (
    ArchiveForm,
    ImportForm,
    LiftForm,
    ListForm,
    MemberForm,
    RemoveMemberForm,
    RunImportForm,
    SuppressForm,
)
from inquiry_desk.mailing.labels import STATUS_LABELS
from inquiry_desk.mailing.models import ImportBatch, MailingList, SuppressionReason

log = logging.getLogger(__name__)
mailing_staff_bp = Blueprint("mailing_staff", __name__, url_prefix="/staff/mailing-lists")

STAFF_MENU.append(MenuItem("mailing_staff.index", _l("Mailing lists"), Role.LEAD.value))

PROBLEM_LABELS = {
    "invalid": _l("Not a valid email address"), "invalid_language": _l("Language is not en or fr"),
    "duplicate": _l("Repeated in the file"), "already_on_list": _l("Already on the list"),
    "suppressed": _l("On the suppression list"),
}
REASON_LABELS = {
    SuppressionReason.HARD_BOUNCE.value: _l("Hard bounce"), SuppressionReason.COMPLAINT.value: _l("Complaint"),
    SuppressionReason.UNSUBSCRIBED.value: _l("Unsubscribed from everything"),
    SuppressionReason.LEAD.value: _l("Added by a lead"),
}


MAX_ID = 2**31 - 1  # ids are 32-bit in PostgreSQL: a larger one names nothing


@mailing_staff_bp.url_value_preprocessor
def _ids_in_range(endpoint: str | None, values: dict[str, Any] | None) -> None:
    for name, value in (values or {}).items():
        if name.endswith("_id") and isinstance(value, int) and value > MAX_ID:
            abort(404)


def _cursor(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and len(value) < 12 and int(value) <= MAX_ID else None


@mailing_staff_bp.context_processor
def _labels() -> dict[str, object]:
    return {"status_labels": STATUS_LABELS, "problem_labels": PROBLEM_LABELS, "reason_labels": REASON_LABELS,
            "kind_labels": ORGANISATION_KIND_LABELS}


def _list_or_404(list_id: int) -> MailingList:
    try:
        return services.get_list(list_id)
    except DomainError:
        abort(404)


@mailing_staff_bp.get("/")
@role_required(Role.LEAD)
def index() -> str:
    lists = services.all_lists()
    return render_template("mailing/staff/index.html", lists=lists, counts=reports.counts([ml.id for ml in lists]))


def _fill_kinds(form: ListForm) -> None:
    form.organisation_kinds.choices = select_choices(ORGANISATION_KIND_LABELS.items())


def _save(form: ListForm, mailing_list: MailingList | None) -> MailingList | None:
    if not form.validate_on_submit():
        return None
    fields = services.ListFields(
        name_en=required(form.name_en.data), name_fr=required(form.name_fr.data),
        description_en=form.description_en.data or "", description_fr=form.description_fr.data or "",
        public=bool(form.public.data), organisation_kinds=tuple(form.organisation_kinds.data or ()),
    )
    saved = services.save_list(mailing_list, fields, actor=current_user, now=utcnow())
    db.session.commit()
    flash(_("Mailing list saved."), "success")
    return saved


@mailing_staff_bp.route("/new", methods=["GET", "POST"])
@role_required(Role.LEAD)
def new() -> Response | str:
    form = ListForm()
    _fill_kinds(form)
    saved = _save(form, None)
    if saved is not None:
        return redirect(url_for("mailing_staff.show", list_id=saved.id))
    return render_template("mailing/staff/edit.html", form=form, mailing_list=None)


@mailing_staff_bp.route("/<int:list_id>/edit", methods=["GET", "POST"])
@role_required(Role.LEAD)
def edit(list_id: int) -> Response | str:
    mailing_list = _list_or_404(list_id)
    form = ListForm(obj=mailing_list)
    _fill_kinds(form)
    if _save(form, mailing_list) is not None:
        return redirect(url_for("mailing_staff.show", list_id=list_id))
    return render_template("mailing/staff/edit.html", form=form, mailing_list=mailing_list)


@mailing_staff_bp.post("/<int:list_id>/archive")
@role_required(Role.LEAD)
def archive(list_id: int) -> Response:
    mailing_list = _list_or_404(list_id)
    form = ArchiveForm()
    if form.validate_on_submit():
        services.set_archived(mailing_list, form.archived.data == "1", actor=current_user, now=utcnow())
        db.session.commit()
        flash(_("Mailing list archived.") if mailing_list.archived_at else _("Mailing list restored."), "success")
    return redirect(url_for("mailing_staff.show", list_id=list_id))


def _filters() -> reports.MemberFilter:
    status = request.args.get("status", "")
    kind = request.args.get("kind", "")
    return reports.MemberFilter(
        status=status if status in STATUS_LABELS else "",
        search=request.args.get("q", "")[:200].replace("\x00", ""),
        organisation_kind=kind if kind in ORGANISATION_KIND_LABELS else "",
        organisation=request.args.get("organisation", "")[:200].replace("\x00", ""),
    )


@mailing_staff_bp.get("/<int:list_id>")
@role_required(Role.LEAD)
def show(list_id: int) -> str:
    """The list: its figures by status and language, and its growth month by month."""
    mailing_list = _list_or_404(list_id)
    return render_template("mailing/staff/show.html", mailing_list=mailing_list,
                           counts=reports.counts([list_id])[list_id], growth=reports.growth(mailing_list),
                           archive_form=ArchiveForm())


@mailing_staff_bp.get("/<int:list_id>/members")
@role_required(Role.LEAD)
def members(list_id: int) -> str:
    """One keyset page of the list's members (searchable, filtered); no count over the whole list."""
    mailing_list = _list_or_404(list_id)
    filters = _filters()
    before_id = _cursor(request.args.get("before", ""))
    rows, next_cursor = reports.members(mailing_list, filters, before_id=before_id)
    return render_template("mailing/staff/members.html", mailing_list=mailing_list, rows=rows, filters=filters,
                           next_cursor=next_cursor, remove_form=RemoveMemberForm())


@mailing_staff_bp.route("/<int:list_id>/members/new", methods=["GET", "POST"])
@role_required(Role.LEAD)
def add_member(list_id: int) -> Response | str:
    mailing_list = _list_or_404(list_id)
    form = MemberForm()
    if form.validate_on_submit():
        try:
            services.add_member(mailing_list, required(form.email.data), name=form.name.data or None,
                                language=required(form.language.data),
                                consent_source=required(form.consent_source.data), actor=current_user, now=utcnow())
        except DomainError as error:
            add_error(form.email, str(error))
        else:
            db.session.commit()
            flash(_("Member added."), "success")
            return redirect(url_for("mailing_staff.show", list_id=list_id))
    return render_template("mailing/staff/add_member.html", form=form, mailing_list=mailing_list)


@mailing_staff_bp.post("/<int:list_id>/members/<int:subscription_id>/remove")
@role_required(Role.LEAD)
def remove_member(list_id: int, subscription_id: int) -> Response:
    form = RemoveMemberForm()
    try:
        subscription = services.get_subscription(subscription_id)
        if subscription.list_id != list_id:
            abort(404)
        if not form.validate_on_submit():
            raise services.ConsentSourceRequired()
        services.remove_member(subscription, consent_source=required(form.consent_source.data), actor=current_user,
                               now=utcnow())
    except DomainError as error:
        flash_domain_error(error)
    else:
        db.session.commit()
        flash(_("Member removed; their consent record and its withdrawal are kept."), "success")
    return redirect(url_for("mailing_staff.members", list_id=list_id))


@mailing_staff_bp.route("/<int:list_id>/import", methods=["GET", "POST"])
@role_required(Role.LEAD)
def import_file(list_id: int) -> Response | str:
    mailing_list = _list_or_404(list_id)
    # A subscriber file may be larger than any other form of the app (MAX_CONTENT_LENGTH).
    request.max_content_length = imports.MAX_BYTES + 1024 * 1024
    form = ImportForm()
    if form.validate_on_submit():
        try:
            batch = imports.preview(mailing_list, form.file.data.read(imports.MAX_BYTES + 1),
                                    consent_source=required(form.consent_source.data), actor=current_user,
                                    now=utcnow())
        except DomainError as error:
            add_error(form.file, str(error))
        else:
            db.session.commit()
            return redirect(url_for("mailing_staff.import_preview", list_id=list_id, batch_id=batch.id))
    return render_template("mailing/staff/import.html", form=form, mailing_list=mailing_list)


def _batch_or_404(list_id: int, batch_id: int) -> ImportBatch:
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.list_id != list_id:
        abort(404)
    return batch


@mailing_staff_bp.route("/<int:list_id>/import/<int:batch_id>", methods=["GET", "POST"])
@role_required(Role.LEAD)
def import_preview(list_id: int, batch_id: int) -> Response | str:
    """The preview; accepting it starts the import in the background, and the page follows it."""
    mailing_list = _list_or_404(list_id)
    batch = _batch_or_404(list_id, batch_id)
    form = RunImportForm()
    if form.validate_on_submit():
        try:
            imports.start(batch)
        except DomainError as error:
            flash_domain_error(error)
        else:
            db.session.commit()
            _run_in_background(current_app._get_current_object(), batch.id, current_user.id)  # type: ignore[attr-defined]
        return redirect(url_for("mailing_staff.import_preview", list_id=list_id, batch_id=batch_id))
    return render_template("mailing/staff/import_preview.html", mailing_list=mailing_list, batch=batch, form=form)


def _run_in_background(app: Flask, batch_id: int, actor_id: int) -> None:
    """The import in a thread of this process, in its own app context and one transaction."""

    def work() -> None:
        with app.app_context():
            now = utcnow()
            try:
                batch = db.session.get_one(ImportBatch, batch_id)
                imports.run(batch, actor=db.session.get(User, actor_id), now=now)
                db.session.commit()
            except Exception as exc:  # all or nothing: roll back, then say it failed
                db.session.rollback()
                log.exception("mailing import %s failed", batch_id)
                imports.mark_failed(batch_id, type(exc).__name__, now=now)
                db.session.commit()
            finally:
                db.session.remove()

    threading.Thread(target=work, name=f"mailing-import-{batch_id}", daemon=True).start()


@mailing_staff_bp.get("/<int:list_id>/import/<int:batch_id>/status")
@role_required(Role.LEAD)
def import_status(list_id: int, batch_id: int) -> Response:
    """The progress of a running import, for the page's progress bar (JSON)."""
    batch = _batch_or_404(list_id, batch_id)
    progress = imports.progress_of(batch.id)
    done, total = progress if progress else (0, int(batch.report.get("good", 0)))
    imported = int(batch.report.get("imported", 0))
    if batch.status == "done":
        done = total = imported
    return jsonify({"status": batch.status, "done": done, "total": total, "created": imported, "updated": 0})


@mailing_staff_bp.get("/<int:list_id>/export.csv")
@role_required(Role.LEAD)
def export(list_id: int) -> Response:
    """Every member as CSV, streamed; audited as it starts."""
    mailing_list = _list_or_404(list_id)
    filters = _filters()
    audit.record("mailing_list.exported", actor=current_user, subject_type="mailing_list", subject_id=list_id,
                 now=utcnow())
    db.session.commit()
    return current_app.response_class(stream_with_context(_csv(mailing_list.id, filters)), mimetype="text/csv",
                                      headers={"Content-Disposition":
                                               f'attachment; filename="mailing-list-{list_id}.csv"'})


def _csv(list_id: int, filters: reports.MemberFilter) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["email", "name", "organisation", "status", "language", "updated_at"])
    for row in reports.export_rows(db.session.get_one(MailingList, list_id), filters):
        writer.writerow(_safe([row.email, row.name, row.organisation or "", row.status, row.language,
                               row.updated_at.isoformat()]))
        if buffer.tell() > 16_384:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _safe(values: list[str]) -> list[str]:
    """A cell starting with = + - @ is a formula in a spreadsheet: prefix it so that it stays text."""
    return ["'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value for value in values]


@mailing_staff_bp.get("/contacts/<int:contact_id>")
@role_required(Role.LEAD)
def contact(contact_id: int) -> str:
    """A contact's subscriptions with their consent history."""
    person = db.session.get(Contact, contact_id)
    if person is None:
        abort(404)
    return render_template("mailing/staff/contact.html", contact=person, history=reports.consent_history(person))


@mailing_staff_bp.route("/suppressions", methods=["GET", "POST"])
@role_required(Role.LEAD)
def suppressions() -> Response | str:
    form = SuppressForm()
    if form.validate_on_submit():
        suppression.suppress(required(form.email.data), SuppressionReason.LEAD, source=required(form.source.data),
                             actor=current_user, now=utcnow())
        db.session.commit()
        flash(_("Address suppressed."), "success")
        return redirect(url_for("mailing_staff.suppressions"))
    search = request.args.get("q", "")[:320].replace("\x00", "")
    entries = suppression.entries(search=search, before_id=_cursor(request.args.get("before", "")))
    return render_template("mailing/staff/suppressions.html", form=form, entries=entries, search=search,
                           lift_form=LiftForm(), active=suppression.count_active())


@mailing_staff_bp.post("/suppressions/<int:entry_id>/lift")
@role_required(Role.LEAD)
def lift(entry_id: int) -> Response:
    form = LiftForm()
    try:
        entry = suppression.get(entry_id)
        if not form.validate_on_submit():
            raise suppression.LiftReasonRequired()
        suppression.lift(entry, reason=required(form.reason.data), actor=current_user, now=utcnow())
    except DomainError as error:
        flash_domain_error(error)
    else:
        db.session.commit()
        flash(_("Suppression lifted."), "success")
    return redirect(url_for("mailing_staff.suppressions"))

