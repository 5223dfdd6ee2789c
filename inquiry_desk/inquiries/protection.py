"""Protected information: restricting an inquiry or a topic, naming staff on it, justifying an
opening, the access report, and redacting one message. The rules of who may read what are in
``access.py``; this module changes them, each change audited.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from inquiry_desk.accounts.models import Role, User
from inquiry_desk.audit import services as audit
from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.domain import InvalidInput, NotAllowed
from inquiry_desk.core.extensions import db
from inquiry_desk.core.text import TextRequired, parse_line
from inquiry_desk.inquiries import access, attachments, recorder
from inquiry_desk.inquiries.models import Attachment, Inquiry, Message, NamedStaff, Topic
from inquiry_desk.mail.models import OutgoingEmail

REASON_MAX = 500
# What a redacted message's body, and every copy of it, becomes.
REDACTED = "[redacted]"


class ReasonRequired(InvalidInput):
    code = "reason_required"
    default_message = _l("Give a reason.")


def parse_reason(value: str) -> str:
    try:
        return parse_line(" ".join((value or "").split()), max_length=REASON_MAX)
    except TextRequired as exc:
        raise ReasonRequired() from exc


def _require(allowed: bool) -> None:
    if not allowed:
        raise NotAllowed()


# --- restriction ---------------------------------------------------------------------------


def restrict(inquiry: Inquiry, reason: str, *, actor: User, now: datetime) -> None:
    """Restrict one inquiry (an officer who may open it, or a lead), with a reason.

    Whoever restricts it is named on it (unless they hold it), so that they keep reading it.
    """
    _require(actor.has_role(Role.OFFICER) and access.may_open(inquiry, actor, now))
    reason = parse_reason(reason)
    with recorder.change(inquiry, actor=actor, now=now) as change:
        inquiry.restricted = True
        inquiry.restricted_reason = reason
        change.event("restricted", reason=reason)
        if inquiry.assignee_id != actor.id and not access.is_named(inquiry.id, actor.id):
            db.session.add(NamedStaff(inquiry_id=inquiry.id, user_id=actor.id, added_at=now, added_by_id=actor.id))
            change.event("staff_named", user_id=actor.id)


def lift_restriction(inquiry: Inquiry, *, actor: User, now: datetime) -> None:
    """Leads only. A restricted topic still restricts the inquiry."""
    _require(actor.has_role(Role.LEAD) and access.may_open(inquiry, actor, now))
    if not inquiry.restricted:
        return
    with recorder.change(inquiry, actor=actor, now=now) as change:
        inquiry.restricted = False
        inquiry.restricted_reason = None
        change.event("restriction_lifted")


def name_staff(inquiry: Inquiry, user: User, *, actor: User, now: datetime) -> None:
    """Name a staff member on the inquiry: they may read it while it is restricted."""
    _require(actor.has_role(Role.OFFICER) and access.may_open(inquiry, actor, now))
    if not user.active:
        raise InvalidInput(_l("Choose an active staff member."))
    if access.is_named(inquiry.id, user.id):
        return
    with recorder.change(inquiry, actor=actor, now=now) as change:
        db.session.add(NamedStaff(inquiry_id=inquiry.id, user_id=user.id, added_at=now, added_by_id=actor.id))
        change.event("staff_named", user_id=user.id)


def unname_staff(inquiry: Inquiry, user_id: int, *, actor: User, now: datetime) -> None:
    _require(actor.has_role(Role.OFFICER) and access.may_open(inquiry, actor, now))
    named = db.session.get(NamedStaff, (inquiry.id, user_id))
    if named is None:
        return
    with recorder.change(inquiry, actor=actor, now=now) as change:
        db.session.delete(named)
        change.event("staff_unnamed", user_id=user_id)


def set_topic_restricted(topic: Topic, restricted: bool, *, actor: User, now: datetime) -> None:
    """A lead marks a topic restricted (every inquiry on it is) or lifts it."""
    _require(actor.has_role(Role.LEAD))
    if topic.restricted == restricted:
        return
    topic.restricted = restricted
    audit.record("topic.restricted" if restricted else "topic.restriction_lifted", actor=actor,
                 subject_type="topic", subject_id=topic.id, details={"code": topic.code}, now=now)


def topics() -> Sequence[Topic]:
    return db.session.scalars(select(Topic).order_by(Topic.position, Topic.id)).all()


# --- openings ------------------------------------------------------------------------------


def justify_access(inquiry: Inquiry, reason: str, *, actor: User, now: datetime) -> None:
    """A lead who is not named gives the reason for opening a restricted inquiry (kept in the audit log)."""
    _require(actor.has_role(Role.LEAD))
    audit.record(access.JUSTIFIED, actor=actor, subject_type="inquiry", subject_id=inquiry.id,
                 details={"reason": parse_reason(reason)}, now=now)


@dataclass(frozen=True)
class Opening:
    at: datetime
    user_id: int | None
    action: str  # one of access.READINGS
    reason: str


def access_report(inquiry: Inquiry, *, actor: User, since: datetime | None = None,
                  until: datetime | None = None) -> list[Opening]:
    """Who opened the inquiry and when (and the reasons leads gave), oldest first. Leads only."""
    _require(actor.has_role(Role.LEAD))
    query = select(AuditEvent).where(
        AuditEvent.subject_type == "inquiry", AuditEvent.subject_id == inquiry.id,
        AuditEvent.action.in_(access.READINGS))
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    events = db.session.scalars(query.order_by(AuditEvent.id)).all()
    return [Opening(at=event.at, user_id=event.actor_id, action=event.action,
                    reason=str((event.details or {}).get("reason", ""))) for event in events]


# --- redaction -----------------------------------------------------------------------------


def redact_message(message: Message, reason: str, *, actor: User, now: datetime) -> int:
    """Replace one message's text by ``REDACTED`` in the thread, the search index and the outbox,
    and erase its attachments.

    Leads only. The reason and who did it go to the inquiry's history; the original text is
    kept nowhere (audit details never hold bodies). Returns how many outbox copies were changed.
    """
    inquiry = message.inquiry
    _require(actor.has_role(Role.LEAD) and access.may_open(inquiry, actor, now))
    reason = parse_reason(reason)
    if message.redacted_at is not None:
        return 0
    original = message.body
    with recorder.change(inquiry, actor=actor, now=now) as change:
        message.body = REDACTED
        message.redacted_at = now
        # Its files may say what the text said: they go too (the file after the commit, unless kept elsewhere).
        files = attachments.erase_where(Attachment.message_id == message.id, now=now)
        change.event("message_redacted", message_id=message.id, reason=reason, **({"files": files} if files else {}))
    return redact_outbox([inquiry.id], original)


def redact_subject(inquiry: Inquiry, reason: str, *, actor: User, now: datetime) -> int:
    """Replace the inquiry's subject by ``REDACTED`` (thread, search, the outbox's subjects and bodies).

    Leads only; audited like a message's redaction. Returns how many outbox copies were changed.
    """
    _require(actor.has_role(Role.LEAD) and access.may_open(inquiry, actor, now))
    reason = parse_reason(reason)
    original = inquiry.subject
    if original == REDACTED:
        return 0
    with recorder.change(inquiry, actor=actor, now=now) as change:
        inquiry.subject = REDACTED
        change.event("subject_redacted", reason=reason)
    return redact_outbox([inquiry.id], original)


# Emails to staff that list inquiries, a line each ("- INQ-2026-000123 Subject"): the daily digest
# and the target reminders. They are not keyed by inquiry, so they are found by the reference.
STAFF_LIST_CAUSES = ("digest:%", "reminders:%")


def redact_outbox(inquiry_ids: Sequence[int], original: str, *, addresses: Sequence[str] = ()) -> int:
    """Put the marker in place of ``original`` (as written, or HTML-escaped) in the outbox; returns how
    many emails changed.

    Every email about the inquiries (subject line and bodies) and every email to ``addresses``;
    in the staff lists that name one of the inquiries, the text just after its reference (a
    short text elsewhere in a digest may be another inquiry's and is left alone).
    """
    texts = sorted({text for text in (original, original.strip(), html.escape(original),
                                      html.escape(original.strip())) if text}, key=len, reverse=True)
    about = [OutgoingEmail.cause_key.like(f"inquiry:{inquiry_id}:%") for inquiry_id in inquiry_ids]
    if addresses:
        about.append(OutgoingEmail.to_address.in_(list(addresses)))
    changed = 0
    for email in db.session.scalars(select(OutgoingEmail).where(or_(*about))) if about else ():
        changed += _replace(email, [(text, REDACTED) for text in texts])
    references = [reference for reference in db.session.scalars(
        select(Inquiry.reference).where(Inquiry.id.in_(list(inquiry_ids)))) if reference]
    for reference in references:
        staff_lists = select(OutgoingEmail).where(
            or_(*(OutgoingEmail.cause_key.like(cause) for cause in STAFF_LIST_CAUSES)),
            OutgoingEmail.body_text.contains(reference, autoescape=True))
        for email in db.session.scalars(staff_lists):
            changed += _replace(email, [(f"{reference} {text}", f"{reference} {REDACTED}") for text in texts])
    return changed


def _replace(email: OutgoingEmail, pairs: list[tuple[str, str]]) -> int:
    before = (email.subject, email.body_text, email.body_html)
    for text, marker in pairs:
        email.subject = email.subject.replace(text, marker)
        email.body_text = email.body_text.replace(text, marker)
        if email.body_html:
            email.body_html = email.body_html.replace(text, marker)
    return int((email.subject, email.body_text, email.body_html) != before)


@dataclass(frozen=True)
class UserOpening:
    event_id: int
    at: datetime
    inquiry_id: int | None
    reference: str
    action: str
    reason: str


def openings_by(user_id: int, *, actor: User, since: datetime | None = None, until: datetime | None = None,
                before_id: int | None = None, limit: int = 100) -> list[UserOpening]:
    """What one staff member opened (and the reasons they gave), newest first, keyset-paged by audit id.

    Administrators only: the privacy officer's "what did this person open in this period".
    """
    _require(actor.has_role(Role.ADMIN))
    query = (select(AuditEvent, Inquiry.reference)
             .outerjoin(Inquiry, Inquiry.id == AuditEvent.subject_id)
             .where(AuditEvent.actor_id == user_id, AuditEvent.subject_type == "inquiry",
                    AuditEvent.action.in_(access.READINGS))
             .order_by(AuditEvent.id.desc()).limit(limit))
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return [UserOpening(event_id=event.id, at=event.at, inquiry_id=event.subject_id, reference=reference or "",
                        action=event.action, reason=str((event.details or {}).get("reason", "")))
            for event, reference in db.session.execute(query)]
