"""CSV import (upload, preview with the errors per row, then the import as a background job with a
progress bar) and CSV export of organisations and contacts.

The import runs in a thread of the web process, in its own app context and transaction: all
rows or none. Its progress is written on its row as it goes (``imports.ProgressRecorder``), so
whichever web process answers ``import_status`` (JSON) knows it; the page follows it with a
``<progress>`` bar (static/js/app.js); without JavaScript it offers a link that reloads the page.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask, abort, current_app, jsonify, redirect, render_template, stream_with_context, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from inquiry_desk.accounts.models import Role, User
from inquiry_desk.accounts.permissions import role_required
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.domain import DomainError
from inquiry_desk.core.extensions import db
from inquiry_desk.directory import csv_io, imports
from inquiry_desk.directory import services as directory
from inquiry_desk.directory.models import DirectoryImport, ImportStatus
from inquiry_desk.inbox.directory_blueprint import directory_bp
from inquiry_desk.inbox.directory_forms import ImportForm, PlainForm

log = logging.getLogger(__name__)
PREVIEW_ERRORS = 200
PREVIEW_ROWS = 20


def _import_or_404(import_id: int) -> DirectoryImport:
    row = db.session.get(DirectoryImport, import_id) if 0 < import_id <= directory.MAX_ID else None
    if row is None:
        abort(404)
    return row


@directory_bp.route("/import", methods=["GET", "POST"])
@role_required(Role.OFFICER)
def import_upload() -> Response | str:
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            text = csv_io.decode(upload.read(csv_io.MAX_FILE_BYTES + 1))
            row = imports.record_upload(form.subject.data or "", upload.filename, text, actor=current_user,
                                        now=utcnow())
        except DomainError as exc:
            form.file.errors = [exc.message]
        else:
            db.session.commit()
            return redirect(url_for("directory.import_preview", import_id=row.id))
    return render_template("directory/import.html", form=form)


@directory_bp.route("/import/<int:import_id>")
@role_required(Role.OFFICER)
def import_preview(import_id: int) -> str:
    row = _import_or_404(import_id)
    plan = problem = None
    if row.status == ImportStatus.PREVIEWED.value:
        try:
            plan = imports.check(row.content, row.subject)
        except DomainError as exc:
            problem = exc.message
    return render_template("directory/import_preview.html", row=row, plan=plan, problem=problem,
                           form=PlainForm(), preview_errors=PREVIEW_ERRORS, preview_rows=PREVIEW_ROWS,
                           columns=csv_io.COLUMNS[row.subject])


@directory_bp.route("/import/<int:import_id>/start", methods=["POST"])
@role_required(Role.OFFICER)
def import_start(import_id: int) -> Response:
    row = _import_or_404(import_id)
    if not PlainForm().validate_on_submit():
        abort(400)
    if row.status != ImportStatus.PREVIEWED.value:
        return redirect(url_for("directory.import_preview", import_id=row.id))
    row.status = ImportStatus.RUNNING.value
    db.session.commit()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    thread = threading.Thread(target=_run, args=(app, row.id, current_user.id), name=f"directory-import-{row.id}",
                              daemon=True)
    thread.start()
    return redirect(url_for("directory.import_preview", import_id=row.id))


def _run(app: Flask, import_id: int, actor_id: int) -> None:
    """The background job: the whole import in one transaction, then its row marked done (or failed)."""
    with app.app_context():
        try:
            row = db.session.get(DirectoryImport, import_id)
            actor = db.session.get(User, actor_id)
            if row is None:
                return
            imports.run(row, actor=actor, now=utcnow())
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            log.warning("directory import %s failed: %s", import_id, type(exc).__name__)
            imports.mark_failed(import_id, type(exc).__name__, now=utcnow())
            db.session.commit()
        finally:
            db.session.remove()


@directory_bp.route("/import/<int:import_id>/status")
@role_required(Role.OFFICER)
def import_status(import_id: int) -> Response:
    row = _import_or_404(import_id)
    body: dict[str, Any] = {"status": row.status, "done": row.progress_done, "total": row.progress_total,
                            "created": row.created, "updated": row.updated}
    return jsonify(body)


@directory_bp.route("/export/<any(organisations, contacts):subject>.csv")
@role_required(Role.OFFICER)
def export(subject: str) -> Response:
    now = utcnow()
    rows = csv_io.export_rows(subject, actor_id=current_user.id, now=now)
    filename = f"{subject}-{now:%Y%m%d-%H%M}.csv"
    # A byte-order mark first, so that Excel reads the accents as UTF-8.
    body = stream_with_context(_with_bom(csv_io.write_rows(rows)))
    return current_app.response_class(body, mimetype="text/csv; charset=utf-8",
                                      headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _with_bom(chunks: Any) -> Any:
    yield "\ufeff"
    yield from chunks

