"""Attachments on the inquiry page: a file of the thread, downloaded by a reader of the inquiry."""

from __future__ import annotations

from flask import Response, abort
from flask_login import current_user

from inquiry_desk.accounts.models import Role
from inquiry_desk.accounts.permissions import role_required
from inquiry_desk.core import file_store
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.inbox.blueprint import inbox_bp
from inquiry_desk.inbox.inquiry_views import _inquiry_or_404
from inquiry_desk.inquiries import attachments


@inbox_bp.route("/<int:inquiry_id>/attachments/<int:attachment_id>")
@role_required(Role.VIEWER)
def attachment(inquiry_id: int, attachment_id: int) -> Response:
    """Need-to-know as for opening the inquiry (a restricted one: its readers; a lead, with a reason
    given); each download is audited as a reading of the inquiry."""
    inquiry = _inquiry_or_404(inquiry_id)
    row = attachments.for_staff(inquiry, attachment_id, actor=current_user, now=utcnow())
    if row is None or row.sha256 is None:
        abort(404)
    db.session.commit()
    return file_store.download(row.sha256, row.content_type, row.filename)
