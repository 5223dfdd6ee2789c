"""The audit log in words, in the page's language: each action, each kind of subject, the details.

``ACTION_LABELS`` holds every action code the application writes (``tests/inbox/test_audit_labels.py``
reads the code for them and fails on one without a label). An old code no longer written
still reads as words, never as a code.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from inquiry_desk.core.templating import format_datetime, format_day
from inquiry_desk.inquiries import access, attachments, audit_trail
from inquiry_desk.inquiries.audit_trail import Entry
from inquiry_desk.inquiries.labels import PRIORITY_LABELS, STATUS_LABELS

# The groups of the action filter, in the order the menu shows them.
GROUPS: dict[str, str] = {
    "readings": _l("Openings, searches and exports"),
    "sign_in": _l("Sign-in"),
    "users": _l("Staff accounts"),
    "inquiries": _l("Inquiries"),
    "directory": _l("Directory"),
    "mailing": _l("Mailing lists"),
    "settings": _l("Settings"),
    "bulletins": _l("Bulletins"),
}

ACTION_LABELS: dict[str, tuple[str, str]] = {
    # What someone read or took away: "who saw this".
    access.VIEWED: ("readings", _l("Opened an inquiry")),
    access.JUSTIFIED: ("readings", _l("Gave a reason to open a restricted inquiry")),
    access.FOUND: ("readings", _l("Found a restricted inquiry by a search of its content")),
    access.EXPORTED: ("readings", _l("Exported a restricted inquiry’s content")),
    "inquiry.exported": ("readings", _l("Exported the inquiry list")),
    attachments.DOWNLOADED: ("readings", _l("Downloaded a file of an inquiry")),
    attachments.DOWNLOADED_BY_STAKEHOLDER: ("readings", _l("The stakeholder downloaded a file through their link")),
    "inquiry.viewed_by_stakeholder": ("readings", _l("The stakeholder opened their private link")),
    "inquiry.viewed_by_requester": ("readings", _l("The stakeholder opened their private link")),
    "directory.exported": ("readings", _l("Exported the directory")),
    "contact.data_exported": ("readings", _l("Exported a person’s data")),
    "mailing_list.exported": ("readings", _l("Exported a mailing list")),
    audit_trail.EXPORTED: ("readings", _l("Exported the audit log")),
    # Signing in and out.
    "login.succeeded": ("sign_in", _l("Signed in")),
    "login.failed_password": ("sign_in", _l("Sign-in refused: wrong password")),
    "login.failed_second_factor": ("sign_in", _l("Sign-in refused: wrong second-factor code")),
    "login.recovery_code_used": ("sign_in", _l("Signed in with a recovery code")),
    "logout": ("sign_in", _l("Signed out")),
    "user.locked": ("sign_in", _l("Account locked after too many failed sign-ins")),
    # Staff accounts.
    "user.created": ("users", _l("Staff account created")),
    "user.updated": ("users", _l("Staff account changed")),
    "user.password_changed": ("users", _l("Password changed")),
    "user.second_factor_enrolled": ("users", _l("Second factor set up")),
    "user.second_factor_reset": ("users", _l("Second factor reset")),
    "user.recovery_codes_replaced": ("users", _l("New recovery codes made")),
    "user.recovery_codes_refused": ("users", _l("New recovery codes refused: wrong password")),
    "user.digest_preference": ("users", _l("Daily digest preference changed")),
    "user.notification_preference": ("users", _l("Email notification preference changed")),
    # Inquiries: the changes recorded in their history.
    "inquiry.received": ("inquiries", _l("Inquiry received")),
    attachments.REFUSED: ("inquiries", _l("A file sent by email was not kept")),
    attachments.REPLY_NOT_SENT: ("inquiries", _l("A reply was not sent: a file attached to it had been erased")),
    "inquiry.imported": ("inquiries", _l("Inquiry imported with its earlier history")),
    "inquiry.assigned": ("inquiries", _l("Inquiry assigned")),
    "inquiry.status_changed": ("inquiries", _l("Status changed")),
    "inquiry.priority_changed": ("inquiries", _l("Priority changed")),
    "inquiry.topic_changed": ("inquiries", _l("Topic changed")),
    "inquiry.tags_changed": ("inquiries", _l("Tags changed")),
    "inquiry.note_added": ("inquiries", _l("Internal note added")),
    "inquiry.replied": ("inquiries", _l("Reply sent")),
    "inquiry.stakeholder_replied": ("inquiries", _l("The stakeholder answered")),
    "inquiry.requester_replied": ("inquiries", _l("The stakeholder answered")),
    "inquiry.reopened_by_reply": ("inquiries", _l("Reopened by the stakeholder’s reply")),
    "inquiry.auto_closed": ("inquiries", _l("Closed automatically after a quiet time")),
    "inquiry.portal_links_revoked": ("inquiries", _l("Private links withdrawn")),
    "inquiry.merged_into": ("inquiries", _l("Merged into another inquiry")),
    "inquiry.merged_from": ("inquiries", _l("A duplicate was merged into this inquiry")),
    "inquiry.unmerged": ("inquiries", _l("Merge undone")),
    "inquiry.unmerged_from": ("inquiries", _l("A merged duplicate was taken out again")),
    "inquiry.linked": ("inquiries", _l("Linked to another inquiry")),
    "inquiry.unlinked": ("inquiries", _l("Link to another inquiry removed")),
    "inquiry.hold_placed": ("inquiries", _l("Put on hold")),
    "inquiry.hold_lifted": ("inquiries", _l("Hold lifted")),
    "inquiry.purged": ("inquiries", _l("Personal data purged")),
    "inquiry.erased": ("inquiries", _l("Personal data erased on request")),
    "inquiry.contact_merged": ("inquiries", _l("Its stakeholder was merged with another contact")),
    "inquiry.organisation_linked": ("inquiries", _l("Linked to an organisation")),
    "inquiry.organisation_unlinked": ("inquiries", _l("Organisation link removed")),
    "inquiry.organisation_merged": ("inquiries", _l("Its organisation was merged with another")),
    "inquiry.partner_confirmed": ("inquiries", _l("Trusted partner: the stakeholder confirmed their address")),
    "inquiry.trusted_badge_given": ("inquiries", _l("Trusted partner badge given")),
    "inquiry.trusted_badge_removed": ("inquiries", _l("Trusted partner badge removed")),
    "inquiry.restricted": ("inquiries", _l("Inquiry restricted")),
    "inquiry.restriction_lifted": ("inquiries", _l("Restriction lifted")),
    "inquiry.staff_named": ("inquiries", _l("Staff member named on a restricted inquiry")),
    "inquiry.staff_unnamed": ("inquiries", _l("Staff member no longer named")),
    "inquiry.message_redacted": ("inquiries", _l("A message was redacted")),
    "inquiry.subject_redacted": ("inquiries", _l("The subject was redacted")),
    "inquiry.field_redacted": ("inquiries", _l("A field was redacted")),
    "inquiry.person_added": ("inquiries", _l("Person concerned added")),
    "inquiry.person_removed": ("inquiries", _l("Person concerned removed")),
    "inquiry.consent_recorded": ("inquiries", _l("Consent to disclose recorded")),
    "inquiry.disclosure_acknowledged": ("inquiries", _l("Reply sent without consent on file, acknowledged")),
    # The directory.
    "directory.imported": ("directory", _l("Directory imported")),
    "organisation.created": ("directory", _l("Organisation created")),
    "organisation.updated": ("directory", _l("Organisation changed")),
    "organisation.status_changed": ("directory", _l("Organisation’s status changed")),
    "organisation.domain_added": ("directory", _l("Verified domain added")),
    "organisation.domain_removed": ("directory", _l("Verified domain removed")),
    "organisation.deactivated": ("directory", _l("Organisation deactivated")),
    "organisation.reactivated": ("directory", _l("Organisation reactivated")),
    "organisation.merged_into": ("directory", _l("Organisation merged into another")),
    "organisation.merged_from": ("directory", _l("A duplicate organisation was merged into this one")),
    "contact.created": ("directory", _l("Contact created")),
    "contact.updated": ("directory", _l("Contact changed")),
    "contact.deactivated": ("directory", _l("Contact deactivated")),
    "contact.reactivated": ("directory", _l("Contact reactivated")),
    "contact.merged_into": ("directory", _l("Contact merged into another")),
    "contact.merged_from": ("directory", _l("A duplicate contact was merged into this one")),
    "contact.erased": ("directory", _l("A person’s data erased")),
    # Mailing lists.
    "mailing_list.saved": ("mailing", _l("Mailing list saved")),
    "mailing_list.archived": ("mailing", _l("Mailing list archived")),
    "mailing_list.restored": ("mailing", _l("Mailing list restored")),
    "mailing_list.imported": ("mailing", _l("Subscribers imported")),
    "suppression.added": ("mailing", _l("Address suppressed")),
    "suppression.lifted": ("mailing", _l("Suppression lifted")),
    # Settings.
    "targets.update": ("settings", _l("Service targets changed")),
    "targets.add": ("settings", _l("Topic target added")),
    "targets.remove": ("settings", _l("Topic target removed")),
    "calendar.update": ("settings", _l("Business hours changed")),
    "closure.add": ("settings", _l("Closure day added")),
    "closure.remove": ("settings", _l("Closure day removed")),
    "topic.added": ("settings", _l("Topic added")),
    "topic.renamed": ("settings", _l("Topic renamed")),
    "topic.restricted": ("settings", _l("Topic restricted")),
    "topic.restriction_lifted": ("settings", _l("Topic no longer restricted")),
    "canned_response.created": ("settings", _l("Canned response created")),
    "canned_response.updated": ("settings", _l("Canned response changed")),
    "canned_response.deactivated": ("settings", _l("Canned response deactivated")),
    "job.run_by_hand": ("settings", _l("Scheduled job run by hand")),
    "rate_limit.network_added": ("settings", _l("Partner network spared by the form’s rate limit")),
    "rate_limit.network_removed": ("settings", _l("Partner network no longer spared by the form’s rate limit")),
    # Staff accounts, by invitation.
    "user.invited": ("users", _l("Staff member invited")),
    "user.invitation_accepted": ("users", _l("Invitation accepted")),
    # Inquiries logged by staff or answered automatically.
    "inquiry.logged_by_staff": ("inquiries", _l("Inquiry logged by staff")),
    "inquiry.auto_reply_noted": ("inquiries", _l("Automatic reply noted on the inquiry")),
    # Bulletins.
    "bulletin.created": ("bulletins", _l("Bulletin created")),
    "bulletin.edited": ("bulletins", _l("Bulletin edited")),
    "bulletin.edited_back_to_draft": ("bulletins", _l("Bulletin edited after submission: back to draft")),
    "bulletin.submitted": ("bulletins", _l("Bulletin submitted for approval")),
    "bulletin.approved": ("bulletins", _l("Bulletin approved")),
    "bulletin.returned": ("bulletins", _l("Bulletin returned to draft with comments")),
    "bulletin.single_language": ("bulletins", _l("Bulletin marked single-language")),
    "bulletin.scheduled": ("bulletins", _l("Bulletin scheduled")),
    "bulletin.unscheduled": ("bulletins", _l("Bulletin’s schedule removed")),
    "bulletin.cancelled": ("bulletins", _l("Bulletin cancelled")),
    "bulletin.sending": ("bulletins", _l("Bulletin’s sending started")),
    "bulletin.sent": ("bulletins", _l("Bulletin sent")),
    "bulletin.test_sent": ("bulletins", _l("Bulletin test sent")),
    # Bulletin series.
    "bulletin_series.created": ("bulletins", _l("Bulletin series started")),
    "bulletin_series.edited": ("bulletins", _l("Bulletin series edited")),
    "bulletin_series.paused": ("bulletins", _l("Bulletin series paused")),
    "bulletin_series.resumed": ("bulletins", _l("Bulletin series resumed")),
    "bulletin_series.ended": ("bulletins", _l("Bulletin series ended")),
    "bulletin_series.skipped": ("bulletins", _l("Edition of a series skipped")),
    "bulletin_series.edition_created": ("bulletins", _l("Edition of a series made as a draft")),
    "bulletin_series.edition_held": ("bulletins", _l("Edition of a series held: not sent")),
    "bulletin_series.sent_late": ("bulletins", _l("Held edition of a series sent late")),
}

SUBJECT_LABELS: dict[str, str] = {
    "inquiry": _l("Inquiry"),
    "user": _l("Staff member"),
    "organisation": _l("Organisation"),
    "contact": _l("Contact"),
    "mailing_list": _l("Mailing list"),
    "suppression": _l("Suppressed address"),
    "topic": _l("Topic"),
    "canned_response": _l("Canned response"),
    "service_target": _l("Service target"),
    "service_targets": _l("Service targets"),
    "team_calendar": _l("Business hours"),
    "closure": _l("Closure day"),
    "job": _l("Scheduled job"),
    "audit_log": _l("The audit log"),
    "organisations_export": _l("Organisations (export)"),
    "contacts_export": _l("Contacts (export)"),
    "organisations_import": _l("Organisations (import)"),
    "contacts_import": _l("Contacts (import)"),
    "bulletin": _l("Bulletin"),
    "bulletin_series": _l("Bulletin series"),
    "exempt_network": _l("Partner network"),
}

# Where a subject's page is: (endpoint, the name of its id in the URL, or None).
SUBJECT_PAGES: dict[str, tuple[str, str | None]] = {
    "inquiry": ("inbox.show", "inquiry_id"),
    "user": ("admin.edit_user", "user_id"),
    "organisation": ("directory.organisation", "organisation_id"),
    "contact": ("directory.contact", "contact_id"),
    "mailing_list": ("mailing_staff.members", "list_id"),
    "canned_response": ("canned.edit", "canned_id"),
    "topic": ("inbox.topics", None),
    "job": ("jobs.index", None),
    "service_target": ("targets.index", None),
    "service_targets": ("targets.index", None),
    "team_calendar": ("targets.index", None),
    "closure": ("targets.index", None),
    "bulletin_series": ("bulletins_staff.series.show", "series_id"),
}

DETAIL_LABELS: dict[str, str] = {
    "reason": _l("Reason"),
    "user_id": _l("Staff member"),
    "fields": _l("Fields"),
    "field": _l("Field"),
    "filters": _l("Filters"),
    "queue": _l("Queue"),
    "sort": _l("Sort"),
    "role": _l("Role"),
    "domain": _l("Domain"),
    "job": _l("Job"),
    "max_rows": _l("At most"),
}
# Facts about the change that say nothing to a reader.
_SKIPPED_DETAILS = frozenset({"version"})
_VALUE_LABELS = {**STATUS_LABELS, **PRIORITY_LABELS}


def action_label(code: str) -> str:
    """The action in words ("inquiry.some_thing" reads "inquiry: some thing" when it has no label)."""
    known = ACTION_LABELS.get(code)
    if known is not None:
        return str(known[1])
    return code.replace(".", ": ").replace("_", " ")


def action_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The action filter's options: per group, the whole group first, then each action by its label."""
    choices = []
    for group, group_label in GROUPS.items():
        actions = sorted({str(label): code for code, (in_group, label) in ACTION_LABELS.items()
                          if in_group == group}.items())
        choices.append((str(group_label), [(f"group:{group}", _("All: %(group)s", group=group_label)),
                                           *((code, label) for label, code in actions)]))
    return choices


