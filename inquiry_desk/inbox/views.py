"""Staff views over inquiries. For now the newest inquiries; the full inbox comes next."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l

from inquiry_desk.accounts.models import Role
from inquiry_desk.accounts.permissions import role_required
from inquiry_desk.inquiries import services as inquiries
from inquiry_desk.navigation import STAFF_MENU, MenuItem

inbox_bp = Blueprint("inbox", __name__, url_prefix="/staff/inquiries")

STAFF_MENU.insert(0, MenuItem("inbox.index", _l("Inquiries"), Role.VIEWER.value))


@inbox_bp.route("/")
@role_required(Role.VIEWER)
def index() -> str:
    return render_template("inbox/index.html", inquiries=inquiries.newest_inquiries(limit=50))
