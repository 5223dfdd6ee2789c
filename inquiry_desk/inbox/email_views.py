"""Email in on the inquiry page: the whole email a message came in ("Show the whole email")."""

from __future__ import annotations

from flask import Response, abort

from inquiry_desk.accounts.models import Role
from inquiry_desk.accounts.permissions import role_required
from inquiry_desk.inbox.blueprint import inbox_bp
from inquiry_desk.inbox.inquiry_views import _inquiry_or_404
from inquiry_desk.inquiries import email_in


@inbox_bp.route("/<int:inquiry_id>/messages/<int:message_id>/email")
@role_required(Role.VIEWER)
def whole_email(inquiry_id: int, message_id: int) -> Response:
    """Plain text, never rendered as HTML (nosniff): headers, the full text, the attachments' names."""
    inquiry = _inquiry_or_404(inquiry_id)
    text = email_in.whole_message(inquiry, message_id) if message_id <= 2**31 - 1 else None
    if text is None:
        abort(404)
    response = Response(text, mimetype="text/plain")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
