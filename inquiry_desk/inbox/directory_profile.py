"""What an organisation's page and a contact's page show alike, assembled in one place.

Their inquiries (open and past, each keyset-paged on its own cursor), the figures, the
timeline, and the mailing-list subscriptions (of the contact, or of the organisation's
contacts). Need-to-know is decided per row for the lists and per entry for the timeline,
with one ``access.Reader``. The first pages of open and past inquiries are read in one query
and handed to the timeline, which reads the rest of its sources in one more.
"""

from __future__ import annotations

from typing import Any

from flask import abort, request, url_for
from flask_login import current_user

from inquiry_desk.accounts.models import Role
from inquiry_desk.core.i18n import current_language
from inquiry_desk.directory.models import OrganisationStatusChange
from inquiry_desk.inbox.directory_rows import Durations, inquiry_rows, subscription_rows, timeline_rows
from inquiry_desk.inquiries import access
from inquiry_desk.inquiries.stakeholders import listing, timeline
from inquiry_desk.mailing import reports as mailing_reports


def sections(endpoint: str, *, organisation_id: int | None = None, contact_id: int | None = None,
             status_changes: list[OrganisationStatusChange] | None = None) -> dict[str, Any]:
    """The template values both pages share: ``open_rows``, ``past_rows``, ``pages`` (next-page URLs),
    ``figures``, ``timeline``, ``subscriptions`` and ``more_subscriptions``. A malformed cursor is a 400."""
    try:
        before_open = listing.decode_time_cursor(request.args.get("open_cursor"))
        before_past = listing.decode_time_cursor(request.args.get("past_cursor"))
    except listing.BadCursor:
        abort(400)
    whose = {"organisation_id": organisation_id} if organisation_id is not None else {"contact_id": contact_id}
    paged = before_open is not None or before_past is not None
    if not paged:
        open_page, past_page = listing.first_pages(**whose)
    else:
        open_page = listing.inquiries_of(**whose, open_=True, before=before_open)
        past_page = listing.inquiries_of(**whose, open_=False, before=before_past)
    pages = {
        "open": url_for(endpoint, **whose, open_cursor=listing.encode_cursor(open_page.next_after))
        if open_page.next_after else None,
        "past": url_for(endpoint, **whose, past_cursor=listing.encode_cursor(past_page.next_after))
        if past_page.next_after else None,
    }
    reader = access.Reader(current_user)
    durations = Durations()
    # The first pages of open and past inquiries hold the newest ``LIMIT`` inquiries when each is that long.
    handed = not paged and listing.INQUIRIES_PAGE >= timeline.LIMIT
    entries = timeline.timeline(**whose, status_changes=status_changes,
                                newest_inquiries=[*open_page.rows, *past_page.rows] if handed else None)
    subscriptions, more_subscriptions = mailing_reports.subscriptions_for(**whose)
    return {
        "open_rows": inquiry_rows(open_page.rows, durations, reader),
        "past_rows": inquiry_rows(past_page.rows, durations, reader),
        "pages": pages,
        "figures": listing.figures(**whose),
        "timeline": timeline_rows(entries, reader),
        "subscriptions": subscription_rows(subscriptions, current_language(),
                                           is_lead=current_user.has_role(Role.LEAD)),
        "more_subscriptions": more_subscriptions,
    }
