"""Staff's intake pages: log an inquiry received another way, and the partners' networks (issue 10)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from inquiry_desk.accounts.models import Role
from inquiry_desk.accounts.permissions import role_required
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.domain import DomainError
from inquiry_desk.core.extensions import db
from inquiry_desk.core.forms import SelectChoice, add_error, select_choices
from inquiry_desk.core.i18n import current_language
from inquiry_desk.core.navigation import STAFF_MENU, MenuItem
from inquiry_desk.inquiries import services as inquiries
from inquiry_desk.intake import networks, staff_entry
from inquiry_desk.intake.models import ExemptNetwork
from inquiry_desk.intake.staff_forms import LogInquiryForm, NetworkForm, RemoveForm

intake_staff_bp = Blueprint("intake_staff", __name__, url_prefix="/staff")

STAFF_MENU.append(MenuItem("intake_staff.log_inquiry", _l("Log an inquiry"), Role.OFFICER.value))
STAFF_MENU.append(MenuItem("intake_staff.networks", _l("Partners’ networks"), Role.LEAD.value))


def _topic_choices() -> list[SelectChoice]:
    lang = current_language()
    return select_choices([("", _("No topic yet")), *((t.code, t.name(lang)) for t in inquiries.active_topics())])


@intake_staff_bp.route("/inquiries/new", methods=["GET", "POST"])
@role_required(Role.OFFICER)
def log_inquiry() -> Response | tuple[str, int]:
    form = LogInquiryForm()
    form.topic.choices = _topic_choices()
    if not form.is_submitted():
        form.language.data = current_language()
    if form.validate_on_submit():
        entry = staff_entry.StaffEntry(
            subject=form.subject.data or "", message=form.message.data or "", channel=form.channel.data or "",
            language=form.language.data or "en",
            topic=inquiries.topic_by_code(form.topic.data) if form.topic.data else None,
            name=form.name.data or "", email=form.email.data or "", phone=form.phone.data or "",
            organisation=form.organisation.data or "", send_confirmation=bool(form.send_confirmation.data),
        )
        try:
            inquiry = staff_entry.log_inquiry(entry, actor=current_user, now=utcnow())
        except staff_entry.ConfirmationWithoutAddress as error:
            add_error(form.send_confirmation, error.message)
        except staff_entry.NameWithoutAddress as error:
            add_error(form.email, error.message)
        except DomainError as error:
            form.form_errors.append(error.message)
        else:
            db.session.commit()
            if entry.send_confirmation:
                flash(_("Inquiry %(reference)s logged. The stakeholder is sent a confirmation.",
                        reference=inquiry.reference), "success")
            else:
                flash(_("Inquiry %(reference)s logged. No email was sent.", reference=inquiry.reference), "success")
            return redirect(url_for("inbox.show", inquiry_id=inquiry.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("intake/log_inquiry.html", form=form), status


def _networks_page(form: NetworkForm, status: int = 200) -> tuple[str, int]:
    return render_template("intake/networks.html", form=form, entries=networks.listed(),
                           configured=[str(n) for n in networks.configured()]), status


@intake_staff_bp.get("/partner-networks", endpoint="networks")
@role_required(Role.LEAD)
def networks_index() -> tuple[str, int]:
    return _networks_page(NetworkForm())


@intake_staff_bp.post("/partner-networks")
@role_required(Role.LEAD)
def add_network() -> Response | tuple[str, int]:
    form = NetworkForm()
    if not form.validate_on_submit():
        return _networks_page(form, 422)
    try:
        entry = networks.add(form.network.data or "", form.label.data or "", actor=current_user, now=utcnow())
    except DomainError as error:
        add_error(form.network, error.message)
        return _networks_page(form, error.http_status)
    db.session.commit()
    flash(_("Network %(network)s added: the public form no longer limits it.", network=entry.network), "success")
    return redirect(url_for("intake_staff.networks"))


@intake_staff_bp.post("/partner-networks/<int:entry_id>/remove")
@role_required(Role.LEAD)
def remove_network(entry_id: int) -> Response:
    entry = db.session.get(ExemptNetwork, entry_id)
    if entry is None:
        abort(404)
    if not RemoveForm().validate_on_submit():
        abort(400)
    network = entry.network
    networks.remove(entry, actor=current_user, now=utcnow())
    db.session.commit()
    flash(_("Network %(network)s removed.", network=network), "success")
    return redirect(url_for("intake_staff.networks"))
