"""Triage: what staff do to an inquiry. Each action is one call.

Every function takes the acting user and ``now`` and changes the inquiry in the
caller's transaction inside ``recorder.change``, which bumps its version (so a stale
page can be told apart, and two people acting at once cannot both win), records who
did what in the audit log (the inquiry's history), re-indexes it and recomputes its
targets. Roles: viewers read; officers triage and reply; leads also merge and
reassign an inquiry someone else holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm.exc import StaleDataError

from inquiry_desk.accounts.models import Role, User
from inquiry_desk.audit import services as audit
from inquiry_desk.core.extensions import db
from inquiry_desk.core.text import TextRequired, parse_line, parse_text
from inquiry_desk.inquiries import access, notifications, recorder, services
from inquiry_desk.inquiries.models import (
    Inquiry,
    Message,
    MessageKind,
    Priority,
    Status,
    Tag,
    Topic,
)
from inquiry_desk.inquiries.rules import InvalidValue as InvalidValue  # re-exported: triage.InvalidValue
from inquiry_desk.inquiries.rules import NotAllowed as NotAllowed
from inquiry_desk.inquiries.rules import TriageError as TriageError
from inquiry_desk.inquiries.rules import require_role as require_role

MAX_TAGS = 20
MAX_TAG_LENGTH = 60
MAX_BODY = 20000
UNMERGE_DAYS = 7


class DifferentStakeholders(InvalidValue):
    """A merge across two stakeholders would show one person's messages to the other."""

    code = "different_stakeholders"
    default_message = _l("These inquiries come from different stakeholders, so they cannot be merged: "
                         "each must be answered in their own thread. Link them instead.")


class VersionConflict(TriageError):
    """Someone changed the inquiry since the page was loaded (a reply, usually)."""

    code = "version_conflict"

    def __init__(self, changes: Sequence[str]) -> None:
        super().__init__(_l("Someone changed this inquiry after you opened it."))
        self.changes = list(changes)


def withdraw_links(inquiry: Inquiry, *, actor: User, now: datetime) -> int:
    """Withdraw the stakeholder's private links to this inquiry (a link sent to the wrong address, a
    shared mailbox). They can ask for a new one, sent to the inquiry's address. Audited; returns how many."""
    require_role(actor, Role.OFFICER)
    count = services.revoke_portal_links(inquiry, now=now)
    if count:
        with recorder.change(inquiry, actor=actor, now=now) as change:
            change.event("portal_links_revoked", count=count)
    return count


def record_view(inquiry: Inquiry, *, actor: User, now: datetime) -> None:
    """Reading an inquiry is recorded too (QUALITY.md S8); it is not a change."""
    audit.record("inquiry.viewed", actor=actor, subject_type="inquiry", subject_id=inquiry.id, now=now)


def assign(inquiry: Inquiry, assignee: User | None, *, actor: User, now: datetime) -> None:
    """Give the inquiry to someone, or back to the queue (``assignee=None``); they are emailed.

    An officer may take an unassigned inquiry, give it back, or assign one of
    their own; taking one that someone else holds needs a lead.
    """
    require_role(actor, Role.OFFICER)
    if assignee is not None and (not assignee.active or not assignee.has_role(Role.OFFICER)):
        raise InvalidValue(_l("The assignee must be an active officer, lead or administrator."))
    held_by_other = inquiry.assignee_id not in (None, actor.id)
    if held_by_other and not actor.has_role(Role.LEAD):
        raise NotAllowed(_l("Only a lead can reassign an inquiry someone else holds."))
    if inquiry.assignee_id == (assignee.id if assignee else None):
        return
    with recorder.change(inquiry, actor=actor, now=now) as change:
        before = inquiry.assignee_id
        inquiry.assignee_id = assignee.id if assignee else None
        change.event("assigned", before=before, after=inquiry.assignee_id)
        if inquiry.status == Status.NEW.value and assignee is not None:
            set_status(inquiry, Status.OPEN, actor=actor, now=now)
    notifications.assigned(inquiry, assignee, actor=actor, now=now)


def set_status(inquiry: Inquiry, status: Status | str, *, actor: User, now: datetime) -> None:
    require_role(actor, Role.OFFICER)
    try:
        new = Status(status)
    except ValueError as exc:
        raise InvalidValue(_l("Choose a status from the list.")) from exc
    old = inquiry.status
    if old == new.value:
        return
    if inquiry.merged_into_id is not None:
        raise InvalidValue(_l("A merged inquiry stays closed; undo the merge first."))
    with recorder.change(inquiry, actor=actor, now=now) as change:
        inquiry.status = new.value
        if new in (Status.RESOLVED, Status.CLOSED):
            inquiry.resolved_at = inquiry.resolved_at or now
        else:
            inquiry.resolved_at = None
        change.event("status_changed", before=old, after=new.value)


