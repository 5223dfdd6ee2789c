"""An organisation's and a contact's pages, assembled alike (inbox/directory_profile.py): need-to-know
decided for every timeline entry on every page, mailing-list subscriptions by role, the timeline's hook
for bulletins, and a number of queries that does not grow with what the page lists."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Contact
from inquiry_desk.inquiries.stakeholders import listing, timeline
from inquiry_desk.mailing import services as mailing

from ..helpers import edit, make_inquiry, page
from ..mailing.support import make_list
from .test_directory_pages import _organisation


def _timeline_text(soup) -> str:
    return soup.select("ol.history")[-1].get_text(" ")


@pytest.mark.parametrize("kind", ["organisation", "contact"])
def test_a_later_page_shows_the_timeline_subjects_the_reader_may_read(app, signed_in, monkeypatch, kind) -> None:
    """Before: on a page opened with a cursor, every timeline entry showed no subject (need-to-know was
    decided from the listed rows, which were older than the timeline's)."""
    monkeypatch.setattr(listing, "INQUIRIES_PAGE", 2)
    organisation = _organisation("Aman Lara")
    start = utcnow() - timedelta(days=10)
    inquiries = []
    for number in range(5):
        inquiry = make_inquiry(email="same@example.net", subject=f"Question {number}",
                               now=start + timedelta(hours=number))
        edit(inquiry, organisation_id=organisation.id)
        inquiries.append(inquiry)
    edit(inquiries[4], restricted=True, subject="Zebulon secret")
    db.session.commit()
    url = f"/staff/directory/organisations/{organisation.id}" if kind == "organisation" \
        else f"/staff/directory/contacts/{inquiries[0].contact_id}"
    viewer, lead = signed_in("viewer"), signed_in("lead")
    first = page(viewer.get(url))
    later_url = first.select_one(".pager a")["href"]
    assert "cursor=" in later_url
    for soup in (first, page(viewer.get(later_url))):
        text = _timeline_text(soup)
        assert "Question 3" in text and "Question 2" in text  # readable: shown on every page
        assert "Zebulon" not in soup.get_text()  # restricted: never, on any page
    assert "Zebulon secret" in _timeline_text(page(lead.get(later_url)))


def test_subscriptions_are_listed_on_the_contact_and_organisation_pages(app, signed_in) -> None:
    organisation = _organisation("Aman Lara")
    news, partners_list = make_list("Sponsorship news"), make_list("Partners only", public=False)
    for mailing_list in (news, partners_list):
        mailing.add_member(mailing_list, "hala@amanlara.example", name="Hala Nouri", language="fr",
                           consent_source="Asked at the meeting", actor=None, now=utcnow())
    db.session.commit()
    contact = db.session.scalar(select(Contact).where(Contact.email == "hala@amanlara.example"))
    contact.organisation_id = organisation.id
    db.session.commit()
    viewer, lead = signed_in("viewer"), signed_in("lead")

    soup = page(viewer.get(f"/staff/directory/contacts/{contact.id}"))
    rows = [row.get_text(" ", strip=True) for row in soup.select("[data-testid=subscriptions] tbody tr")]
    assert rows[0].startswith("Partners only") and "Subscribed" in rows[0] and "Français" in rows[0]
    assert rows[1].startswith("Sponsorship news")
    assert not soup.select("[data-testid=subscriptions] a")  # the lists' pages are the leads'
    assert "Consent history" not in soup.get_text()

    soup = page(lead.get(f"/staff/directory/contacts/{contact.id}"))
    assert [a["href"] for a in soup.select("[data-testid=subscriptions] a")] == [
        f"/staff/mailing-lists/{partners_list.id}", f"/staff/mailing-lists/{news.id}"]
    assert lead.get(soup.find("a", string="Consent history")["href"]).status_code == 200

    soup = page(viewer.get(f"/staff/directory/organisations/{organisation.id}"))
    rows = [row.get_text(" ", strip=True) for row in soup.select("[data-testid=subscriptions] tbody tr")]
    assert len(rows) == 2 and all("Hala Nouri" in row for row in rows)
    assert "not in use yet" not in soup.get_text()


def test_the_timeline_takes_entries_from_a_registered_source(app, signed_in, monkeypatch) -> None:
    """The hook the bulletins issue plugs into: its entries are merged by date and shown with its text."""
    organisation = _organisation("Aman Lara")
    seen = {}

    def bulletins(*, organisation_id, contact_id, before, limit):
        seen.update(organisation_id=organisation_id, limit=limit)
        return [timeline.Entry(utcnow() + timedelta(minutes=1), "bulletin",
                               details={"text": "Bulletin received:", "url": "/b/1", "link_text": "November news"})]

    monkeypatch.setattr(timeline, "_SOURCES", [])
    timeline.register_source(bulletins)
    soup = page(signed_in("viewer").get(f"/staff/directory/organisations/{organisation.id}"))
    first = soup.select("ol.history")[-1].select_one("li")
    assert "Bulletin received:" in first.get_text() and first.select_one("a")["href"] == "/b/1"
    assert seen == {"organisation_id": organisation.id, "limit": timeline.LIMIT}


def _queries(client, url: str) -> int:
    count = 0

    def counted(*_args) -> None:
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", counted)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", counted)
    return count


def test_the_organisation_page_makes_a_fixed_number_of_queries(app, signed_in) -> None:
    """Before: 12 queries, and more for each section added; now one per section at most, whatever the
    number of inquiries, contacts, subscriptions and timeline entries (no N+1)."""
    organisation = _organisation("Aman Lara")
    client = signed_in("officer")
    url = f"/staff/directory/organisations/{organisation.id}"
    client.get(url)
    empty = _queries(client, url)
    news = make_list("Sponsorship news")
    for number in range(6):
        inquiry = make_inquiry(email=f"p{number}@amanlara.example", subject=f"Question {number}")
        edit(inquiry, organisation_id=organisation.id, status="closed" if number % 2 else "open")
        mailing.add_member(news, f"p{number}@amanlara.example", name=None, language="en",
                           consent_source="Asked", actor=None, now=utcnow())
        inquiry.contact.organisation_id = organisation.id
    db.session.commit()
    full = _queries(client, url)
    # 11: the bulletins received (a timeline source the bulletins register) are one query of their own.
    assert full == empty <= 11, (empty, full)
