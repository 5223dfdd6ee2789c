"""Names the inbox shows for queues, sorts and filter options, in the page's language."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import event as orm_event
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from inquiry_desk.accounts import services as accounts
from inquiry_desk.accounts.models import User
from inquiry_desk.core.i18n import current_language
from inquiry_desk.directory import services as directory
from inquiry_desk.directory.labels import ORGANISATION_KIND_LABELS
from inquiry_desk.directory.models import Organisation
from inquiry_desk.inquiries import redaction
from inquiry_desk.inquiries import services as inquiries
from inquiry_desk.inquiries.labels import CHANNEL_LABELS, PRIORITY_LABELS, STATUS_LABELS
from inquiry_desk.inquiries.models import Channel, Priority, Status, Topic

QUEUE_LABELS = {
    "new": _l("New"),
    "mine": _l("Mine"),
    "unassigned": _l("Unassigned"),
    "due_soon": _l("Due soon"),
    "overdue": _l("Overdue"),
    "waiting": _l("Waiting on stakeholder"),
    "resolved": _l("Resolved"),
    "all": _l("All"),
}
SORT_LABELS = {
    "received": _l("Newest first"),
    "due": _l("Due soonest"),
    "updated": _l("Recently updated"),
    "priority": _l("Highest priority"),
}


CHOICES_SECONDS = 60
_CACHE_KEY = "inbox_filter_choices"  # in app.extensions: {language: (monotonic time, choices)}
_CHANGED = "inbox_filter_choices_changed"  # in Session.info: this transaction changed what the options show
# What the options show: a change to one of these (or a row added or deleted) forgets them at the commit.
_SHOWN: dict[type, frozenset[str]] = {
    Topic: frozenset({"code", "name_en", "name_fr", "position", "active"}),
    User: frozenset({"name", "role", "active"}),
    Organisation: frozenset({"name", "status", "active"}),
}


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    """Options of each filter select, per language, kept a minute (topics and staff rarely change).

    Kept per application (``app.extensions``), and forgotten when this process commits a change
    to a topic, a staff member or an organisation that the options show (a rename, a deactivation):
    the process that made the change shows it at once; another process within ``CHOICES_SECONDS``.
    """
    lang = current_language()
    cache: dict[str, tuple[float, dict[str, list[tuple[str, str]]]]] = current_app.extensions.setdefault(
        _CACHE_KEY, {})
    cached = cache.get(lang)
    if cached and time.monotonic() - cached[0] < CHOICES_SECONDS:
        return cached[1]
    choices = _build_filter_choices(lang)
    cache[lang] = (time.monotonic(), choices)
    return choices


def forget_filter_choices() -> None:
    if has_app_context():
        current_app.extensions.pop(_CACHE_KEY, None)


def _shown_change(instance: object, new_or_deleted: bool) -> bool:
    watched = _SHOWN.get(type(instance))
    if watched is None:
        return False
    if new_or_deleted:
        return True
    state = inspect(instance)
    return any(state.attrs[name].history.has_changes() for name in watched)


@orm_event.listens_for(Session, "after_flush")
def _note_label_changes(session: Session, flush_context: Any) -> None:
    if any(_shown_change(item, True) for item in chain(session.new, session.deleted)) or \
            any(_shown_change(item, False) for item in session.dirty):
        session.info[_CHANGED] = True


@orm_event.listens_for(Session, "after_commit")
def _forget_after_label_changes(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        forget_filter_choices()


@orm_event.listens_for(Session, "after_soft_rollback")
def _keep_after_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_CHANGED, None)


def _build_filter_choices(lang: str) -> dict[str, list[tuple[str, str]]]:
    """Options of each filter select; the first option of each means "any"."""
    anything = ("", _("Any"))
    return {
        "status": [anything, *((s.value, str(STATUS_LABELS[s.value])) for s in Status)],
        "priority": [anything, *((p.value, str(PRIORITY_LABELS[p.value])) for p in Priority)],
        "topic": [anything, *((t.code, t.name(lang)) for t in inquiries.active_topics())],
        "assignee": [anything, ("none", _("Nobody")),
                     *((str(u.id), u.name) for u in accounts.assignable_users())],
        "organisation": [anything, *((str(o.id), o.name) for o in directory.trusted_organisations())],
        "organisation_kind": [anything, *((k, str(v)) for k, v in ORGANISATION_KIND_LABELS.items())],
        "trusted": [anything, ("yes", _("Trusted partners only")), ("no", _("Not trusted partners"))],
        "language": [anything, ("en", "English"), ("fr", "Français")],
        "channel": [anything, *((c.value, str(CHANNEL_LABELS[c.value])) for c in Channel)],
    }


HISTORY_LABELS = {
    "inquiry.assigned": _l("assigned"),
    "inquiry.status_changed": _l("status changed"),
    "inquiry.priority_changed": _l("priority changed"),
    "inquiry.topic_changed": _l("topic changed"),
    "inquiry.tags_changed": _l("tags changed"),
    "inquiry.note_added": _l("internal note added"),
    "inquiry.replied": _l("reply sent"),
    "inquiry.portal_links_revoked": _l("private links withdrawn"),
    "inquiry.merged_into": _l("merged into another inquiry"),
    "inquiry.merged_from": _l("a duplicate was merged into this inquiry"),
    "inquiry.unmerged": _l("merge undone"),
    "inquiry.unmerged_from": _l("a merged duplicate was taken out again"),
    "inquiry.requester_replied": _l("the stakeholder answered"),
    "inquiry.stakeholder_replied": _l("the stakeholder answered"),
    "inquiry.received": _l("inquiry received"),
    "inquiry.logged_by_staff": _l("logged by staff"),
    "inquiry.viewed_by_stakeholder": _l("the stakeholder opened their private link"),
    "inquiry.viewed_by_requester": _l("the stakeholder opened their private link"),  # the name before issue 8
    "inquiry.exported": _l("included in an export"),
    "inquiry.imported": _l("imported with its earlier history"),
    "inquiry.purged": _l("personal data purged"),
    "inquiry.restricted": _l("restricted"),
    "inquiry.restriction_lifted": _l("restriction lifted"),
    "inquiry.staff_named": _l("staff member named"),
    "inquiry.staff_unnamed": _l("staff member no longer named"),
    "inquiry.access_justified": _l("opened by a lead, with a reason"),
    "inquiry.message_redacted": _l("a message was redacted"),
    "inquiry.subject_redacted": _l("the subject was redacted"),
    "inquiry.field_redacted": _l("a field was redacted"),
    "inquiry.trusted_badge_given": _l("trusted partner badge given"),
    "inquiry.trusted_badge_removed": _l("trusted partner badge removed"),
    "inquiry.person_added": _l("person concerned added"),
    "inquiry.person_removed": _l("person concerned removed"),
    "inquiry.consent_recorded": _l("consent to disclose recorded"),
    "inquiry.disclosure_acknowledged": _l("reply sent without consent on file, acknowledged"),
    "inquiry.linked": _l("linked to another inquiry"),
    "inquiry.unlinked": _l("link to another inquiry removed"),
    "inquiry.reopened_by_reply": _l("reopened by the stakeholder's reply"),
    "inquiry.auto_reply_noted": _l("an automatic reply (out of office) came by email, kept as a note"),
    "inquiry.partner_confirmed": _l("trusted partner: the stakeholder confirmed their address"),
    "inquiry.hold_placed": _l("put on hold"),
    "inquiry.hold_lifted": _l("hold lifted"),
    "inquiry.auto_closed": _l("closed automatically after a quiet time"),
    "inquiry.attachment_refused": _l("a file sent by email was not kept (see the conversation)"),
    "inquiry.attachment_downloaded_by_stakeholder": _l("the stakeholder downloaded a file"),
    "inquiry.reply_not_sent_file_erased": _l("a reply was not sent: a file attached to it was erased before it "
                                             "left (see the conversation)"),
}
_VALUE_LABELS = {**STATUS_LABELS, **PRIORITY_LABELS}


# Repeated one after the other, these make one line of the history ("… (4 times)").
FOLDED = frozenset({"inquiry.viewed_by_stakeholder", "inquiry.viewed_by_requester"})


@dataclass
class HistoryLine:
    """One line of an inquiry's history: an audit event, or several alike folded into one."""

    at: datetime
    actor_id: int | None
    action: str
    details: dict[str, Any]
    count: int = 1


