"""Contacts: the list, a contact's page, create, edit, deactivate, merge; a person's data exported or
erased (leads, after a confirmation); and filing an inquiry's sender in the directory."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from inquiry_desk.accounts.models import Role
from inquiry_desk.accounts.permissions import role_required
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.domain import DomainError, NotFound
from inquiry_desk.core.extensions import db
from inquiry_desk.core.forms import SelectChoice
from inquiry_desk.core.text import parse_line
from inquiry_desk.directory import rules
from inquiry_desk.directory import services as directory
from inquiry_desk.directory.labels import DIRECTORY_KIND_LABELS
from inquiry_desk.directory.models import Contact, Organisation
from inquiry_desk.inbox import directory_profile
from inquiry_desk.inbox.directory_blueprint import directory_bp
from inquiry_desk.inbox.directory_forms import ConfirmForm, ContactForm, MergeForm, PlainForm, SenderForm, show_problems
from inquiry_desk.inquiries import access
from inquiry_desk.inquiries.models import Inquiry
from inquiry_desk.inquiries.stakeholders import listing, merging, person_data, senders


def contact_or_404(contact_id: int) -> Contact:
    try:
        return directory.get_contact(contact_id)
    except NotFound:
        abort(404)


def _search_text(name: str = "q") -> str:
    try:
        return parse_line(request.values.get(name, ""), max_length=200, required=False)
    except DomainError:
        abort(400)


def _organisation_named(form: ContactForm | SenderForm) -> tuple[bool, Organisation | None]:
    """The organisation the form names (by its name in the directory); (False, None) and an error if none."""
    try:
        name = parse_line(form.organisation.data, max_length=rules.NAME_MAX, required=False)
    except DomainError as exc:
        form.organisation.errors = [exc.message]
        return False, None
    if not name:
        return True, None
    organisation = directory.find_organisation_by_name(name) or _case_blind(name)
    if organisation is None:
        form.organisation.errors = [_("No organisation of the directory has this name.")]
        return False, None
    return True, organisation


def _case_blind(name: str) -> Organisation | None:
    page = listing.organisation_page(listing.OrganisationFilters(q=name), limit=20)
    return next((row.organisation for row in page.rows if row.organisation.name.casefold() == name.casefold()), None)


@directory_bp.route("/contacts/")
@role_required(Role.VIEWER)
def contacts() -> str:
    q = _search_text()
    try:
        after = listing.decode_name_cursor(request.args.get("cursor"))
    except listing.BadCursor:
        abort(400)
    page = listing.contact_page(q, after=after)
    next_url = url_for("directory.contacts", q=q or None, cursor=listing.encode_cursor(page.next_after)) \
        if page.next_after else None
    return render_template("directory/contacts.html", page=page, q=q, next_url=next_url,
                           can_edit=current_user.has_role(Role.OFFICER))


@directory_bp.route("/contacts/new", methods=["GET", "POST"])
@role_required(Role.OFFICER)
def new_contact() -> Response | str:
    form = ContactForm()
    if request.method == "GET" and request.args.get("organisation_id", "").isdigit():
        try:
            form.organisation.data = directory.get_organisation(int(request.args["organisation_id"])).name
        except NotFound:
            form.organisation.data = ""
    if form.validate_on_submit():
        found, organisation = _organisation_named(form)
        if found:
            try:
                contact = directory.create_contact(rules.parse_contact(form.values()), organisation=organisation,
                                                   actor=current_user, now=utcnow())
            except rules.Invalid as exc:
                show_problems(form, exc.problems)
            except directory.EmailTaken as exc:
                form.email.errors = [exc.message]
            else:
                db.session.commit()
                flash(_("Contact added: %(name)s.", name=contact.name), "success")
                return redirect(url_for("directory.contact", contact_id=contact.id))
    return render_template("directory/contact_form.html", form=form, contact=None)


@directory_bp.route("/contacts/<int:contact_id>")
@role_required(Role.VIEWER)
def contact(contact_id: int) -> str:
    contact = contact_or_404(contact_id)
    merged_into = db.session.get(Contact, contact.merged_into_id) if contact.merged_into_id else None
    return render_template("directory/contact.html", contact=contact, merged_into=merged_into,
                           **directory_profile.sections("directory.contact", contact_id=contact.id),
                           plain_form=PlainForm(), can_edit=current_user.has_role(Role.OFFICER),
                           is_lead=current_user.has_role(Role.LEAD))


@directory_bp.route("/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@role_required(Role.OFFICER)
def edit_contact(contact_id: int) -> Response | str:
    contact = contact_or_404(contact_id)
    if contact.erased_at is not None:
        abort(404)
    form = ContactForm(obj=contact)
    if request.method == "GET":
        form.organisation.data = contact.organisation.name if contact.organisation else ""
    if form.validate_on_submit():
        found, organisation = _organisation_named(form)
        if found:
            try:
                changed = directory.update_contact(contact, rules.parse_contact(form.values()),
                                                   organisation=organisation, actor=current_user, now=utcnow())
            except rules.Invalid as exc:
                show_problems(form, exc.problems)
            except directory.EmailTaken as exc:
                form.email.errors = [exc.message]
            else:
                db.session.commit()
                flash(_("Changes saved.") if changed else _("Nothing was changed."), "success" if changed else "info")
                return redirect(url_for("directory.contact", contact_id=contact.id))
    return render_template("directory/contact_form.html", form=form, contact=contact)


@directory_bp.route("/contacts/<int:contact_id>/active", methods=["POST"])
@role_required(Role.OFFICER)
def contact_active(contact_id: int) -> Response:
    contact = contact_or_404(contact_id)
    if not PlainForm().validate_on_submit():
        abort(400)
    active = request.form.get("active") == "1"
    directory.set_contact_active(contact, active, actor=current_user, now=utcnow())
    db.session.commit()
    flash(_("Contact reactivated.") if active else _("Contact deactivated."), "success")
    return redirect(url_for("directory.contact", contact_id=contact.id))


@directory_bp.route("/contacts/<int:contact_id>/merge", methods=["GET", "POST"])
@role_required(Role.LEAD)
def merge_contact(contact_id: int) -> Response | str:
    contact = contact_or_404(contact_id)
    query = _search_text()
    candidates = [other for other in listing.contact_page(query, limit=20).rows if other.id != contact.id] \
        if query else []
    form = MergeForm()
    form.kept_id.choices = [SelectChoice(str(other.id), f"{other.name} <{other.email}>") for other in candidates]
    if request.method == "POST" and form.validate_on_submit():
        kept = contact_or_404(int(form.kept_id.data))
        try:
            moved = merging.merge_contacts(contact, kept, actor=current_user, now=utcnow())
        except DomainError as exc:
            form.form_errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("Merged into %(name)s: %(count)d inquiries moved.", name=kept.name, count=moved), "success")
            return redirect(url_for("directory.contact", contact_id=kept.id))
    return render_template("directory/merge.html", form=form, subject=contact, query=query, candidates=candidates,
                           kind="contact", action=url_for("directory.merge_contact", contact_id=contact.id))


@directory_bp.route("/contacts/<int:contact_id>/export", methods=["GET", "POST"])
@role_required(Role.LEAD)
def export_person(contact_id: int) -> Response | str:
    contact = contact_or_404(contact_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        now = utcnow()
        archive = person_data.export_archive(contact, actor=current_user, now=now)
        db.session.commit()
        return Response(archive, mimetype="application/zip", headers={
            "Content-Disposition": f'attachment; filename="person-{contact.id}-{now:%Y%m%d-%H%M}.zip"'})
    return render_template("directory/person_confirm.html", form=form, contact=contact, action="export")


@directory_bp.route("/contacts/<int:contact_id>/erase", methods=["GET", "POST"])
@role_required(Role.LEAD)
def erase_person(contact_id: int) -> Response | str:
    contact = contact_or_404(contact_id)
    if contact.erased_at is not None:
        flash(_("This person's data was already erased."), "info")
        return redirect(url_for("directory.contact", contact_id=contact.id))
    form = ConfirmForm()
    if form.validate_on_submit():
        counts = person_data.erase(contact, actor=current_user, now=utcnow())
        db.session.commit()
        flash(_("The person's data was erased: %(inquiries)d inquiries are kept as anonymous records.",
                inquiries=counts["inquiries"]), "success")
        return redirect(url_for("directory.contact", contact_id=contact.id))
    return render_template("directory/person_confirm.html", form=form, contact=contact, action="erase")


@directory_bp.route("/inquiries/<int:inquiry_id>/sender", methods=["GET", "POST"])
@role_required(Role.OFFICER)
def file_sender(inquiry_id: int) -> Response | str:
    inquiry = db.session.get(Inquiry, inquiry_id) if 0 < inquiry_id <= directory.MAX_ID else None
    if inquiry is None:
        abort(404)
    if not access.may_open(inquiry, current_user, utcnow()):  # need-to-know: as on the inquiry page
        abort(403)
    contact = inquiry.contact
    if contact is None:  # logged without a stakeholder: nobody to file
        abort(404)
    form = SenderForm(obj=contact)
    if request.method == "GET":
        form.organisation.data = contact.organisation.name if contact.organisation else ""
        form.new_organisation.data = inquiry.organisation_name or contact.organisation_name or ""
        if inquiry.organisation_kind in DIRECTORY_KIND_LABELS:
            form.new_kind.data = inquiry.organisation_kind
    if form.validate_on_submit():
        found, organisation = _organisation_named(form)
        new_name = (form.new_organisation.data or "").strip()
        new_organisation = details = None
        try:
            details = rules.parse_contact({"email": contact.email, "name": form.name.data, "title": form.title.data,
                                           "phone": form.phone.data, "language": form.language.data,
                                           "notes": contact.notes})
        except rules.Invalid as exc:
            show_problems(form, exc.problems)
        if organisation is None and new_name and found:
            try:
                new_organisation = rules.parse_organisation({"name": new_name, "kind": form.new_kind.data})
            except rules.Invalid as exc:
                show_problems(form, {"new_kind" if name == "kind" else "new_organisation": message
                                     for name, message in exc.problems.items()})
                found = False
        if found and details is not None:
            senders.file_sender(inquiry, details, organisation=organisation, new_organisation=new_organisation,
                                actor=current_user, now=utcnow())
            db.session.commit()
            flash(_("The sender is in the directory."), "success")
            return redirect(url_for("inbox.show", inquiry_id=inquiry.id))
    return render_template("directory/file_sender.html", form=form, inquiry=inquiry, contact=contact)
