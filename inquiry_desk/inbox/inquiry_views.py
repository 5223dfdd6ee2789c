"""One inquiry: its thread, details, history, and the triage actions (each a POST that redirects back)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from inquiry_desk.accounts import services as accounts
from inquiry_desk.accounts.models import Role
from inquiry_desk.accounts.permissions import role_required
from inquiry_desk.audit import services as audit
from inquiry_desk.core.clock import team_timezone, utcnow
from inquiry_desk.core.domain import Conflict, DomainError
from inquiry_desk.core.errors import flash_domain_error
from inquiry_desk.core.extensions import db
from inquiry_desk.core.forms import SelectChoice, select_choices
from inquiry_desk.core.i18n import current_language
from inquiry_desk.core.ids import parse_id
from inquiry_desk.core.uploads import accept_files
from inquiry_desk.inbox.blueprint import inbox_bp
from inquiry_desk.inbox.forms import (
    AssignForm,
    HoldForm,
    LiftHoldForm,
    LinkForm,
    MergeForm,
    NoteForm,
    PriorityForm,
    ReplyForm,
    StatusForm,
    TagsForm,
    TopicForm,
    UnlinkForm,
    UnmergeForm,
)
from inquiry_desk.inbox.labels import fold_history
from inquiry_desk.inbox.protection_pages import protection_forms, render_justify, render_metadata
from inquiry_desk.inquiries import (
    access,
    attachments,
    consent,
    correspondence,
    lifecycle,
    links,
    notifications,
    presence,
    targets,
    triage,
)
from inquiry_desk.inquiries import services as inquiries
from inquiry_desk.inquiries.attachment_fields import show_refused, uploads_of
from inquiry_desk.inquiries.canned import services as canned
from inquiry_desk.inquiries.labels import PRIORITY_LABELS, STATUS_LABELS
from inquiry_desk.inquiries.models import Inquiry, MessageKind, PersonConcerned, Priority, Status

AnyForm = TypeVar("AnyForm", bound=FlaskForm)


MAX_ID = 2**31 - 1  # an id column is a 32-bit integer: PostgreSQL refuses a larger number (a 500)


accept_files("inbox.reply")


def _inquiry_or_404(inquiry_id: int, *, to_act: bool = True) -> Inquiry:
    """The inquiry: 404 if there is none; to act on it, 403 if need-to-know keeps it from the user."""
    inquiry = db.session.get(Inquiry, inquiry_id) if inquiry_id <= MAX_ID else None
    if inquiry is None:
        abort(404)
    if to_act and not access.may_open(inquiry, current_user, utcnow()):
        abort(403)
    return inquiry


def _assignable_choices() -> list[SelectChoice]:
    return select_choices([("", _("Nobody (back to the queue)")),
                           *((str(u.id), u.name) for u in accounts.assignable_users())])


def _with_choices(form: AnyForm) -> AnyForm:
    """Fill a triage form's lists, in the page's language: for showing and for checking a post."""
    lang = current_language()
    if isinstance(form, AssignForm):
        form.assignee.choices = _assignable_choices()
    elif isinstance(form, StatusForm):
        form.status.choices = select_choices((s.value, STATUS_LABELS[s.value]) for s in Status)
    elif isinstance(form, PriorityForm):
        form.priority.choices = select_choices((p.value, PRIORITY_LABELS[p.value]) for p in Priority)
    elif isinstance(form, TopicForm):
        form.topic.choices = select_choices([("", _("No topic")),
                                             *((t.code, t.name(lang)) for t in inquiries.active_topics())])
    elif isinstance(form, ReplyForm):
        form.canned.choices = select_choices([("", _("Choose a canned response")), *(
            (str(response.id), response.title(lang)) for response in canned.list_active(lang))])
        form.next_status.choices = select_choices((s.value, STATUS_LABELS[s.value]) for s in
                                                  (Status.WAITING, Status.OPEN, Status.RESOLVED, Status.CLOSED))
    return form


def _forms(inquiry: Inquiry, reply: ReplyForm | None = None) -> dict[str, Any]:
    if reply is None:
        reply = ReplyForm(language=inquiry.language, next_status=Status.WAITING.value, version=str(inquiry.version))
    return {
        "assign_form": _with_choices(AssignForm(assignee=str(inquiry.assignee_id or ""))),
        "status_form": _with_choices(StatusForm(status=inquiry.status)),
        "priority_form": _with_choices(PriorityForm(priority=inquiry.priority)),
        "topic_form": _with_choices(TopicForm(topic=inquiry.topic.code if inquiry.topic else "")),
        "tags_form": TagsForm(tags=", ".join(tag.name for tag in inquiry.tags)),
        "note_form": NoteForm(), "reply_form": _with_choices(reply), "merge_form": MergeForm(),
        "unmerge_form": UnmergeForm(), "link_form": LinkForm(), "unlink_form": UnlinkForm(),
        "hold_form": HoldForm(reason=inquiry.hold_reason or ""), "lift_hold_form": LiftHoldForm(),
    }


def _render(inquiry: Inquiry, *, reply: ReplyForm | None = None, conflict: list[str] | None = None,
            status_code: int = 200, offer_link: str | None = None,
            consent_warning: list[PersonConcerned] | None = None) -> tuple[str, int]:
    now = utcnow()
    events = audit.events_for("inquiry", inquiry.id)
    history = fold_history(event for event in events
                           if event.action not in access.READINGS or event.action == access.JUSTIFIED)
    users = {user.id: user for user in accounts.list_users()}
    due_state, due_text = targets.describe_due(inquiry.due_at, now) if inquiry.due_at else ("", "")
    page = render_template(
        "inbox/inquiry.html", inquiry=inquiry, messages=inquiry.messages, history=history, users=users,
        restricted=access.is_restricted(inquiry), named=access.named_staff(inquiry.id),
        reader=access.Reader(current_user), **protection_forms(inquiry), people=consent.people_of(inquiry),
        today=now.astimezone(team_timezone()).date(), consent_warning=consent_warning,
        others=presence.others_viewing(inquiry.id, current_user, now=now), due_state=due_state, due_text=due_text,
        other_inquiries=inquiries.other_inquiries_of(inquiry, limit=10), conflict=conflict,
        can_unmerge=triage.can_unmerge(inquiry, now), MessageKind=MessageKind, **_forms(inquiry, reply),
        live_links=inquiries.live_portal_links(inquiry, now=now),
        linked=links.linked_inquiries(inquiry), offer_link=offer_link,
        files=attachments.of_messages([message.id for message in inquiry.messages]),
        not_sent=attachments.replies_not_sent(events),
    )
    return page, status_code


@inbox_bp.route("/<int:inquiry_id>")
@role_required(Role.VIEWER)
def show(inquiry_id: int) -> tuple[str, int]:
    inquiry = _inquiry_or_404(inquiry_id, to_act=False)  # the page itself says what need-to-know allows
    now = utcnow()
    if not access.may_read(inquiry, current_user):
        return render_metadata(inquiry, now), 200
    if access.needs_reason(inquiry, current_user, now):
        return render_justify(inquiry), 200
    presence.mark_viewing(inquiry.id, current_user, now=now)
    triage.record_view(inquiry, actor=current_user, now=now)
    notifications.mark_replies_seen(inquiry, current_user, now=now)
    db.session.commit()
    return _render(inquiry, offer_link=_pop_link_offer(inquiry))


def _pop_link_offer(inquiry: Inquiry) -> str | None:
    """The reference a refused merge of this inquiry offers to link instead (shown once)."""
    offer = session.get("offer_link")
    if not isinstance(offer, dict) or offer.get("inquiry") != inquiry.id:
        return None
    session.pop("offer_link")
    reference = offer.get("reference")
    return reference if isinstance(reference, str) else None


def _act(inquiry_id: int, form_class: type[FlaskForm], action: Callable[[Inquiry, Any], object], done: str) -> Response:
    """Validate the form, run the triage action, commit, and go back to the inquiry."""
    inquiry = _inquiry_or_404(inquiry_id)
    form = _with_choices(form_class())
    if not form.validate_on_submit():
        messages = [str(message) for errors in form.errors.values() for message in errors]
        flash(" ".join(messages) or _("That change could not be made."), "error")
        return redirect(url_for("inbox.show", inquiry_id=inquiry.id))
    try:
        action(inquiry, form)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash_domain_error(exc)
    except StaleDataError:  # someone else changed the inquiry between our read and our write
        db.session.rollback()
        flash_domain_error(Conflict())
    else:
        flash(done, "success")
    return redirect(url_for("inbox.show", inquiry_id=inquiry.id))


@inbox_bp.route("/<int:inquiry_id>/assign", methods=["POST"])
@role_required(Role.OFFICER)
def assign(inquiry_id: int) -> Response:
    def run(inquiry: Inquiry, form: AssignForm) -> None:
        assignee = accounts.get_user(int(form.assignee.data)) if form.assignee.data else None
        triage.assign(inquiry, assignee, actor=current_user, now=utcnow())

    return _act(inquiry_id, AssignForm, run, _("Assignment saved."))


@inbox_bp.route("/<int:inquiry_id>/take", methods=["POST"])
@role_required(Role.OFFICER)
def take(inquiry_id: int) -> Response:
    """“Assign to me” in one step."""
    def run(inquiry: Inquiry, form: FlaskForm) -> None:
        triage.assign(inquiry, current_user, actor=current_user, now=utcnow())

    return _act(inquiry_id, FlaskForm, run, _("The inquiry is assigned to you."))


@inbox_bp.route("/<int:inquiry_id>/withdraw-links", methods=["POST"])
@role_required(Role.OFFICER)
def withdraw_links(inquiry_id: int) -> Response:
    """Withdraw the stakeholder's private links (audited); they can ask for a new one by email."""
    def run(inquiry: Inquiry, form: FlaskForm) -> None:
        triage.withdraw_links(inquiry, actor=current_user, now=utcnow())

    return _act(inquiry_id, FlaskForm, run, _("The private links to this inquiry no longer work. The stakeholder "
                                             "can ask for a new one, sent to their email address."))