def fold_history(events: Iterable[Any]) -> list[HistoryLine]:
    """The events in order, with each run of portal views folded into its last one, counted."""
    lines: list[HistoryLine] = []
    for event in events:
        if event.action in FOLDED and lines and lines[-1].action in FOLDED:
            lines[-1].count += 1
            lines[-1].at = event.at
            continue
        lines.append(HistoryLine(event.at, event.actor_id, event.action, dict(event.details or {})))
    return lines


def history_label(event: Any) -> str:
    """"status changed: New → Open" from an audit event of an inquiry, in the page's language.

    An action without a label reads as words ("inquiry.some_thing" → "some thing"), never as a code.
    """
    label = str(HISTORY_LABELS.get(event.action) or event.action.removeprefix("inquiry.").replace("_", " "))
    count = getattr(event, "count", 1)
    if count > 1:
        label = ngettext("%(what)s (%(num)d time)", "%(what)s (%(num)d times)", count, what=label)
    details = event.details or {}
    if "before" in details and "after" in details:
        kind = event.action.removeprefix("inquiry.").removesuffix("_changed")
        return _("%(what)s: %(before)s → %(after)s", what=label, before=_value(kind, details["before"]),
                 after=_value(kind, details["after"]))
    if event.action == "inquiry.field_redacted" and details.get("field") in redaction.FIELDS:
        label = _("%(what)s (%(field)s)", what=label, field=redaction.FIELDS[details["field"]][2])
    if event.action == "inquiry.hold_placed" and details.get("reason"):
        return _("%(what)s: %(reason)s", what=label, reason=details["reason"])
    for key in ("target_reference", "duplicate_reference", "other_reference"):
        if key in details:
            return _("%(what)s: %(reference)s", what=label, reference=details[key])
    if "user_id" in details:
        return _("%(what)s: %(reference)s", what=label, reference=_value("assigned", details["user_id"]))
    if "reason" in details:
        return _("%(what)s: %(reference)s", what=label, reference=details["reason"])
    return label


def _value(kind: str, value: Any) -> str:
    if value is None or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if kind == "assigned":
        user = accounts.get_user(int(value))
        return user.name if user else str(value)
    if kind == "topic":
        topic = inquiries.topic_by_code(str(value))
        return topic.name(current_language()) if topic else str(value)
    return str(_VALUE_LABELS.get(value, value))
