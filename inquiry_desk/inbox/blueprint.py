"""The inbox blueprint, on its own: the list pages (views.py) and the inquiry page
(inquiry_views.py) both add their routes to it without importing each other."""

from __future__ import annotations

from flask import Blueprint

inbox_bp = Blueprint("inbox", __name__, url_prefix="/staff/inquiries")