@inbox_bp.route("/<int:inquiry_id>/status", methods=["POST"])
@role_required(Role.OFFICER)
def set_status(inquiry_id: int) -> Response:
    return _act(inquiry_id, StatusForm,
                lambda inquiry, form: triage.set_status(inquiry, form.status.data, actor=current_user, now=utcnow()),
                _("Status saved."))


@inbox_bp.route("/<int:inquiry_id>/priority", methods=["POST"])
@role_required(Role.OFFICER)
def set_priority(inquiry_id: int) -> Response:
    return _act(inquiry_id, PriorityForm,
                lambda inquiry, form: triage.set_priority(inquiry, form.priority.data, actor=current_user,
                                                          now=utcnow()),
                _("Priority saved."))


@inbox_bp.route("/<int:inquiry_id>/topic", methods=["POST"])
@role_required(Role.OFFICER)
def set_topic(inquiry_id: int) -> Response:
    return _act(inquiry_id, TopicForm,
                lambda inquiry, form: triage.set_topic(inquiry, inquiries.topic_by_code(form.topic.data or ""),
                                                       actor=current_user, now=utcnow()),
                _("Topic saved."))


@inbox_bp.route("/<int:inquiry_id>/tags", methods=["POST"])
@role_required(Role.OFFICER)
def set_tags(inquiry_id: int) -> Response:
    return _act(inquiry_id, TagsForm,
                lambda inquiry, form: triage.set_tags(inquiry, (form.tags.data or "").split(","),
                                                      actor=current_user, now=utcnow()),
                _("Tags saved."))


