"""The weekly report to leads on Monday morning: last week against the week before, overdue, a link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from flask import Flask
from sqlalchemy import select

from inquiry_desk.core.extensions import db
from inquiry_desk.jobs.registry import get_job, next_fire_time
from inquiry_desk.mail.models import OutgoingEmail
from inquiry_desk.reports.weekly import send_weekly_reports

from ..helpers import edit, make_user
from . import dataset

MONDAY = datetime(2026, 11, 9, 12, 0, tzinfo=UTC)  # 07:00 in Toronto


def _reports() -> list[OutgoingEmail]:
    return list(db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.cause_key.like("weekly_report:%"))
                                   .order_by(OutgoingEmail.to_address)))


def test_weekly_report_to_each_lead_in_their_language(app: Flask) -> None:
    with time_machine.travel(dataset.NOW, tick=False):
        data = dataset.build()
    french = make_user(role="admin", email="chef@example.org", name="Chloé Chef", language="fr")
    make_user(role="lead", email="gone@example.org", active=False)
    edit(data.inquiries["D"], subject="Protection case of a family")
    db.session.commit()

    assert send_weekly_reports(MONDAY) == 2  # Lea (lead, English) and Chloé (admin, French); not officers
    assert send_weekly_reports(MONDAY + timedelta(hours=2)) == 0  # once a week
    english, in_french = sorted(_reports(), key=lambda e: e.language)
    assert english.to_address == data.lead.email and in_french.to_address == french.email
    assert english.cause_key == f"weekly_report:{data.lead.id}:2026-11-09"
    # Last week (2 to 8 November): F received; the week before (26 October to 1 November): A to E.
    assert english.subject == "Weekly report: 1 inquiries received last week, 2 overdue"
    assert "- Inquiries received: 1 (week before: 5; change: −4)" in english.body_text
    assert "- Inquiries resolved: 1 (week before: 2; change: −1)" in english.body_text
    assert "Median time to first response (business hours): 0.2 (week before: 1.0" in english.body_text
    # B and D are overdue now; a lead reads restricted D's subject.
    assert "Inquiries overdue now: 2" in english.body_text
    assert "Protection case of a family" in english.body_text
    assert "/staff/dashboard/?period=custom&from=2026-11-02&to=2026-11-08" in english.body_text
    assert in_french.subject.startswith("Rapport hebdomadaire : 1 demandes reçues")
    assert "- Demandes reçues : 1 (semaine précédente : 5, variation : −4)" in in_french.body_text
    assert "Du 2 nov. 2026 au 8 nov. 2026" in in_french.body_text
    assert english.extra_headers["Auto-Submitted"] == "auto-generated"


def test_scheduled_monday_morning(app: Flask) -> None:
    job = get_job(app.config, "weekly_report")
    fire = next_fire_time(job, app.config, datetime(2026, 11, 4, 15, 0, tzinfo=UTC))
    assert fire == datetime(2026, 11, 9, 12, 0, tzinfo=UTC)  # Monday 07:00 in Toronto (EST)
