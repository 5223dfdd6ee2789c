"""What each row of an inbox list shows, worked out in Python before the template runs.

A list page is mostly its 50 rows; a function call from a template costs
several times the same call from Python, so the labels, dates and due texts of
each row are prepared here and the template only writes them out (QUALITY.md P1).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _

from inquiry_desk.accounts import services as accounts
from inquiry_desk.core.templating import datetime_formatter, machine_datetime
from inquiry_desk.inquiries import notifications, targets
from inquiry_desk.inquiries.labels import PRIORITY_LABELS, STATUS_LABELS
from inquiry_desk.inquiries.queues import Summary


@dataclass(frozen=True, slots=True)
class Row:
    id: int
    reference: str
    subject: str
    language: str
    tags: tuple[str, ...]
    stakeholder: str
    trusted_badge: str
    status: str
    priority: str
    priority_text: str
    due_state: str
    due_text: str
    received_iso: str
    received_text: str
    assignee: str
    restricted: bool  # need-to-know (inquiries/access.py)
    hidden: bool  # restricted and not readable by whoever reads the list: no content
    new_reply: bool = False


def list_rows(inquiries: Sequence[Summary], now: datetime, topics: Collection[int] = ()) -> list[Row]:
    """The rows of a list; ``topics`` are the restricted topics (a row on one of them is restricted)."""
    statuses = {key: str(label) for key, label in STATUS_LABELS.items()}  # translated once, not per row
    priorities = {key: str(label) for key, label in PRIORITY_LABELS.items()}
    names = accounts.names_by_id(inquiry.assignee_id for inquiry in inquiries if inquiry.assignee_id)
    nobody = _("Nobody")
    nobody_given = _("No stakeholder")  # logged by staff without one
    new_replies = notifications.unseen_replies(inquiry.id for inquiry in inquiries)  # one query for the page
    # The language, zone and texts looked up once for the page, not once per row (issue 19).
    describe_due, format_datetime = targets.due_describer(now), datetime_formatter()
    trusted, unconfirmed = _("Trusted partner: %(name)s"), _("Partner domain (%(name)s), address not yet confirmed")
    rows = []
    for inquiry in inquiries:
        stakeholder = inquiry.contact_name or nobody_given
        if inquiry.organisation_name:
            stakeholder = f"{stakeholder}, {inquiry.organisation_name}"
        badge = ""
        if inquiry.trusted_partner and inquiry.trusted_name:
            badge = trusted % {"name": inquiry.trusted_name}
        elif inquiry.trusted_name:
            badge = unconfirmed % {"name": inquiry.trusted_name}
        state, text = describe_due(inquiry.due_at) if inquiry.due_at else ("", "")
        rows.append(Row(
            id=inquiry.id, reference=inquiry.reference or "", subject=inquiry.subject, language=inquiry.language,
            tags=inquiry.tags, stakeholder=stakeholder, trusted_badge=badge,
            status=statuses.get(inquiry.status, inquiry.status), priority=inquiry.priority,
            priority_text=priorities.get(inquiry.priority, inquiry.priority), due_state=state, due_text=text,
            received_iso=machine_datetime(inquiry.received_at),
            received_text=format_datetime(inquiry.received_at),
            assignee=names.get(inquiry.assignee_id, nobody) if inquiry.assignee_id else nobody,
            new_reply=inquiry.id in new_replies,
            restricted=inquiry.restricted or inquiry.hidden or inquiry.topic_id in topics, hidden=inquiry.hidden,
        ))
    return rows