@inbox_bp.route("/<int:inquiry_id>/note", methods=["POST"])
@role_required(Role.OFFICER)
def add_note(inquiry_id: int) -> Response:
    return _act(inquiry_id, NoteForm,
                lambda inquiry, form: triage.add_note(inquiry, form.body.data, actor=current_user, now=utcnow()),
                _("Note added. It is not sent to the stakeholder."))


@inbox_bp.route("/<int:inquiry_id>/reply", methods=["POST"])
@role_required(Role.OFFICER)
def reply(inquiry_id: int) -> Response | tuple[str, int]:
    """Send a reply; or, with “Insert”, put a canned response into the box and show the page again."""
    inquiry = _inquiry_or_404(inquiry_id)
    form = _with_choices(ReplyForm())
    if form.insert.data:
        return _insert_canned(inquiry, form)
    if not form.validate_on_submit() or not (form.body.data or "").strip():
        if not (form.body.data or "").strip():
            form.body.errors = [*form.body.errors, _("Write the reply.")]
        return _render(inquiry, reply=form, status_code=422)
    version = form.version.data or ""
    seen = int(version) if re.fullmatch(r"[0-9]{1,9}", version) else None
    if form.confirm.data == "yes":
        seen = None  # the officer saw the newer changes and sends anyway
    try:
        consent.check_reply(inquiry, form.body.data or "", acknowledged=bool(form.disclosure_acknowledged.data),
                            actor=current_user, now=utcnow())
    except consent.ConsentNotOnFile as exc:
        return _render(inquiry, reply=form, consent_warning=exc.people, status_code=409)
    try:
        correspondence.send_reply(inquiry, form.body.data or "", actor=current_user, now=utcnow(),
                                  language=form.language.data, next_status=form.next_status.data, seen_version=seen,
                                  files=uploads_of(form.attachments))
        db.session.commit()
    except attachments.AttachmentsRefused as refused:
        db.session.rollback()
        show_refused(form.attachments, refused.refused)
        return _render(inquiry, reply=form, status_code=422)
    except triage.VersionConflict as exc:
        db.session.rollback()
        return _render_conflict(inquiry, form, exc.changes)
    except StaleDataError:  # another reply or change was committed between our read and our write
        db.session.rollback()
        inquiry = _inquiry_or_404(inquiry_id)
        return _render_conflict(inquiry, form, triage.changes_since(inquiry, seen or inquiry.version - 1))
    except triage.TriageError as exc:
        db.session.rollback()
        form.body.errors = [*form.body.errors, str(exc)]
        return _render(inquiry, reply=form, status_code=422)
    flash(_("Reply sent to %(email)s.", email=inquiry.contact.email if inquiry.contact else ""), "success")
    return redirect(url_for("inbox.show", inquiry_id=inquiry.id))


