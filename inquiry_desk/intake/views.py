"""Public intake pages: the inquiry form, its confirmation, the private portal."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from inquiry_desk.audit import services as audit
from inquiry_desk.core import file_store
from inquiry_desk.core.access import public
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db, limiter
from inquiry_desk.core.forms import required
from inquiry_desk.core.i18n import localized_route
from inquiry_desk.core.navigation import PUBLIC_LINKS, MenuItem
from inquiry_desk.core.uploads import accept_files
from inquiry_desk.inquiries import attachments, email_in
from inquiry_desk.inquiries import services as inquiries
from inquiry_desk.inquiries.attachment_fields import show_refused, uploads_of
from inquiry_desk.intake import form_cache, networks
from inquiry_desk.intake import services as intake
from inquiry_desk.intake.forms import InquiryForm, NewLinkForm, PortalReplyForm
from inquiry_desk.intake.links import FORM_PATHS, NEW_LINK_PATHS, PORTAL_FILE_PATHS, PORTAL_PATHS, THANKS_PATHS
from inquiry_desk.intake.spam import SpamSuspected, check_submission, form_started_token

log = logging.getLogger(__name__)
intake_bp = Blueprint("intake", __name__)
accept_files("intake.form", "intake.portal")

PUBLIC_LINKS.append(MenuItem("intake.form", _l("Send us an inquiry"),
                             description=_l("Ask a question; you get a reference number and a private link.")))
PUBLIC_LINKS.append(MenuItem("intake.new_link", _l("Follow an inquiry you sent"),
                             description=_l("Get a new private link to your inquiry by email.")))


def _intake_limit() -> str:
    return str(current_app.config["INTAKE_RATE_LIMIT"])


def _counts_toward_the_limit(response: Response) -> bool:
    """Only what was accepted, or refused as abuse, uses up the limit: typos do not (issue 10 defect 10)."""
    return bool(g.get("intake_counts"))


def _from_an_allowed_network() -> bool:
    return networks.is_exempt(request.remote_addr)


@localized_route(intake_bp, FORM_PATHS, "form", methods=["GET", "POST"])
@public
@limiter.limit(_intake_limit, methods=["POST"], deduct_when=_counts_toward_the_limit,
               exempt_when=_from_an_allowed_network)
def form(lang_code: str) -> Response | str:
    form = InquiryForm()
    form.topic.choices = form_cache.topic_choices(form_cache.active_topics(), lang_code)
    if not form.is_submitted():
        form.language.data = lang_code
        form.started.data = form_started_token()
        return render_template("intake/form.html", form=form, blank_form=form_cache.blank_form(form, lang_code))
    if form.validate_on_submit():
        try:
            nonce = check_submission(form.website.data, form.started.data)
        except SpamSuspected as suspected:
            log.warning("inquiry form refused: %s", suspected.reason)
            g.intake_counts = True
            form.started.data = form_started_token()
            form.form_errors.append(_("We could not accept this form. Check what you typed, wait a few seconds, "
                                      "and send it again."))
        else:
            files = tuple(uploads_of(form.attachments))
            refused = [item for item in attachments.check(files) if item.reason]
            if refused:  # said file by file; what was typed stays, and the limit is not used up
                show_refused(form.attachments, refused)
                return render_template("intake/form.html", form=form)
            submission = intake.Submission(
                name=required(form.name.data), email=required(form.email.data), subject=required(form.subject.data),
                message=required(form.message.data),
                language=form.language.data, topic=form_cache.topic_by_code(form.topic.data),
                organisation=form.organisation.data or None, organisation_kind=form.organisation_kind.data,
                phone=form.phone.data or None, files=files,
            )
            try:
                inquiry, _made = intake.submit_inquiry_once(submission, nonce, now=utcnow())
            except intake.DuplicateSubmission:
                db.session.rollback()
                return redirect(url_for("intake.form", lang_code=lang_code))
            reference = inquiry.reference  # read before the commit expires it: no query to load it again
            db.session.commit()
            g.intake_counts = True
            session["sent_reference"] = reference
            return redirect(url_for("intake.thanks", lang_code=lang_code))
    return render_template("intake/form.html", form=form)


@localized_route(intake_bp, THANKS_PATHS, "thanks")
@public
def thanks(lang_code: str) -> Response | str:
    reference = session.get("sent_reference")
    if not reference:
        return redirect(url_for("intake.form", lang_code=lang_code))
    return render_template("intake/thanks.html", reference=reference)


@localized_route(intake_bp, PORTAL_PATHS, "portal", methods=["GET", "POST"])
@public
@limiter.limit(_intake_limit, methods=["POST"])
def portal(lang_code: str, token: str) -> Response | tuple[str, int] | str:
    now = utcnow()
    try:
        inquiry = intake.open_portal(token, now=now)
    except inquiries.PortalLinkExpired as problem:
        revoked = isinstance(problem, inquiries.PortalLinkRevoked)
        return render_template("intake/link_problem.html", expired=True, revoked=revoked), 410
    except inquiries.PortalLinkInvalid:
        return render_template("intake/link_problem.html", expired=False), 404
    form = PortalReplyForm()
    if form.validate_on_submit():
        try:
            message = intake.reply_from_portal(inquiry, required(form.message.data), now=now,
                                               files=tuple(uploads_of(form.attachments)))
        except attachments.AttachmentsRefused as refused:
            db.session.rollback()
            show_refused(form.attachments, refused.refused)
        else:
            db.session.commit()
            session["portal_notice"] = [inquiry.reference, message.inquiry.reference]
            return redirect(url_for("intake.portal", lang_code=lang_code, token=token))
    audit.record("inquiry.viewed_by_stakeholder", actor_id=None, subject_type="inquiry", subject_id=inquiry.id, now=now)
    db.session.commit()
    notice = session.pop("portal_notice", None)
    just_replied = isinstance(notice, list) and len(notice) == 2 and notice[0] == inquiry.reference
    thread = inquiries.public_thread(inquiry)
    whole_emails = {message.id: email_in.whole_message(inquiry, message.id) for message in thread
                    if message.inbound_email_id is not None}
    return render_template("intake/portal.html", inquiry=inquiry, thread=thread, whole_emails=whole_emails,
                           files=attachments.of_messages([message.id for message in thread]), token=token,
                           form=form, just_replied=just_replied,
                           follow_up=notice[1] if just_replied and notice[1] != inquiry.reference else None)


@localized_route(intake_bp, PORTAL_FILE_PATHS, "portal_file")
@public
def portal_file(lang_code: str, token: str, attachment_id: int) -> Response:
    """A file of the stakeholder's own thread (never an internal note's), as a download; audited."""
    now = utcnow()
    try:
        inquiry = intake.open_portal(token, now=now)
    except inquiries.PortalLinkInvalid:
        abort(404)
    except inquiries.PortalLinkExpired:
        abort(410)
    row = attachments.for_stakeholder(inquiry, attachment_id, visible=inquiries.public_thread(inquiry), now=now)
    if row is None or row.sha256 is None:
        abort(404)
    db.session.commit()
    return file_store.download(row.sha256, row.content_type, row.filename)


@localized_route(intake_bp, NEW_LINK_PATHS, "new_link", methods=["GET", "POST"])
@public
@limiter.limit(_intake_limit, methods=["POST"])
def new_link(lang_code: str) -> str:
    form = NewLinkForm()
    if form.validate_on_submit():
        intake.send_new_link(required(form.reference.data), required(form.email.data), now=utcnow())
        db.session.commit()
        return render_template("intake/new_link_sent.html")
    return render_template("intake/new_link.html", form=form)


@intake_bp.after_request
def _no_referrer_to_other_sites(response: Response) -> Response:
    # The portal URL holds the private token: never pass it on to another site. "same-origin", not
    # "no-referrer": over HTTPS the CSRF check wants a same-origin Referer on every POST (issue 11, C1).
    response.headers["Referrer-Policy"] = "same-origin"
    return response
