"""Canned responses: officers read them (they insert them into replies); leads manage them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from inquiry_desk.accounts.models import Role
from inquiry_desk.accounts.permissions import role_required
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.core.navigation import STAFF_MENU, MenuItem
from inquiry_desk.inbox.canned_forms import VARIABLE_DESCRIPTIONS, CannedResponseForm, DeactivateForm, show_problems
from inquiry_desk.inquiries.canned import services as canned
from inquiry_desk.inquiries.canned.models import CannedResponse

canned_bp = Blueprint("canned", __name__, url_prefix="/staff/canned-responses")

STAFF_MENU.append(MenuItem("canned.index", _l("Canned responses"), Role.OFFICER.value))


def _variables() -> list[tuple[str, str]]:
    return [(name, str(VARIABLE_DESCRIPTIONS[name])) for name in canned.available_variables()]


def _active_or_404(canned_id: int) -> CannedResponse:
    response = canned.get(canned_id)
    if response is None:
        abort(404)
    return response


@canned_bp.route("/")
@role_required(Role.OFFICER)
def index() -> str:
    return render_template("canned/index.html", responses=canned.list_active(g.lang),
                           can_manage=current_user.has_role(Role.LEAD))


@canned_bp.route("/new", methods=["GET", "POST"])
@role_required(Role.LEAD)
def new() -> Response | str:
    form = CannedResponseForm()
    if form.validate_on_submit():
        try:
            response = canned.create(**form.service_values(), actor=current_user, now=utcnow())
        except canned.InvalidCannedResponse as exc:
            show_problems(form, exc.problems)
        else:
            db.session.commit()
            flash(_("Canned response created: %(title)s.", title=response.title(g.lang)), "success")
            return redirect(url_for("canned.index"))
    return render_template("canned/edit.html", form=form, response=None, variables=_variables())


@canned_bp.route("/<int:canned_id>", methods=["GET", "POST"])
@role_required(Role.LEAD)
def edit(canned_id: int) -> Response | str:
    response = _active_or_404(canned_id)
    form = CannedResponseForm(obj=response)
    if form.validate_on_submit():
        try:
            changed = canned.update(response, **form.service_values(), actor=current_user, now=utcnow())
        except canned.InvalidCannedResponse as exc:
            show_problems(form, exc.problems)
        else:
            db.session.commit()
            if changed:
                flash(_("Changes saved."), "success")
            else:
                flash(_("Nothing was changed."), "info")
            return redirect(url_for("canned.index"))
    return render_template("canned/edit.html", form=form, response=response, variables=_variables())


@canned_bp.route("/<int:canned_id>/deactivate", methods=["POST"])
@role_required(Role.LEAD)
def deactivate(canned_id: int) -> Response:
    response = _active_or_404(canned_id)
    if not DeactivateForm().validate_on_submit():
        abort(400)
    canned.deactivate(response, actor=current_user, now=utcnow())
    db.session.commit()
    flash(_("Canned response deactivated: %(title)s. It is no longer offered in replies.",
            title=response.title(g.lang)), "success")
    return redirect(url_for("canned.index"))