def actions_for(value: str) -> tuple[str, ...] | None:
    """The codes one option of the action filter stands for; None for an option that does not exist."""
    if value.startswith("group:"):
        group = value.removeprefix("group:")
        if group not in GROUPS:
            return None
        return tuple(sorted(code for code, (in_group, _label) in ACTION_LABELS.items() if in_group == group))
    return (value,) if value in ACTION_LABELS else None


def subject_text(entry: Entry) -> str:
    """"Inquiry INQ-2026-000123", "Staff member Ana Lima", "the inquiry list"…"""
    if entry.subject_type is None:
        return ""
    if entry.subject_type == "inquiry" and entry.subject_id is None:
        return _("The inquiry list")
    kind = str(SUBJECT_LABELS.get(entry.subject_type, entry.subject_type.replace("_", " ")))
    if entry.subject_name:
        return _("%(kind)s %(name)s", kind=kind, name=entry.subject_name)
    if entry.subject_id is not None:
        return _("%(kind)s no. %(id)s", kind=kind, id=entry.subject_id)
    return kind


def subject_url(entry: Entry) -> str | None:
    page = SUBJECT_PAGES.get(entry.subject_type or "")
    if page is None:
        return None
    endpoint, key = page
    if key is None:
        return url_for(endpoint)
    if entry.subject_id is None or (entry.subject_type != "mailing_list" and entry.subject_name is None):
        return None  # gone (a purged or deleted subject): nothing to link to
    values: dict[str, Any] = {key: entry.subject_id}
    return url_for(endpoint, **values)


