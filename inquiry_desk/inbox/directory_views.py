"""Organisations: the list, an organisation's page, create, edit, status, verified domains, deactivate, merge.

Viewers read; officers keep the directory; leads verify domains, give or take trusted
referral partner status, and merge (the services check the roles too).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from inquiry_desk.accounts.models import Role
from inquiry_desk.accounts.permissions import role_required
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.domain import DomainError, NotFound
from inquiry_desk.core.errors import flash_domain_error
from inquiry_desk.core.extensions import db
from inquiry_desk.core.forms import SelectChoice
from inquiry_desk.core.i18n import current_language
from inquiry_desk.core.navigation import STAFF_MENU, MenuItem
from inquiry_desk.core.text import parse_line
from inquiry_desk.directory import rules
from inquiry_desk.directory import services as directory
from inquiry_desk.directory.models import Organisation
from inquiry_desk.inbox import directory_profile
from inquiry_desk.inbox.directory_blueprint import directory_bp
from inquiry_desk.inbox.directory_forms import (
    DomainForm,
    MergeForm,
    OrganisationForm,
    PlainForm,
    StatusForm,
    kind_choices,
    show_problems,
    status_choices,
)
from inquiry_desk.inbox.directory_rows import organisation_rows
from inquiry_desk.inquiries.stakeholders import listing, merging, partners

STAFF_MENU.append(MenuItem("directory.organisations", _l("Directory"), Role.VIEWER.value))


def organisation_or_404(organisation_id: int) -> Organisation:
    try:
        return directory.get_organisation(organisation_id)
    except NotFound:
        abort(404)


def _filters() -> listing.OrganisationFilters:
    args = request.args
    kind = args.get("kind", "")
    status = args.get("status", "")
    open_inquiries = args.get("open_inquiries", "")
    if kind not in {choice.value for choice in kind_choices(blank=True)} or \
            status not in {choice.value for choice in status_choices(blank=True)} or \
            open_inquiries not in ("", "yes", "no"):
        abort(400)
    try:
        q = parse_line(args.get("q", ""), max_length=200, required=False)
        tag = parse_line(args.get("tag", ""), max_length=rules.TAG_MAX, required=False)
    except DomainError:
        abort(400)
    return listing.OrganisationFilters(q=q, kind=kind, status=status, tag=tag, open_inquiries=open_inquiries,
                                       include_inactive=args.get("include_inactive") == "1")


@directory_bp.route("/")
@role_required(Role.VIEWER)
def organisations() -> str:
    filters = _filters()
    try:
        after = listing.decode_name_cursor(request.args.get("cursor"))
    except listing.BadCursor:
        abort(400)
    page = listing.organisation_page(filters, after=after)
    next_url = None
    if page.next_after is not None:
        args: dict[str, Any] = {**filters.as_args(), "cursor": listing.encode_cursor(page.next_after)}
        next_url = url_for("directory.organisations", **args)
    return render_template("directory/organisations.html", rows=organisation_rows(page.rows, current_language()),
                           filters=filters, next_url=next_url,
                           kinds=kind_choices(blank=True), statuses=status_choices(blank=True),
                           tags=listing.all_tags(), first_page=after is None,
                           can_edit=current_user.has_role(Role.OFFICER))


@directory_bp.route("/organisations/new", methods=["GET", "POST"])
@role_required(Role.OFFICER)
def new_organisation() -> Response | str:
    form = OrganisationForm(new=True)
    if form.validate_on_submit():
        try:
            details = rules.parse_organisation(form.values())
            organisation = directory.create_organisation(details, status=form.status.data or "prospective",
                                                         actor=current_user, now=utcnow())
        except rules.Invalid as exc:
            show_problems(form, exc.problems)
        except DomainError as exc:
            form.form_errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("Organisation added: %(name)s.", name=organisation.name), "success")
            return redirect(url_for("directory.organisation", organisation_id=organisation.id))
    return render_template("directory/organisation_form.html", form=form, organisation=None)


@directory_bp.route("/organisations/<int:organisation_id>")
@role_required(Role.VIEWER)
def organisation(organisation_id: int) -> str:
    organisation = organisation_or_404(organisation_id)
    history = list(directory.status_history(organisation))
    merged_into = db.session.get(Organisation, organisation.merged_into_id) if organisation.merged_into_id else None
    return render_template(
        "directory/organisation.html", organisation=organisation, contacts=directory.contacts_of(organisation),
        merged_into=merged_into, history=history,
        **directory_profile.sections("directory.organisation", organisation_id=organisation.id,
                                     status_changes=history),
        status_form=StatusForm(status=organisation.status), domain_form=DomainForm(), plain_form=PlainForm(),
        can_edit=current_user.has_role(Role.OFFICER), is_lead=current_user.has_role(Role.LEAD),
    )


@directory_bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
@role_required(Role.OFFICER)
def edit_organisation(organisation_id: int) -> Response | str:
    organisation = organisation_or_404(organisation_id)
    form = OrganisationForm(obj=organisation, new=False)
    if request.method == "GET":
        form.tags.data = ", ".join(organisation.tags)
    if form.validate_on_submit():
        try:
            changed = directory.update_organisation(organisation, rules.parse_organisation(form.values()),
                                                    actor=current_user, now=utcnow())
        except rules.Invalid as exc:
            show_problems(form, exc.problems)
        else:
            db.session.commit()
            flash(_("Changes saved.") if changed else _("Nothing was changed."), "success" if changed else "info")
            return redirect(url_for("directory.organisation", organisation_id=organisation.id))
    return render_template("directory/organisation_form.html", form=form, organisation=organisation)


def _back(organisation: Organisation, anchor: str = "") -> Response:
    return redirect(url_for("directory.organisation", organisation_id=organisation.id) + anchor)


@directory_bp.route("/organisations/<int:organisation_id>/status", methods=["POST"])
@role_required(Role.OFFICER)
def organisation_status(organisation_id: int) -> Response:
    organisation = organisation_or_404(organisation_id)
    form = StatusForm()
    if not form.validate_on_submit():
        flash(_("Choose a status from the list."), "error")
        return _back(organisation, "#partnership")
    try:
        changed = partners.change_status(organisation, form.status.data or "", form.reason.data,
                                         actor=current_user, now=utcnow())
    except DomainError as exc:
        flash_domain_error(exc)
        return _back(organisation, "#partnership")
    db.session.commit()
    flash(_("Status changed to %(status)s.", status=str(organisation.status and _status(organisation.status))) +
          (" " + _("The trusted badge changed on %(count)d open inquiries.", count=changed) if changed else ""),
          "success")
    return _back(organisation)


def _status(status: str) -> str:
    from inquiry_desk.directory.labels import partnership_status_label

    return partnership_status_label(status)


@directory_bp.route("/organisations/<int:organisation_id>/domains", methods=["POST"])
@role_required(Role.LEAD)
def add_domain(organisation_id: int) -> Response:
    organisation = organisation_or_404(organisation_id)
    form = DomainForm()
    if not form.validate_on_submit():
        flash(_("Enter a domain like example.org."), "error")
        return _back(organisation, "#domains")
    try:
        entry, changed = partners.add_verified_domain(
            organisation, form.domain.data or "", include_subdomains=bool(form.include_subdomains.data),
            method=form.method.data, actor=current_user, now=utcnow())
    except DomainError as exc:
        flash_domain_error(exc)
        return _back(organisation, "#domains")
    db.session.commit()
    flash(_("Verified domain added: %(domain)s. %(count)d inquiries were linked to the organisation.",
            domain=entry.domain, count=changed), "success")
    return _back(organisation, "#domains")


@directory_bp.route("/organisations/<int:organisation_id>/domains/<int:domain_id>/remove", methods=["POST"])
@role_required(Role.LEAD)
def remove_domain(organisation_id: int, domain_id: int) -> Response:
    organisation = organisation_or_404(organisation_id)
    if not PlainForm().validate_on_submit():
        abort(400)
    try:
        changed = partners.remove_verified_domain(organisation, domain_id, actor=current_user, now=utcnow())
    except NotFound:
        abort(404)
    except DomainError as exc:
        flash_domain_error(exc)
        return _back(organisation, "#domains")
    db.session.commit()
    flash(_("Domain removed. %(count)d open inquiries were unlinked.", count=changed), "success")
    return _back(organisation, "#domains")


@directory_bp.route("/organisations/<int:organisation_id>/active", methods=["POST"])
@role_required(Role.OFFICER)
def organisation_active(organisation_id: int) -> Response:
    organisation = organisation_or_404(organisation_id)
    if not PlainForm().validate_on_submit():
        abort(400)
    active = request.form.get("active") == "1"
    partners.set_active(organisation, active, actor=current_user, now=utcnow())
    db.session.commit()
    flash(_("Organisation reactivated.") if active else _("Organisation deactivated: it is no longer listed."),
          "success")
    return _back(organisation)


def merge_candidates(query: str, exclude: int) -> list[Any]:
    if not query:
        return []
    page = listing.organisation_page(listing.OrganisationFilters(q=query, include_inactive=True), limit=20)
    return [row.organisation for row in page.rows if row.organisation.id != exclude]


@directory_bp.route("/organisations/<int:organisation_id>/merge", methods=["GET", "POST"])
@role_required(Role.LEAD)
def merge_organisation(organisation_id: int) -> Response | str:
    organisation = organisation_or_404(organisation_id)
    try:
        query = parse_line(request.values.get("q", ""), max_length=200, required=False)
    except DomainError:
        abort(400)
    candidates = merge_candidates(query, organisation.id)
    form = MergeForm()
    form.kept_id.choices = [SelectChoice(str(candidate.id), candidate.name) for candidate in candidates]
    if request.method == "POST" and form.validate_on_submit():
        kept = organisation_or_404(int(form.kept_id.data))
        try:
            moved = merging.merge_organisations(organisation, kept, actor=current_user, now=utcnow())
        except DomainError as exc:
            form.form_errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("Merged into %(name)s: %(count)d inquiries moved.", name=kept.name, count=moved), "success")
            return redirect(url_for("directory.organisation", organisation_id=kept.id))
    return render_template("directory/merge.html", form=form, subject=organisation, query=query,
                           candidates=candidates, kind="organisation",
                           action=url_for("directory.merge_organisation", organisation_id=organisation.id))
