"""Target reminders: one "due soon" and one "missed" notice per target, to the assignee or the team.

One email per person per run lists them all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import triage
from inquiry_desk.inquiries.models import Inquiry, Status
from inquiry_desk.inquiries.reminders import send_target_reminders
from inquiry_desk.mail.models import OutgoingEmail

from ..helpers import edit, make_inquiry, make_user

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday, 10:00 in Toronto
TEAM = "team@example.org"


@pytest.fixture
def app(app_factory: Callable[..., Flask]):
    app = app_factory(MAIL_TEAM_ADDRESS=TEAM, INBOX_DUE_SOON_MINUTES=240)
    with app.app_context():
        yield app


def notices() -> list[OutgoingEmail]:
    return list(db.session.scalars(
        select(OutgoingEmail).where(OutgoingEmail.cause_key.like("reminders:%")).order_by(OutgoingEmail.id)
    ))


def inquiry_due(due_at: datetime, *, assignee=None, subject: str = "Sponsorship timeline") -> Inquiry:
    inquiry = make_inquiry(now=NOW - timedelta(days=2), subject=subject)
    if assignee is not None:
        lead = make_user(role="lead")
        triage.assign(inquiry, assignee, actor=lead, now=NOW - timedelta(days=1))
    edit(inquiry, due_at=due_at)
    db.session.commit()
    return inquiry


def test_due_soon_then_missed_one_email_each_even_when_run_twice(app: Flask) -> None:
    officer = make_user(role="officer", email="officer@example.org")
    inquiry = inquiry_due(NOW + timedelta(hours=1), assignee=officer)

    assert send_target_reminders(NOW) == 1
    assert send_target_reminders(NOW + timedelta(minutes=5)) == 0
    [soon] = notices()
    assert soon.to_address == "officer@example.org"
    assert soon.subject == "Service targets: 1 due soon"
    assert f"{inquiry.reference} Sponsorship timeline" in soon.body_text
    assert f"/staff/inquiries/{inquiry.id}" in soon.body_text
    assert "11:00\u202fa.m." in soon.body_text  # the team's time zone, to the minute (16:00 UTC)
    assert "11:00:00" not in soon.body_text
    assert soon.extra_headers["Auto-Submitted"] == "auto-generated"  # RFC 3834 (issue 10 defect 11)

    assert send_target_reminders(NOW + timedelta(hours=2)) == 1
    assert send_target_reminders(NOW + timedelta(hours=3)) == 0
    emails = notices()
    assert [email.subject for email in emails] == ["Service targets: 1 due soon", "Service targets: 1 overdue"]
    assert db.session.get(Inquiry, inquiry.id).target_notices.endswith(":missed,soon")


def test_not_yet_due_soon_sends_nothing(app: Flask) -> None:
    inquiry_due(NOW + timedelta(hours=5), assignee=make_user())
    assert send_target_reminders(NOW) == 0
    assert notices() == []


def test_two_runs_at_once_queue_one_email(app: Flask) -> None:
    """The second run read the inquiry before the first recorded its notice: the cause key stops it."""
    inquiry = inquiry_due(NOW - timedelta(minutes=1), assignee=make_user())
    send_target_reminders(NOW)
    inquiry.target_notices = ""
    db.session.commit()
    send_target_reminders(NOW)
    assert len(notices()) == 1


def test_first_seen_overdue_sends_missed_only(app: Flask) -> None:
    inquiry_due(NOW - timedelta(hours=1), assignee=make_user())
    assert send_target_reminders(NOW) == 1
    [missed] = notices()
    assert missed.subject == "Service targets: 1 overdue"


@pytest.mark.parametrize("status", [Status.WAITING, Status.RESOLVED, Status.CLOSED])
def test_no_reminder_while_the_clock_is_stopped(app: Flask, status: Status) -> None:
    officer = make_user()
    inquiry = inquiry_due(NOW + timedelta(hours=1), assignee=officer)
    triage.set_status(inquiry, status, actor=officer, now=NOW - timedelta(hours=1))
    inquiry.due_at = NOW - timedelta(minutes=30)  # even with a due time left behind
    db.session.commit()
    assert send_target_reminders(NOW) == 0
    assert notices() == []


def test_unassigned_goes_to_the_team_address_in_the_team_s_language(app: Flask) -> None:
    inquiry = inquiry_due(NOW - timedelta(minutes=10))
    assert send_target_reminders(NOW) == 1
    [missed] = notices()
    assert missed.to_address == TEAM
    assert missed.language == "en" and inquiry.reference in missed.body_text
    app.config["MAIL_TEAM_LANGUAGE"] = "fr"
    inquiry_due(NOW + timedelta(minutes=10))
    assert send_target_reminders(NOW) == 1
    assert notices()[-1].language == "fr"


def test_unassigned_without_team_address_sends_nothing_and_records_nothing(app: Flask) -> None:
    app.config["MAIL_TEAM_ADDRESS"] = ""
    inquiry = inquiry_due(NOW - timedelta(minutes=10))
    assert send_target_reminders(NOW) == 0
    assert notices() == []
    assert db.session.get(Inquiry, inquiry.id).target_notices == ""


def test_inactive_assignee_falls_back_to_the_team(app: Flask) -> None:
    officer = make_user()
    inquiry_due(NOW + timedelta(minutes=10), assignee=officer)
    officer.active = False
    db.session.commit()
    send_target_reminders(NOW)
    assert [email.to_address for email in notices()] == [TEAM]


def test_french_speaking_assignee_is_written_to_in_french(app: Flask) -> None:
    officer = make_user(language="fr", email="agente@example.org")
    inquiry = inquiry_due(NOW + timedelta(hours=2), assignee=officer, subject="Délais de parrainage")
    send_target_reminders(NOW)
    send_target_reminders(NOW + timedelta(hours=3))
    soon, missed = notices()
    assert soon.language == missed.language == "fr"
    assert soon.subject == "Délais de service : 1 bientôt échu"
    assert f"{inquiry.reference} Délais de parrainage" in soon.body_text
    assert missed.subject == "Délais de service : 1 dépassé"
    assert "24 nov. 2026, 12 h 00" in missed.body_text
    assert "Ce message est envoyé automatiquement." in missed.body_text


def test_a_new_due_time_is_warned_about_again(app: Flask) -> None:
    officer = make_user()
    inquiry = inquiry_due(NOW + timedelta(hours=1), assignee=officer)
    assert send_target_reminders(NOW) == 1
    inquiry.due_at = NOW + timedelta(hours=3)  # e.g. the first response was given: resolution is next
    db.session.commit()
    assert send_target_reminders(NOW) == 1
    assert send_target_reminders(NOW) == 0
    assert len(notices()) == 2


def test_walks_past_one_batch(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    from inquiry_desk.inquiries import reminders

    monkeypatch.setattr(reminders, "BATCH_SIZE", 2)
    officer = make_user()
    for minutes in (10, 20, 30, 40, 50):
        inquiry_due(NOW + timedelta(minutes=minutes), assignee=officer)
    assert send_target_reminders(NOW) == 5
    [email] = notices()  # one email per person per run (issue 10 defect 8)
    assert email.subject == "Service targets: 5 due soon"


def test_one_email_per_person_per_run(app: Flask) -> None:
    """Issue 10 defect 8: the first run over the demo data sent 104 single emails."""
    first, second = make_user(email="first@example.org"), make_user(email="second@example.org", language="fr")
    for hours in (-3, -2, 1):
        inquiry_due(NOW + timedelta(hours=hours), assignee=first)
    inquiry_due(NOW - timedelta(hours=1), assignee=second)
    inquiry_due(NOW - timedelta(hours=1))  # unassigned: the team
    assert send_target_reminders(NOW) == 5
    by_address = {email.to_address: email for email in notices()}
    assert sorted(by_address) == ["first@example.org", "second@example.org", TEAM]
    assert by_address["first@example.org"].subject == "Service targets: 2 overdue, 1 due soon"
    assert by_address["second@example.org"].subject == "Délais de service : 1 dépassé"
    assert send_target_reminders(NOW + timedelta(minutes=5)) == 0
    assert len(notices()) == 3
