"""The directory's blueprint, on its own: organisations (directory_views.py), contacts (contact_views.py)
and CSV import and export (directory_import_views.py) add their routes to it."""

from __future__ import annotations

from flask import Blueprint

directory_bp = Blueprint("directory", __name__, url_prefix="/staff/directory")
