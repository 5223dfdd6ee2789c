"""The staff inbox: queues with counts, filters, keyset pages, bulk actions, saved views, export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from urllib.parse import urlencode

from flask import (
    abort,
    current_app,
    flash,
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

from inquiry_desk.accounts import services as accounts
from inquiry_desk.accounts.models import Role
from inquiry_desk.accounts.permissions import role_required
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.domain import DomainError
from inquiry_desk.core.errors import flash_domain_error
from inquiry_desk.core.extensions import db
from inquiry_desk.core.forms import select_choices
from inquiry_desk.core.i18n import current_language
from inquiry_desk.core.ids import parse_id
from inquiry_desk.core.navigation import STAFF_MENU, MenuItem
from inquiry_desk.inbox.blueprint import inbox_bp
from inquiry_desk.inbox.forms import BulkForm, DeleteForm, SavedViewForm
from inquiry_desk.inbox.labels import QUEUE_LABELS, SORT_LABELS, filter_choices, history_label
from inquiry_desk.inbox.rows import list_rows
from inquiry_desk.inquiries import exports, queues, search, triage
from inquiry_desk.inquiries import services as inquiries
from inquiry_desk.inquiries.access import FOUND, Reader, record_readings
from inquiry_desk.inquiries.labels import priority_label, status_label
from inquiry_desk.inquiries.models import Priority
from inquiry_desk.inquiries.saved_views import services as saved_views

STAFF_MENU.insert(0, MenuItem("inbox.index", _l("Inquiries"), Role.VIEWER.value))

inbox_bp.add_app_template_global(history_label, "history_label")


def _list_args() -> tuple[str, str, queues.Filters]:
    queue = request.args.get("queue", "new")
    sort = request.args.get("sort", "due" if queue in ("due_soon", "overdue") else "received")
    return queue, sort, queues.Filters.from_args(request.args)


@inbox_bp.route("/")
@role_required(Role.VIEWER)
def index() -> Response | str:
    queue, sort, filters = _list_args()
    now = utcnow()
    if filters.q and not request.args.get("cursor"):
        match = search.exact_match(filters.q, readable=Reader(current_user).content_condition())
        if match is not None:
            return redirect(url_for("inbox.show", inquiry_id=match))
    try:
        page = queues.list_page(queue, filters, actor=current_user, now=now, sort=sort,
                                cursor=request.args.get("cursor"), summaries=True)
    except queues.InvalidFilter:
        flash(_("That filter does not name anything we know; the list shows everything instead."), "error")
        return redirect(url_for("inbox.index", queue="all"))
    # Need-to-know: who found a restricted inquiry by its content is in its access report.
    if filters.q and page.reader is not None and record_readings(FOUND, page.items, page.reader, now=now):
        db.session.commit()
    args = {"queue": queue, "sort": sort, **filters.as_args()}
    return render_template(
        "inbox/index.html", page=page, rows=list_rows(page.items, now, page.reader.topics if page.reader else ()),
        counts=queues.queue_counts(current_user, now), now=now,
        queue_labels=QUEUE_LABELS, sort_labels=SORT_LABELS, choices=filter_choices(),
        list_args=args, current_query=urlencode(args), saved=saved_views.views_of(current_user),
        save_form=SavedViewForm(query=urlencode(args)), bulk_form=_bulk_form(), delete_form=DeleteForm(),
        count_cap=queues.COUNT_CAP,
    )


def _bulk_form() -> BulkForm:
    form = BulkForm()
    form.action.choices = select_choices([
        ("assign_me", _("Assign to me")),
        *((f"assign_{user.id}", _("Assign to %(name)s", name=user.name))
          for user in accounts.assignable_users() if user.id != current_user.id),
        ("unassign", _("Return to the queue")),
        *((f"status_{status}", _("Set status: %(status)s", status=status_label(status)))
          for status in ("open", "waiting", "resolved")),
        ("close", _("Close")), ("tag", _("Add a tag")),
        *((f"priority_{priority.value}", _("Set priority: %(priority)s", priority=priority_label(priority.value)))
          for priority in Priority),
        *((f"topic_{topic.code}", _("Set topic: %(topic)s", topic=topic.name(current_language())))
          for topic in inquiries.active_topics()),
    ])
    return form


@inbox_bp.route("/bulk", methods=["POST"])
@role_required(Role.OFFICER)
def bulk() -> Response | str:
    """A bulk action asks for confirmation first: the selection and the action are shown back."""
    form = _bulk_form()
    ids = [number for number in map(parse_id, request.form.getlist("selected")) if number is not None][:500]
    back = request.form.get("back") or url_for("inbox.index")
    if not form.validate_on_submit() or not ids:
        flash(_("Select at least one inquiry and an action."), "error")
        return redirect(_safe_back(back))
    action, value = form.action.data, (form.value.data or "").strip()
    if action == "tag" and not value:
        flash(_("Type the tag to add."), "error")
        return redirect(_safe_back(back))
    if form.confirmed.data != "yes":
        chosen = queues.inquiries_by_ids(ids)
        return render_template("inbox/bulk_confirm.html", form=form, inquiries=chosen, action=action, value=value,
                               back=back, reader=Reader(current_user))
    now = utcnow()
    assignee = current_user if action == "assign_me" else None
    service_action = {"assign_me": "assign", "unassign": "assign"}.get(action, action)
    if action.startswith("assign_") and action.removeprefix("assign_").isdigit():  # a colleague, from the choices
        assignee, service_action = accounts.get_user(int(action.removeprefix("assign_"))), "assign"
    for kind in ("status", "priority", "topic"):
        if action.startswith(f"{kind}_"):
            service_action, value = kind, action.removeprefix(f"{kind}_")
    try:
        result = triage.bulk(ids, service_action, value, actor=current_user, now=now, assignee=assignee)
    except triage.TriageError as exc:
        flash(str(exc), "error")
        return redirect(_safe_back(back))
    db.session.commit()
    flash(_("%(changed)d inquiries changed, %(refused)d left as they were.", changed=result.changed,
            refused=result.refused), "success" if not result.refused else "info")
    return redirect(_safe_back(back))


def _safe_back(target: str) -> str:
    return target if target.startswith("/staff/inquiries") else url_for("inbox.index")


@inbox_bp.route("/views", methods=["POST"])
@role_required(Role.VIEWER)
def save_view() -> Response:
    form = SavedViewForm()
    if form.validate_on_submit():
        try:
            view = saved_views.save_view(current_user, form.name.data or "", form.query.data or "", now=utcnow())
        except DomainError as exc:
            flash_domain_error(exc)
        else:
            db.session.commit()
            flash(_("View “%(name)s” saved.", name=view.name), "success")
            return redirect(url_for("inbox.index") + "?" + view.query)
    else:
        flash(" ".join(str(message) for messages in form.errors.values() for message in messages), "error")
    return redirect(url_for("inbox.index") + "?" + saved_views.canonical_query(form.query.data or ""))


@inbox_bp.route("/views/<int:view_id>/delete", methods=["POST"])
@role_required(Role.VIEWER)
def delete_view(view_id: int) -> Response:
    if not DeleteForm().validate_on_submit():
        abort(400)
    if not saved_views.delete_view(current_user, view_id):
        abort(404)
    db.session.commit()
    flash(_("View deleted."), "success")
    return redirect(url_for("inbox.index"))


@inbox_bp.route("/export.csv")
@role_required(Role.OFFICER)
def export() -> Response:
    """The current filtered list as CSV, streamed a keyset page at a time, with a row limit."""
    queue, sort, filters = _list_args()
    now = utcnow()
    try:
        queues.check_filters(queue, filters, sort, actor=current_user, now=now)
    except queues.InvalidFilter:
        abort(400)
    rows = exports.export_rows(queue, filters, actor_id=current_user.id, now=now, sort=sort,
                               max_rows=current_app.config["INBOX_EXPORT_MAX_ROWS"])
    filename = f"inquiries-{queue}-{now:%Y%m%d-%H%M}.csv"
    return current_app.response_class(stream_with_context(_csv_text(rows)), mimetype="text/csv",
                                      headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _csv_text(rows: Iterator[list[str]]) -> Iterator[str]:
    """CSV text in chunks of about 16 kB."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() > 16_384:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()