def set_priority(inquiry: Inquiry, priority: Priority | str, *, actor: User, now: datetime) -> None:
    require_role(actor, Role.OFFICER)
    try:
        new = Priority(priority)
    except ValueError as exc:
        raise InvalidValue(_l("Choose a priority from the list.")) from exc
    if inquiry.priority == new.value:
        return
    with recorder.change(inquiry, actor=actor, now=now) as change:
        before = inquiry.priority
        inquiry.priority, inquiry.priority_rank = new.value, new.rank
        change.event("priority_changed", before=before, after=new.value)


def set_topic(inquiry: Inquiry, topic: Topic | None, *, actor: User, now: datetime) -> None:
    require_role(actor, Role.OFFICER)
    if inquiry.topic_id == (topic.id if topic else None):
        return
    with recorder.change(inquiry, actor=actor, now=now) as change:
        before = inquiry.topic.code if inquiry.topic else None
        inquiry.topic = topic
        inquiry.topic_id = topic.id if topic else None
        change.event("topic_changed", before=before, after=topic.code if topic else None)


def normalise_tags(names: Iterable[str]) -> list[str]:
    """Lower case, single spaces, no duplicates, in the order given."""
    cleaned: list[str] = []
    for name in names:
        tag = " ".join(name.split()).lower()
        if not tag:
            continue
        if len(tag) > MAX_TAG_LENGTH:
            raise InvalidValue(_l("A tag has at most %(count)d characters.", count=MAX_TAG_LENGTH))
        tag = parse_line(tag, max_length=MAX_TAG_LENGTH)  # refuses control characters
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise InvalidValue(_l("An inquiry has at most %(count)d tags.", count=MAX_TAGS))
    return cleaned


def _tags_named(names: list[str]) -> list[Tag]:
    existing = {tag.name: tag for tag in db.session.scalars(select(Tag).where(Tag.name.in_(names)))}
    tags = []
    for name in names:
        tag = existing.get(name)
        if tag is None:
            tag = Tag(name=name)
            db.session.add(tag)
        tags.append(tag)
    return tags


def set_tags(inquiry: Inquiry, names: Iterable[str], *, actor: User, now: datetime) -> None:
    require_role(actor, Role.OFFICER)
    wanted = normalise_tags(names)
    before = [tag.name for tag in inquiry.tags]
    if sorted(before) == sorted(wanted):
        return
    with recorder.change(inquiry, actor=actor, now=now) as change:
        inquiry.tags = _tags_named(wanted)
        change.event("tags_changed", before=before, after=wanted)


def add_tags(inquiry: Inquiry, names: Iterable[str], *, actor: User, now: datetime) -> None:
    set_tags(inquiry, [tag.name for tag in inquiry.tags] + list(names), actor=actor, now=now)


def check_body(body: str) -> str:
    """A reply or note: line endings normalised, control characters refused, not empty (core/text.py)."""
    try:
        return parse_text(body, max_length=MAX_BODY)
    except TextRequired as exc:
        raise InvalidValue(_l("The message is empty.")) from exc


def add_note(inquiry: Inquiry, body: str, *, actor: User, now: datetime) -> Message:
    """An internal note: never sent, never shown in the portal."""
    require_role(actor, Role.OFFICER)
    message = Message(kind=MessageKind.NOTE.value, body=check_body(body), author_user_id=actor.id,
                      channel="manual", created_at=now)
    with recorder.change(inquiry, actor=actor, now=now) as change:
        inquiry.messages.append(message)
        db.session.flush()
        change.event("note_added", message_id=message.id)
    return message


def check_version(inquiry: Inquiry, seen_version: int | None) -> None:
    """Raise VersionConflict when the inquiry changed after the page showing ``seen_version``.

    The list of what changed comes from the audit log: every change is there, with
    the version it made. Two requests that pass this check at the same moment are
    settled by the database (the version counter, see ``recorder``).
    """
    if seen_version is None or seen_version >= inquiry.version:
        return
    raise VersionConflict(changes_since(inquiry, seen_version))


# What a replying officer must know about before sending.
NOTEWORTHY = frozenset({"inquiry.replied", "inquiry.note_added", "inquiry.status_changed", "inquiry.assigned",
                        "inquiry.requester_replied",  # the name before "stakeholder" (older entries)
                        "inquiry.stakeholder_replied", "inquiry.merged_into"})


def changes_since(inquiry: Inquiry, seen_version: int) -> list[str]:
    """The noteworthy actions recorded after ``seen_version`` (at least one: "inquiry.changed")."""
    events = audit.events_for("inquiry", inquiry.id)
    recent = [event.action for event in events
              if int((event.details or {}).get("version", 0)) > seen_version and event.action in NOTEWORTHY]
    return recent or ["inquiry.changed"]


@dataclass(frozen=True)
class BulkResult:
    changed: int
    refused: int


BULK_ACTIONS = ("assign", "status", "tag", "close", "priority", "topic")


