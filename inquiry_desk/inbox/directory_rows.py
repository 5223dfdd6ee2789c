"""What the directory's pages show per row, worked out in Python before the template runs.

As for the inbox lists (inbox/rows.py): a function or macro called from a template costs
several times the same call from Python, so labels, dates and durations are prepared here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from flask import url_for
from flask_babel import gettext as _

from inquiry_desk.core.templating import format_datetime
from inquiry_desk.directory.labels import (
    DIRECTORY_KIND_LABELS,
    PARTNERSHIP_STATUS_LABELS,
    directory_event_label,
    partnership_status_label,
)
from inquiry_desk.inquiries.access import Reader
from inquiry_desk.inquiries.labels import STATUS_LABELS
from inquiry_desk.inquiries.stakeholders.listing import InquiryRow, OrganisationRow
from inquiry_desk.inquiries.stakeholders.timeline import Entry
from inquiry_desk.mailing.labels import STATUS_LABELS as SUBSCRIPTION_STATUS_LABELS
from inquiry_desk.mailing.reports import SubscriptionRow


@dataclass(frozen=True, slots=True)
class ShownInquiry:
    url: str
    reference: str
    subject: str
    trusted: bool
    contact_url: str
    contact_name: str
    status: str
    received: str
    first_response: str
    resolution: str


class Durations:
    """Hours under two days, days beyond; the two formats translated once per page."""

    def __init__(self) -> None:
        self.hours = _("%(hours)s h", hours="{}")
        self.days = _("%(days)s days", days="{}")

    def __call__(self, delta: timedelta | None) -> str:
        if delta is None:
            return "—"
        hours = delta.total_seconds() / 3600
        return self.hours.format(f"{hours:.1f}") if hours < 48 else self.days.format(f"{hours / 24:.1f}")


def inquiry_rows(rows: Sequence[InquiryRow], durations: Durations, reader: Reader) -> list[ShownInquiry]:
    """The rows shown; a restricted inquiry the reader may not read shows no subject (need-to-know)."""
    restricted = _("(restricted)")
    statuses = {key: str(label) for key, label in STATUS_LABELS.items()}
    inquiry_url = url_for("inbox.show", inquiry_id=0).rsplit("/", 1)[0] + "/"
    contact_url = url_for("directory.contact", contact_id=0).rsplit("/", 1)[0] + "/"
    return [ShownInquiry(
        url=f"{inquiry_url}{row.id}", reference=row.reference or "",
        subject=row.subject if reader.may_read(row) else restricted, trusted=row.trusted_partner,
        contact_url=f"{contact_url}{row.contact_id}", contact_name=row.contact_name or "",
        status=statuses.get(row.status, row.status), received=format_datetime(row.received_at, "short"),
        first_response=durations(row.first_response), resolution=durations(row.resolution),
    ) for row in rows]


@dataclass(frozen=True, slots=True)
class ShownEntry:
    when: str
    text: str
    link_url: str | None = None
    link_text: str | None = None
    after: str | None = None


def timeline_rows(entries: Sequence[Entry], reader: Reader) -> list[ShownEntry]:
    """The timeline; an inquiry's subject is shown only when the reader may read that inquiry.

    Need-to-know is decided for each entry from its own access facts, whichever page of
    inquiries the page lists beside it.
    """
    received, reply = _("Inquiry received:"), _("Reply sent on")
    inquiry_url = url_for("inbox.show", inquiry_id=0).rsplit("/", 1)[0] + "/"
    none = _("none")
    shown = []
    for entry in entries:
        when = format_datetime(entry.at, "short")
        details = entry.details or {}
        if entry.kind in ("received", "reply"):
            shown.append(ShownEntry(when, received if entry.kind == "received" else reply,
                                    f"{inquiry_url}{entry.inquiry_id}", entry.reference or "",
                                    entry.subject if entry.kind == "received" and reader.may_read(entry)
                                    else None))
        elif entry.kind == "status":
            text = _("Partnership status: %(before)s → %(after)s",
                     before=partnership_status_label(details.get("before")) if details.get("before") else none,
                     after=partnership_status_label(details.get("after")))
            if details.get("reason"):
                text = f"{text} ({details['reason']})"
            shown.append(ShownEntry(when, text))
        elif entry.kind == "audit":
            text = directory_event_label(details.get("action"))
            if details.get("domain"):
                text = f"{text}: {details['domain']}"
            shown.append(ShownEntry(when, text))
        else:  # a registered source's entry (bulletins received): its text is translated by its source
            shown.append(ShownEntry(when, str(details.get("text", "")), details.get("url"), details.get("link_text"),
                                    entry.subject if entry.inquiry_id is None or reader.may_read(entry) else None))
    return shown


@dataclass(frozen=True, slots=True)
class ShownSubscription:
    list_name: str
    list_url: str | None  # the list's page, for leads (who manage lists)
    contact_name: str
    contact_url: str
    status: str
    language: str
    since: str


def subscription_rows(rows: Sequence[SubscriptionRow], lang: str, *, is_lead: bool) -> list[ShownSubscription]:
    statuses = {key: str(label) for key, label in SUBSCRIPTION_STATUS_LABELS.items()}
    contact_url = url_for("directory.contact", contact_id=0).rsplit("/", 1)[0] + "/"
    list_url = url_for("mailing_staff.show", list_id=0).rsplit("/", 1)[0] + "/" if is_lead else None
    archived = _("archived")
    return [ShownSubscription(
        list_name=(row.list_name_fr if lang == "fr" else row.list_name_en) + (f" ({archived})" if row.list_archived
                                                                               else ""),
        list_url=f"{list_url}{row.list_id}" if list_url else None,
        contact_name=row.contact_name, contact_url=f"{contact_url}{row.contact_id}",
        status=statuses.get(row.status, row.status), language="Français" if row.language == "fr" else "English",
        since=format_datetime(row.since, "short"),
    ) for row in rows]


@dataclass(frozen=True, slots=True)
class ShownOrganisation:
    url: str
    name: str
    short_name: str
    active: bool
    kind: str
    status: str
    trusted: bool
    tags: tuple[str, ...]
    open_inquiries: int


def organisation_rows(rows: Sequence[OrganisationRow], lang: str) -> list[ShownOrganisation]:
    kinds = {key: str(label) for key, label in DIRECTORY_KIND_LABELS.items()}
    statuses = {key: str(label) for key, label in PARTNERSHIP_STATUS_LABELS.items()}
    base = url_for("directory.organisation", organisation_id=0).rsplit("/", 1)[0] + "/"
    return [ShownOrganisation(
        url=f"{base}{row.organisation.id}", name=row.organisation.display_name(lang),
        short_name=row.organisation.short_name or "", active=row.organisation.active,
        kind=kinds.get(row.organisation.kind, row.organisation.kind),
        status=statuses.get(row.organisation.status, row.organisation.status),
        trusted=row.organisation.status == "trusted_referral_partner", tags=tuple(row.organisation.tags),
        open_inquiries=row.open_inquiries,
    ) for row in rows]