def details_text(entry: Entry, user_names: dict[int, str]) -> str:
    """The entry's details in words; for a restricted inquiry the reader may not read, only that."""
    if entry.hidden:
        return _("Details withheld: a restricted inquiry you may not read.")
    details = entry.details
    parts = []
    if "before" in details and "after" in details:
        parts.append(_("%(before)s → %(after)s", before=_value(details["before"]), after=_value(details["after"])))
    for key, value in details.items():
        if key in ("before", "after") or key in _SKIPPED_DETAILS:
            continue
        if key == "user_id" and isinstance(value, int):
            value = user_names.get(value, value)
        label = str(DETAIL_LABELS.get(key, key.replace("_", " ")))
        parts.append(_("%(what)s: %(value)s", what=label, value=_value(value)))
    return "; ".join(parts)


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?")


def _moment(value: str) -> str | None:
    """A day or a time recorded as ISO text, in the one date format of the desk (issue 10); None if it is not one."""
    try:
        if _ISO_DAY.fullmatch(value):
            return format_day(date.fromisoformat(value))
        if _ISO_MOMENT.fullmatch(value):
            moment = datetime.fromisoformat(value)
            return format_datetime(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    except ValueError:
        return None
    return None


def _value(value: Any) -> str:
    if isinstance(value, str) and (moment := _moment(value)) is not None:
        return moment
    if value is None or value == [] or value == {}:
        return "—"
    if isinstance(value, dict):
        return ", ".join(f"{key}={_value(item)}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(_value(item) for item in value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(_VALUE_LABELS.get(value, value)) if isinstance(value, str) else str(value)
