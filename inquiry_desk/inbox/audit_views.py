"""The audit log page (administrators): who did what, and who saw what, filtered, paged and exported.

Administrators only: the log answers "what did this person open" for every staff member, a
question the issue gives to administrators (leads have the access report of each inquiry).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import Blueprint, abort, current_app, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from inquiry_desk.accounts import services as accounts
from inquiry_desk.accounts.models import Role
from inquiry_desk.accounts.permissions import role_required
from inquiry_desk.audit.services import Query
from inquiry_desk.core.clock import team_timezone, utcnow
from inquiry_desk.core.ids import parse_id
from inquiry_desk.inbox import audit_labels
from inquiry_desk.inquiries import audit_trail
from inquiry_desk.inquiries.audit_trail import Entry
from inquiry_desk.inquiries.exports import csv_safe

audit_log_bp = Blueprint("audit_log", __name__, url_prefix="/staff/admin/audit")

PAGE_SIZE = 100
EXPORT_COLUMNS = ("id", "at", "actor", "action", "action_code", "subject", "subject_type", "subject_id", "details",
                  "ip_address")
# The filters the page reads from its query string, in the order of the form.
FILTER_NAMES = ("actor", "action", "subject", "from", "to")


@dataclass(frozen=True)
class Filters:
    query: Query
    args: dict[str, str]  # as given (for the form, the next page and the export link)
    subject_typed: bool


def _day(name: str) -> date | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value[:10]) if len(value) == 10 else None
    except ValueError:
        day = None
    if day is None or not 1900 <= day.year <= 9000:
        abort(400)
    return day


def _filters() -> Filters:
    """The query of the page's filters; a malformed one is refused (400) rather than guessed at."""
    args = {name: request.args.get(name, "").strip()[:200] for name in FILTER_NAMES}
    actor_ids: tuple[int, ...] = ()
    no_actor = False
    if args["actor"] == "none":
        no_actor = True
    elif args["actor"]:
        actor_id = parse_id(args["actor"])
        if actor_id is None:
            abort(400)
        actor_ids = (actor_id,)
    actions: tuple[str, ...] = ()
    if args["action"]:
        found = audit_labels.actions_for(args["action"])
        if found is None:
            abort(400)
        actions = found
    subjects = audit_trail.resolve_subject(args["subject"])
    since, until = _day("from"), _day("to")
    zone = team_timezone()
    query = Query(
        actor_ids=actor_ids, no_actor=no_actor, actions=actions, subjects=subjects or (),
        since=datetime.combine(since, time.min, tzinfo=zone) if since else None,
        until=datetime.combine(until + timedelta(days=1), time.min, tzinfo=zone) if until else None,
        nothing=subjects == (),
    )
    return Filters(query=query, args=args, subject_typed=subjects is not None)


@audit_log_bp.route("")
@role_required(Role.ADMIN)
def index() -> str:
    filters = _filters()
    entries, next_before = audit_trail.entries(filters.query, actor=current_user, limit=PAGE_SIZE,
                                               before_id=parse_id(request.args.get("before")))
    users = accounts.list_users()
    active_args = {name: value for name, value in filters.args.items() if value}
    return render_template(
        "admin/audit.html", entries=entries, users=users, args=filters.args, active_args=active_args,
        next_args={**active_args, "before": next_before} if next_before else None,
        action_choices=audit_labels.action_choices(), labels=audit_labels,
        user_names={user.id: user.name for user in users}, first_page=not request.args.get("before"),
    )


@audit_log_bp.route("/export.csv")
@role_required(Role.ADMIN)
def export() -> Response:
    """The filtered log as CSV, streamed a keyset page at a time, with a row limit; the export is audited."""
    filters = _filters()
    now = utcnow()
    user_names = {user.id: user.name for user in accounts.list_users()}
    kept = {name: value for name, value in filters.args.items() if value and name != "subject"}
    if filters.args["subject"]:
        kept["subject"] = "[words typed not kept]"
    rows = audit_trail.export_rows(filters.query, kept, actor_id=current_user.id, now=now,
                                   max_rows=current_app.config.get("AUDIT_EXPORT_MAX_ROWS", 100_000),
                                   columns=EXPORT_COLUMNS, row=lambda entry: _row(entry, user_names))
    filename = f"audit-log-{now:%Y%m%d-%H%M}.csv"
    return current_app.response_class(stream_with_context(_csv_text(rows)), mimetype="text/csv",
                                      headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _row(entry: Entry, user_names: dict[int, str]) -> list[str]:
    return csv_safe([
        str(entry.id), entry.at.isoformat(), entry.actor_name or _("System or stakeholder"),
        audit_labels.action_label(entry.action), entry.action, audit_labels.subject_text(entry),
        entry.subject_type or "", "" if entry.subject_id is None else str(entry.subject_id),
        audit_labels.details_text(entry, user_names), entry.ip_address or "",
    ])


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
