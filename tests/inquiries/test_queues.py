"""Queues, filters, sorts, keyset pages and capped counts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import queues, triage
from inquiry_desk.inquiries import services as inquiries

from ..helpers import edit, make_inquiry, make_organisation, make_user


def _refs(page: queues.Page) -> list[str]:
    return [inquiry.reference for inquiry in page.items]


@pytest.fixture
def desk(app):
    """Seven inquiries in different states, received an hour apart (newest last)."""
    officer, other = make_user(role="officer"), make_user(role="officer")
    start = utcnow() - timedelta(hours=10)
    made = [make_inquiry(email=f"q{n}@example.org", subject=f"Question {n}", now=start + timedelta(hours=n),
                         language="fr" if n % 2 else "en") for n in range(7)]
    now = utcnow()
    triage.assign(made[1], officer, actor=officer, now=now)
    triage.assign(made[2], other, actor=other, now=now)
    triage.set_status(made[3], "waiting", actor=officer, now=now)
    triage.set_status(made[4], "resolved", actor=officer, now=now)
    triage.set_priority(made[5], "urgent", actor=officer, now=now)
    triage.set_tags(made[5], ["media"], actor=officer, now=now)
    db.session.commit()
    queues.forget_counts()
    return {"officer": officer, "other": other, "made": made}


def test_each_queue_holds_what_its_name_says(desk) -> None:
    officer, made = desk["officer"], desk["made"]
    now = utcnow()
    page = lambda queue: set(_refs(queues.list_page(queue, queues.Filters(), actor=officer, now=now)))  # noqa: E731
    refs = [inquiry.reference for inquiry in made]
    assert page("new") == {refs[0], refs[5], refs[6]}
    assert page("mine") == {refs[1]}
    assert page("unassigned") == {refs[0], refs[5], refs[6]}
    assert page("waiting") == {refs[3]}
    assert page("resolved") == {refs[4]}
    assert page("all") == set(refs)


def test_due_queues_follow_the_due_time(desk) -> None:
    officer, made = desk["officer"], desk["made"]
    now = utcnow()
    edit(made[0], due_at=now - timedelta(minutes=5))
    edit(made[6], due_at=now + timedelta(hours=1))
    edit(made[5], due_at=now + timedelta(days=5))
    db.session.commit()
    assert _refs(queues.list_page("overdue", queues.Filters(), actor=officer, now=now)) == [made[0].reference]
    assert _refs(queues.list_page("due_soon", queues.Filters(), actor=officer, now=now)) == [made[6].reference]


def test_filters_combine(desk) -> None:
    officer, made = desk["officer"], desk["made"]
    now = utcnow()
    french = queues.list_page("all", queues.Filters(language="fr"), actor=officer, now=now)
    assert set(_refs(french)) == {made[1].reference, made[3].reference, made[5].reference}
    urgent_french = queues.list_page("all", queues.Filters(language="fr", priority="urgent"), actor=officer, now=now)
    assert _refs(urgent_french) == [made[5].reference]
    tagged = queues.list_page("all", queues.Filters(tag="MEDIA"), actor=officer, now=now)
    assert _refs(tagged) == [made[5].reference]
    mine = queues.list_page("all", queues.Filters(assignee=str(officer.id)), actor=officer, now=now)
    assert _refs(mine) == [made[1].reference]
    nobody = queues.list_page("all", queues.Filters(assignee="none", status="new"), actor=officer, now=now)
    assert set(_refs(nobody)) == {made[0].reference, made[5].reference, made[6].reference}
    topic = queues.list_page("all", queues.Filters(topic="other"), actor=officer, now=now)
    assert len(topic.items) == 7
    with pytest.raises(queues.InvalidFilter):
        queues.list_page("all", queues.Filters(status="nonsense"), actor=officer, now=now)
    with pytest.raises(queues.InvalidFilter):
        queues.list_page("nonsense", queues.Filters(), actor=officer, now=now)


def test_date_range_uses_the_team_day(desk) -> None:
    officer = desk["officer"]
    today = utcnow().astimezone(inquiries.team_timezone()).date()
    page = queues.list_page("all", queues.Filters(received_from=(today + timedelta(days=1)).isoformat()),
                            actor=officer, now=utcnow())
    assert page.items == []
    with pytest.raises(queues.InvalidFilter):
        queues.list_page("all", queues.Filters(received_from="yesterday"), actor=officer, now=utcnow())


def test_trusted_partner_and_organisation_filters(app) -> None:
    officer = make_user(role="officer")
    organisation = make_organisation("Aman Lara", domains=["amanlara.org"])
    trusted = make_inquiry(email="someone@amanlara.org")
    make_inquiry(email="someone@elsewhere.org")
    now = utcnow()
    assert _refs(queues.list_page("all", queues.Filters(trusted="yes"), actor=officer, now=now)) == []
    inquiries.confirm_address(trusted, now=now)  # the stakeholder opened the private link
    db.session.commit()
    assert _refs(queues.list_page("all", queues.Filters(trusted="yes"), actor=officer, now=now)) == [trusted.reference]
    assert _refs(queues.list_page("all", queues.Filters(organisation=str(organisation.id)), actor=officer,
                                  now=now)) == [trusted.reference]
    assert _refs(queues.list_page("all", queues.Filters(organisation_kind="ngo"), actor=officer,
                                  now=now)) == [trusted.reference]


@pytest.mark.parametrize("sort", ["received", "updated", "priority", "due"])
def test_keyset_pages_cover_everything_once(app, sort: str) -> None:
    officer = make_user(role="officer")
    start = utcnow() - timedelta(days=1)
    made = [make_inquiry(email=f"k{n}@example.org", now=start + timedelta(minutes=n % 4)) for n in range(11)]
    for n, inquiry in enumerate(made):
        edit(inquiry, priority_rank=n % 3, due_at=start + timedelta(hours=n % 5))
    db.session.commit()
    seen, cursor = [], None
    while True:
        page = queues.list_page("all", queues.Filters(), actor=officer, now=utcnow(), sort=sort, cursor=cursor,
                                limit=4)
        seen.extend(_refs(page))
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(i.reference for i in made) and len(seen) == len(set(seen))


def test_a_forged_cursor_is_an_invalid_filter(app) -> None:
    officer = make_user(role="officer")
    for cursor in ("garbage", "W10", "WyJ4IiwgMV0"):
        with pytest.raises(queues.InvalidFilter):
            queues.list_page("all", queues.Filters(), actor=officer, now=utcnow(), cursor=cursor)


def test_counts_are_current_after_each_change(desk) -> None:
    officer = desk["officer"]
    counts = queues.queue_counts(officer, utcnow())
    assert counts["all"] == 7 and counts["mine"] == 1 and counts["waiting"] == 1
    make_inquiry(email="late@example.org")
    assert queues.queue_counts(officer, utcnow())["all"] == 8


def test_a_plain_search_pages_through_every_match(app) -> None:
    officer = make_user(role="officer")
    made = [make_inquiry(email=f"s{n}@example.org", subject=f"Réunion numéro {n}") for n in range(7)]
    make_inquiry(email="other@example.org", subject="Something else")
    seen, cursor = [], None
    while True:
        page = queues.list_page("all", queues.Filters(q="reunion"), actor=officer, now=utcnow(), cursor=cursor,
                                limit=3)
        seen.extend(_refs(page))
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [inquiry.reference for inquiry in reversed(made)]
    filtered = queues.list_page("all", queues.Filters(q="reunion", language="fr"), actor=officer, now=utcnow())
    assert filtered.items == []


@pytest.mark.parametrize("name", ["topic", "tag", "organisation_kind", "status"])
def test_a_filter_with_control_characters_is_refused(app, name: str) -> None:
    """Issue 11 (H2 on PostgreSQL): ?topic=%00 reached the database, a DataError and a 500."""
    actor = make_user(role="officer")
    with pytest.raises(queues.InvalidFilter):
        queues.list_page("all", queues.Filters(**{name: "a\x00b"}), actor=actor, now=utcnow())


def _raw_cursor(text: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(text).decode().rstrip("=")


@pytest.mark.parametrize(("sort", "raw"), [
    ("priority", b'[1e308, "2026-01-01T00:00:00+00:00", 1]'),
    ("priority", b'[Infinity, "2026-01-01T00:00:00+00:00", 1]'),
    ("priority", b'[2, "2026-01-01T00:00:00+00:00", 100000000000000000000000]'),
    ("received", b'["9999-12-31T00:00:00+00:00", 1]'),
    ("received", b'["2026-01-01T00:00:00", 1]'),
    ("received", b"[" * 1200),
])
def test_forged_cursors_are_refused(app, sort: str, raw: bytes) -> None:
    """Issue 11 (Low): Infinity, 1e308, huge ids, dates at the calendar's end and deep nesting were 500s."""
    with pytest.raises(queues.InvalidFilter):
        queues.decode_cursor(_raw_cursor(raw), sort)
    actor = make_user(role="officer")
    with pytest.raises(queues.InvalidFilter):
        queues.list_page("all", queues.Filters(), actor=actor, now=utcnow(), sort=sort, cursor=_raw_cursor(raw))


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_dates_beyond_the_calendar_are_refused(app, day: str) -> None:
    actor = make_user(role="officer")
    with pytest.raises(queues.InvalidFilter):
        queues.list_page("all", queues.Filters(received_to=day), actor=actor, now=utcnow())
