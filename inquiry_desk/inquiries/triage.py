"""Triage: what staff do to an inquiry. Each action is one call that writes the audit log.

Every function takes the acting user and ``now``, changes the inquiry in the
caller's transaction, bumps its version (so a stale page can be told apart),
and records who did what in the audit log, which is the inquiry's history.
Roles: viewers read; officers triage and reply; leads also merge and
reassign an inquiry someone else holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from inquiry_desk.accounts.models import Role, User
from inquiry_desk.audit import services as audit
from inquiry_desk.core.domain import DomainError
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import search
from inquiry_desk.inquiries.models import (
    Inquiry,
    Message,
    MessageKind,
    Priority,
    Status,
    Tag,
    Topic,
)
from inquiry_desk.inquiries.targets import services as targets

MAX_TAGS = 20
MAX_TAG_LENGTH = 60
MAX_BODY = 20000
UNMERGE_DAYS = 7


class TriageError(DomainError):
    """An action that cannot be done; the message is shown to staff as is (translated by the view)."""

    code = "triage_error"


class NotAllowed(TriageError):
    code = "not_allowed"


class InvalidValue(TriageError):
    code = "invalid_value"


class VersionConflict(TriageError):
    """Someone changed the inquiry since the page was loaded (a reply, usually)."""

    code = "version_conflict"

    def __init__(self, changes: Sequence[str]) -> None:
        super().__init__(_l("Someone changed this inquiry after you opened it."))
        self.changes = list(changes)


def require_role(actor: User, role: Role) -> None:
    if not actor.has_role(role):
        raise NotAllowed(_l("Your role does not allow this."))


def touch(inquiry: Inquiry, now: datetime) -> None:
    inquiry.updated_at = now
    inquiry.version += 1


def record_event(inquiry: Inquiry, action: str, actor: User, now: datetime, **details: Any) -> None:
    audit.record(f"inquiry.{action}", actor_id=actor.id, subject_type="inquiry", subject_id=inquiry.id,
                 details=details, now=now)


def record_view(inquiry: Inquiry, *, actor: User, now: datetime) -> None:
    """Reading an inquiry is recorded too (QUALITY.md S8)."""
    record_event(inquiry, "viewed", actor, now)


def assign(inquiry: Inquiry, assignee: User | None, *, actor: User, now: datetime) -> None:
    """Give the inquiry to someone, or back to the queue (``assignee=None``).

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
    before = inquiry.assignee_id
    inquiry.assignee_id = assignee.id if assignee else None
    if inquiry.status == Status.NEW.value and assignee is not None:
        set_status(inquiry, Status.OPEN, actor=actor, now=now)
    touch(inquiry, now)
    record_event(inquiry, "assigned", actor, now, before=before, after=inquiry.assignee_id)


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
    inquiry.status = new.value
    if new in (Status.RESOLVED, Status.CLOSED):
        inquiry.resolved_at = inquiry.resolved_at or now
    else:
        inquiry.resolved_at = None
    targets.on_status_change(inquiry, old, now=now)
    touch(inquiry, now)
    record_event(inquiry, "status_changed", actor, now, before=old, after=new.value)


def set_priority(inquiry: Inquiry, priority: Priority | str, *, actor: User, now: datetime) -> None:
    require_role(actor, Role.OFFICER)
    try:
        new = Priority(priority)
    except ValueError as exc:
        raise InvalidValue(_l("Choose a priority from the list.")) from exc
    if inquiry.priority == new.value:
        return
    before = inquiry.priority
    inquiry.priority, inquiry.priority_rank = new.value, new.rank
    targets.apply_targets(inquiry, now=now)
    touch(inquiry, now)
    record_event(inquiry, "priority_changed", actor, now, before=before, after=new.value)


def set_topic(inquiry: Inquiry, topic: Topic | None, *, actor: User, now: datetime) -> None:
    require_role(actor, Role.OFFICER)
    if inquiry.topic_id == (topic.id if topic else None):
        return
    before = inquiry.topic.code if inquiry.topic else None
    inquiry.topic = topic
    db.session.flush()
    targets.apply_targets(inquiry, now=now)
    touch(inquiry, now)
    record_event(inquiry, "topic_changed", actor, now, before=before, after=topic.code if topic else None)


def normalise_tags(names: Iterable[str]) -> list[str]:
    """Lower case, single spaces, no duplicates, in the order given."""
    cleaned: list[str] = []
    for name in names:
        tag = " ".join(name.split()).lower()
        if not tag:
            continue
        if len(tag) > MAX_TAG_LENGTH:
            raise InvalidValue(_l("A tag has at most %(count)d characters.", count=MAX_TAG_LENGTH))
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
    inquiry.tags = _tags_named(wanted)
    touch(inquiry, now)
    record_event(inquiry, "tags_changed", actor, now, before=before, after=wanted)


def add_tags(inquiry: Inquiry, names: Iterable[str], *, actor: User, now: datetime) -> None:
    set_tags(inquiry, [tag.name for tag in inquiry.tags] + list(names), actor=actor, now=now)