def _render_conflict(inquiry: Inquiry, form: ReplyForm, changes: list[str]) -> tuple[str, int]:
    """The reply was not sent: show what changed, and let the officer send it anyway."""
    form.version.data = str(inquiry.version)
    form.confirm.data = "yes"
    return _render(inquiry, reply=form, conflict=changes, status_code=409)


def _insert_canned(inquiry: Inquiry, form: ReplyForm) -> tuple[str, int]:
    canned_id = parse_id(form.canned.data)
    response = canned.get(canned_id) if canned_id is not None else None
    if response is None:
        form.canned.errors = [_("Choose a canned response to insert.")]
        return _render(inquiry, reply=form, status_code=422)
    language = form.language.data if form.language.data in ("en", "fr") else inquiry.language
    try:
        text = canned.render_canned(response, language, inquiry, current_user)
    except canned.CannedTemplateError:  # saved before a rule it breaks existed: say so, never a 500
        form.canned.errors = [_("This canned response cannot be inserted: a lead must correct it first.")]
        return _render(inquiry, reply=form, status_code=422)
    current = (form.body.data or "").rstrip()
    form.body.data = f"{current}\n\n{text}" if current else text
    return _render(inquiry, reply=form)


def _other_by_reference(reference: str | None) -> Inquiry:
    other = inquiries.find_by_reference(reference or "")
    if other is None:
        raise triage.InvalidValue(_("No inquiry has the reference %(reference)s.", reference=reference))
    return other


@inbox_bp.route("/<int:inquiry_id>/merge", methods=["POST"])
@role_required(Role.LEAD)
def merge(inquiry_id: int) -> Response:
    """Merge a duplicate; across two stakeholders the merge is refused and the page offers a link."""
    def run(inquiry: Inquiry, form: MergeForm) -> None:
        target = _other_by_reference(form.target.data)
        try:
            correspondence.merge_and_notify(inquiry, target, actor=current_user, now=utcnow())
        except triage.DifferentStakeholders:
            session["offer_link"] = {"inquiry": inquiry.id, "reference": target.reference}
            raise

    return _act(inquiry_id, MergeForm, run, _("Merged. The stakeholder is told by email."))


@inbox_bp.route("/<int:inquiry_id>/link", methods=["POST"])
@role_required(Role.OFFICER)
def link(inquiry_id: int) -> Response:
    def run(inquiry: Inquiry, form: LinkForm) -> None:
        links.link(inquiry, _other_by_reference(form.other.data), actor=current_user, now=utcnow())

    return _act(inquiry_id, LinkForm, run, _("The inquiries are linked. Each stakeholder keeps their own thread."))


@inbox_bp.route("/<int:inquiry_id>/unlink/<int:other_id>", methods=["POST"])
@role_required(Role.OFFICER)
def unlink(inquiry_id: int, other_id: int) -> Response:
    other = _inquiry_or_404(other_id)
    return _act(inquiry_id, UnlinkForm,
                lambda inquiry, form: links.unlink(inquiry, other, actor=current_user, now=utcnow()),
                _("The link is removed."))


@inbox_bp.route("/<int:inquiry_id>/hold", methods=["POST"])
@role_required(Role.LEAD)
def hold(inquiry_id: int) -> Response:
    return _act(inquiry_id, HoldForm,
                lambda inquiry, form: lifecycle.place_hold(inquiry, form.reason.data or "", actor=current_user,
                                                           now=utcnow()),
                _("The inquiry is on hold: the retention purge will skip it."))


@inbox_bp.route("/<int:inquiry_id>/lift-hold", methods=["POST"])
@role_required(Role.LEAD)
def lift_hold(inquiry_id: int) -> Response:
    return _act(inquiry_id, LiftHoldForm,
                lambda inquiry, form: lifecycle.lift_hold(inquiry, actor=current_user, now=utcnow()),
                _("The hold is lifted."))


@inbox_bp.route("/<int:inquiry_id>/unmerge", methods=["POST"])
@role_required(Role.LEAD)
def unmerge(inquiry_id: int) -> Response:
    return _act(inquiry_id, UnmergeForm,
                lambda inquiry, form: triage.unmerge(inquiry, actor=current_user, now=utcnow()),
                _("The merge is undone."))