def bulk(inquiry_ids: Sequence[int], action: str, value: str | None, *, actor: User, now: datetime,
         assignee: User | None = None) -> BulkResult:
    """One action on a selection; each inquiry is changed (and audited) on its own."""
    require_role(actor, Role.OFFICER)
    if action not in BULK_ACTIONS:
        raise InvalidValue(_l("Choose an action from the list."))
    topic = _bulk_topic(value) if action == "topic" else None
    inquiries = db.session.scalars(select(Inquiry).where(Inquiry.id.in_(inquiry_ids))).all()
    changed = refused = 0
    for inquiry in inquiries:
        if not access.may_open(inquiry, actor, now):  # need-to-know: not for whoever may not read it
            refused += 1
            continue
        try:
            with db.session.begin_nested():
                if action == "assign":
                    assign(inquiry, assignee, actor=actor, now=now)
                elif action == "status":
                    set_status(inquiry, value or "", actor=actor, now=now)
                elif action == "close":
                    set_status(inquiry, Status.CLOSED, actor=actor, now=now)
                elif action == "priority":
                    set_priority(inquiry, value or "", actor=actor, now=now)
                elif action == "topic":
                    set_topic(inquiry, topic, actor=actor, now=now)
                else:
                    add_tags(inquiry, [value or ""], actor=actor, now=now)
            changed += 1
        except (TriageError, StaleDataError):  # refused, or changed by someone else meanwhile
            refused += 1
    return BulkResult(changed=changed, refused=refused)


def _bulk_topic(code: str | None) -> Topic:
    """The topic a bulk change sets: an active one, by its code."""
    topic = db.session.scalar(select(Topic).where(Topic.code == (code or ""), Topic.active.is_(True)))
    if topic is None:
        raise InvalidValue(_l("Choose a topic from the list."))
    return topic


def merge(duplicate: Inquiry, target: Inquiry, *, actor: User, now: datetime) -> list[int]:
    """Move the duplicate's thread into ``target`` and close it with a pointer. Leads only.

    Only for one stakeholder's duplicates: across two, the kept stakeholder's private link would
    show the other's messages (``DifferentStakeholders``; ``links.link`` relates them instead).
    Returns the ids of the moved messages (kept in the audit log, so that the
    merge can be undone for UNMERGE_DAYS days).
    """
    require_role(actor, Role.LEAD)
    if duplicate.id == target.id:
        raise InvalidValue(_l("An inquiry cannot be merged into itself."))
    if duplicate.merged_into_id is not None:
        raise InvalidValue(_l("This inquiry is already merged."))
    if target.merged_into_id is not None:
        raise InvalidValue(_l("That inquiry is itself merged; merge into the one it points to."))
    if duplicate.contact_id != target.contact_id:
        raise DifferentStakeholders()
    moved = [message.id for message in duplicate.messages]
    with recorder.change(duplicate, actor=actor, now=now) as duplicate_change, \
            recorder.change(target, actor=actor, now=now) as target_change:
        db.session.execute(
            update(Message).where(Message.inquiry_id == duplicate.id).values(inquiry_id=target.id)
            .execution_options(synchronize_session=False)
        )
        old_status = duplicate.status
        duplicate.status = Status.CLOSED.value
        duplicate.resolved_at = now
        duplicate.merged_into_id = target.id
        duplicate.merged_at = now
        db.session.expire(duplicate, ["messages"])
        db.session.expire(target, ["messages"])
        duplicate_change.event("merged_into", target=target.id, target_reference=target.reference, messages=moved,
                               status_before=old_status)
        target_change.event("merged_from", duplicate=duplicate.id, duplicate_reference=duplicate.reference,
                            messages=moved)
    return moved


def can_unmerge(duplicate: Inquiry, now: datetime) -> bool:
    return duplicate.merged_at is not None and now - duplicate.merged_at <= timedelta(days=UNMERGE_DAYS)


def unmerge(duplicate: Inquiry, *, actor: User, now: datetime) -> None:
    """Undo a merge within UNMERGE_DAYS days: the moved messages go back, the inquiry reopens."""
    require_role(actor, Role.LEAD)
    if duplicate.merged_into_id is None or not can_unmerge(duplicate, now):
        raise InvalidValue(_l("This merge can no longer be undone."))
    merges = [event for event in audit.events_for("inquiry", duplicate.id) if event.action == "inquiry.merged_into"]
    details = merges[-1].details
    target = db.session.get(Inquiry, duplicate.merged_into_id)
    with recorder.change(duplicate, actor=actor, now=now) as change:
        db.session.execute(
            update(Message).where(Message.id.in_(details.get("messages", [])))
            .values(inquiry_id=duplicate.id).execution_options(synchronize_session=False)
        )
        duplicate.merged_into_id = None
        duplicate.merged_at = None
        duplicate.status = details.get("status_before", Status.OPEN.value)
        duplicate.resolved_at = None
        db.session.expire(duplicate, ["messages"])
        change.event("unmerged", target=details.get("target"))
    if target is not None:
        with recorder.change(target, actor=actor, now=now) as target_change:
            db.session.expire(target, ["messages"])
            target_change.event("unmerged_from", duplicate=duplicate.id)