def check_body(body: str) -> str:
    body = body.strip()
    if not body:
        raise InvalidValue(_l("The message is empty."))
    if len(body) > MAX_BODY:
        raise InvalidValue(_l("Use %(count)d characters or fewer.", count=MAX_BODY))
    return body


def add_note(inquiry: Inquiry, body: str, *, actor: User, now: datetime) -> Message:
    """An internal note: never sent, never shown in the portal."""
    require_role(actor, Role.OFFICER)
    message = Message(kind=MessageKind.NOTE.value, body=check_body(body), author_user_id=actor.id,
                      channel="manual", created_at=now)
    inquiry.messages.append(message)
    touch(inquiry, now)
    db.session.flush()
    search.index_inquiry(inquiry)
    record_event(inquiry, "note_added", actor, now, message_id=message.id)
    return message


def check_version(inquiry: Inquiry, seen_version: int | None) -> None:
    """Raise VersionConflict when the inquiry changed after the page showing ``seen_version``.

    Only changes a replying officer must see count: new messages and replies,
    a status change, a new assignee. The list of what changed comes from the
    audit log (every change is there).
    """
    if seen_version is None or seen_version >= inquiry.version:
        return
    raise VersionConflict(changes_since(inquiry, seen_version))


def changes_since(inquiry: Inquiry, seen_version: int) -> list[str]:
    events = audit.events_for("inquiry", inquiry.id)
    interesting = {"inquiry.replied", "inquiry.note_added", "inquiry.status_changed", "inquiry.assigned",
                   "inquiry.requester_replied", "inquiry.merged_into"}
    # Versions are bumped once per change, so the last (current - seen) changes are the new ones.
    count = inquiry.version - seen_version
    recent = [event for event in events if event.action != "inquiry.viewed"][-count:]
    return [event.action for event in recent if event.action in interesting] or ["inquiry.changed"]


@dataclass(frozen=True)
class BulkResult:
    changed: int
    refused: int


BULK_ACTIONS = ("assign", "status", "tag", "close")


def bulk(inquiry_ids: Sequence[int], action: str, value: str | None, *, actor: User, now: datetime,
         assignee: User | None = None) -> BulkResult:
    """One action on a selection; each inquiry is changed (and audited) on its own."""
    require_role(actor, Role.OFFICER)
    if action not in BULK_ACTIONS:
        raise InvalidValue(_l("Choose an action from the list."))
    inquiries = db.session.scalars(select(Inquiry).where(Inquiry.id.in_(inquiry_ids))).all()
    changed = refused = 0
    for inquiry in inquiries:
        try:
            with db.session.begin_nested():
                if action == "assign":
                    assign(inquiry, assignee, actor=actor, now=now)
                elif action == "status":
                    set_status(inquiry, value or "", actor=actor, now=now)
                elif action == "close":
                    set_status(inquiry, Status.CLOSED, actor=actor, now=now)
                else:
                    add_tags(inquiry, [value or ""], actor=actor, now=now)
            changed += 1
        except TriageError:
            refused += 1
    return BulkResult(changed=changed, refused=refused)


def merge(duplicate: Inquiry, target: Inquiry, *, actor: User, now: datetime) -> list[int]:
    """Move the duplicate's thread into ``target`` and close it with a pointer. Leads only.

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
    moved = [message.id for message in duplicate.messages]
    db.session.execute(
        update(Message).where(Message.inquiry_id == duplicate.id).values(inquiry_id=target.id)
        .execution_options(synchronize_session=False)
    )
    old_status = duplicate.status
    duplicate.status = Status.CLOSED.value
    duplicate.resolved_at = now
    duplicate.merged_into_id = target.id
    duplicate.merged_at = now
    targets.on_status_change(duplicate, old_status, now=now)
    touch(duplicate, now)
    touch(target, now)
    db.session.flush()
    db.session.expire(duplicate, ["messages"])
    db.session.expire(target, ["messages"])
    search.index_inquiry(duplicate)
    search.index_inquiry(target)
    record_event(duplicate, "merged_into", actor, now, target=target.id, target_reference=target.reference,
            messages=moved, status_before=old_status)
    record_event(target, "merged_from", actor, now, duplicate=duplicate.id, duplicate_reference=duplicate.reference,
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
    db.session.execute(
        update(Message).where(Message.id.in_(details.get("messages", [])))
        .values(inquiry_id=duplicate.id).execution_options(synchronize_session=False)
    )
    duplicate.merged_into_id = None
    duplicate.merged_at = None
    duplicate.status = details.get("status_before", Status.OPEN.value)
    duplicate.resolved_at = None
    targets.on_status_change(duplicate, Status.CLOSED.value, now=now)
    touch(duplicate, now)
    db.session.flush()
    db.session.expire(duplicate, ["messages"])
    search.index_inquiry(duplicate)
    if target is not None:
        touch(target, now)
        db.session.expire(target, ["messages"])
        search.index_inquiry(target)
        record_event(target, "unmerged_from", actor, now, duplicate=duplicate.id)
    record_event(duplicate, "unmerged", actor, now, target=details.get("target"))
