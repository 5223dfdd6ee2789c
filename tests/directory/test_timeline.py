"""The timeline of an organisation, read from existing records: the same whether the page hands it the
newest inquiries it has read already or it reads them itself."""

from __future__ import annotations

from datetime import timedelta

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import correspondence
from inquiry_desk.inquiries.stakeholders import listing, partners, timeline

from ..helpers import edit, make_inquiry, make_organisation, make_user


def test_the_timeline_holds_inquiries_replies_and_status_changes_newest_first(app) -> None:
    lead = make_user(role="lead")
    organisation = make_organisation("Aman Lara", trusted=False, domains=())
    start = utcnow() - timedelta(days=30)
    for number in range(7):
        inquiry = make_inquiry(email=f"p{number}@example.net", subject=f"Question {number}",
                               now=start + timedelta(days=number))
        edit(inquiry, organisation_id=organisation.id, status="closed" if number % 2 else "open")
        if number == 5:
            correspondence.send_reply(inquiry, "An answer", actor=lead, now=start + timedelta(days=5, hours=1))
    partners.change_status(organisation, "inactive", "No longer active", actor=lead, now=start + timedelta(days=3))
    db.session.commit()
    read = timeline.timeline(organisation_id=organisation.id, limit=5)
    open_page = listing.inquiries_of(organisation_id=organisation.id, open_=True, limit=5)
    past_page = listing.inquiries_of(organisation_id=organisation.id, open_=False, limit=5)
    handed = timeline.timeline(organisation_id=organisation.id, limit=5,
                               newest_inquiries=[*open_page.rows, *past_page.rows])
    assert [(entry.kind, entry.inquiry_id) for entry in handed] == [(entry.kind, entry.inquiry_id) for entry in read]
    kinds = [entry.kind for entry in read]
    assert kinds[:3] == ["received", "reply", "received"]  # day 6, the reply on day 5, day 5
    assert [entry.at for entry in read] == sorted((entry.at for entry in read), reverse=True)
    everything = timeline.timeline(organisation_id=organisation.id, limit=50)
    assert any(entry.kind == "status" and entry.details["reason"] == "No longer active" for entry in everything)


def test_first_pages_in_one_query_equal_the_two_keyset_queries(app) -> None:
    organisation = make_organisation("Aman Lara", trusted=False, domains=())
    start = utcnow() - timedelta(days=30)
    for number in range(9):
        inquiry = make_inquiry(email=f"p{number}@example.net", now=start + timedelta(hours=number))
        edit(inquiry, organisation_id=organisation.id, status=("open", "closed", "resolved")[number % 3])
    db.session.commit()
    both = listing.first_pages(organisation_id=organisation.id, limit=2)
    one_by_one = (listing.inquiries_of(organisation_id=organisation.id, open_=True, limit=2),
                  listing.inquiries_of(organisation_id=organisation.id, open_=False, limit=2))
    assert both == one_by_one
    assert both[0].next_after is not None and len(both[1].rows) == 2
