"""The daily digest: once a day per person, in their language, with new, due-soon and overdue inquiries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select

from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import triage
from inquiry_desk.inquiries.digest import send_daily_digests
from inquiry_desk.mail.models import OutgoingEmail

from ..helpers import edit, make_inquiry, make_user

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # 07:00 in Toronto


def digests() -> list[OutgoingEmail]:
    return list(db.session.scalars(
        select(OutgoingEmail).where(OutgoingEmail.cause_key.like("digest:%")).order_by(OutgoingEmail.id)
    ))


def readers():
    english = make_user(role="officer", email="reader@example.org", name="Ada Reader")
    english.wants_digest = True
    french = make_user(role="viewer", email="lectrice@example.org", name="Léa Lectrice", language="fr")
    french.wants_digest = True
    make_user(role="officer", email="nodigest@example.org")  # did not ask for it
    gone = make_user(role="officer", email="gone@example.org", active=False)
    gone.wants_digest = True
    db.session.commit()
    return english, french


def test_once_per_day_to_those_who_asked(app: Flask) -> None:
    english, french = readers()
    assert send_daily_digests(NOW) == 2
    assert send_daily_digests(NOW + timedelta(hours=1)) == 0
    # 23:30 in Toronto is still the same day there (04:30 UTC the next day).
    assert send_daily_digests(datetime(2026, 11, 25, 4, 30, tzinfo=UTC)) == 0
    assert sorted(email.to_address for email in digests()) == ["lectrice@example.org", "reader@example.org"]
    assert {email.cause_key for email in digests()} == {f"digest:{english.id}:2026-11-24",
                                                        f"digest:{french.id}:2026-11-24"}
    assert send_daily_digests(NOW + timedelta(days=1)) == 2
    assert len(digests()) == 4
    # RFC 3834: made by a process, not an answer to a message (issue 10 defect 11).
    assert {email.extra_headers["Auto-Submitted"] for email in digests()} == {"auto-generated"}


def test_content_and_language(app: Flask) -> None:
    english, _french = readers()
    lead = make_user(role="lead")
    make_inquiry(now=NOW - timedelta(days=3), subject="Old news")
    first = make_inquiry(now=NOW - timedelta(hours=20), subject="Housing for a family of five")
    second = make_inquiry(now=NOW - timedelta(hours=2), subject="Orientation sessions", language="fr")
    overdue = make_inquiry(now=NOW - timedelta(days=4), subject="Late one")
    triage.assign(overdue, english, actor=lead, now=NOW - timedelta(days=3))
    edit(overdue, due_at=NOW - timedelta(hours=3))
    soon = make_inquiry(now=NOW - timedelta(days=5), subject="Soon one")
    triage.assign(soon, english, actor=lead, now=NOW - timedelta(days=3))
    edit(soon, due_at=NOW + timedelta(hours=1))
    db.session.commit()

    send_daily_digests(NOW)
    by_address = {email.to_address: email for email in digests()}
    text = by_address["reader@example.org"].body_text
    assert by_address["reader@example.org"].subject == "Daily digest: 2 new, 1 overdue, 1 due soon"
    assert "Hello Ada Reader," in text
    assert "New inquiries in the last 24 hours: 2" in text
    assert f"{first.reference} Housing for a family of five" in text
    assert f"{second.reference} Orientation sessions" in text
    assert text.index(second.reference) < text.index(first.reference)  # newest first
    assert "Old news" not in text
    assert f"{overdue.reference} Late one (was due" in text
    assert f"{soon.reference} Soon one (due" in text
    assert f"/staff/inquiries/{overdue.id}" in text

    french = by_address["lectrice@example.org"]
    assert french.language == "fr"
    assert french.subject == "Résumé quotidien : 2 nouvelles"
    assert "Bonjour Léa Lectrice," in french.body_text
    assert "Nouvelles demandes au cours des dernières 24 heures : 2" in french.body_text
    assert "Aucune de vos demandes n'est en retard." in french.body_text
    assert "Late one" not in french.body_text  # only the reader's own


def test_a_quiet_day_still_sends_a_short_digest(app: Flask) -> None:
    readers()
    send_daily_digests(NOW)
    english = next(email for email in digests() if email.language == "en")
    assert "No new inquiries in the last 24 hours." in english.body_text
    assert "None of your inquiries is overdue." in english.body_text
