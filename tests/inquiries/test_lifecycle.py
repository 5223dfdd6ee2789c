"""A stakeholder's reply is never buried; resolved inquiries close and reach the purge; a hold keeps one.

Each test here failed on main before issue 10: a reply left a closed inquiry closed and told
nobody; resolved inquiries stayed resolved for ever; nothing could keep an inquiry from the purge.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from inquiry_desk.audit import services as audit
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import links, triage
from inquiry_desk.inquiries import services as inquiries
from inquiry_desk.inquiries.lifecycle import close_quiet_resolved, lift_hold, place_hold
from inquiry_desk.inquiries.models import Inquiry, ReplyNotice, Status
from inquiry_desk.inquiries.retention import purge_closed_inquiries
from inquiry_desk.intake import services as intake
from inquiry_desk.jobs import registry
from inquiry_desk.mail.models import OutgoingEmail

from ..helpers import edit, make_inquiry, make_user

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
TEAM = "team@example.org"


@pytest.fixture
def app(app_factory: Callable[..., Flask]):
    app = app_factory(MAIL_TEAM_ADDRESS=TEAM, REOPEN_WINDOW_DAYS=30, AUTO_CLOSE_DAYS=14, RETENTION_MONTHS=24)
    with app.app_context():
        yield app


def _actions(inquiry: Inquiry) -> list[str]:
    return [event.action for event in audit.events_for("inquiry", inquiry.id)]


def _emails(pattern: str) -> list[OutgoingEmail]:
    return list(db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.cause_key.like(pattern))
                                   .order_by(OutgoingEmail.id)))


def _assigned(status: str, *, closed_days_ago: int = 1, language: str = "en"):
    officer = make_user(role="officer", language=language)
    inquiry = make_inquiry(now=NOW - timedelta(days=60))
    triage.assign(inquiry, officer, actor=officer, now=NOW - timedelta(days=59))
    ended = NOW - timedelta(days=closed_days_ago)
    edit(inquiry, status=status, resolved_at=ended if status in ("resolved", "closed") else None, updated_at=ended)
    db.session.commit()
    return inquiry, officer


@pytest.mark.parametrize("status", ["resolved", "closed", "waiting"])
def test_a_portal_reply_reopens_the_inquiry_and_tells_the_assignee_once(app, status) -> None:
    inquiry, officer = _assigned(status, language="fr")
    message = intake.reply_from_portal(inquiry, "One more question, please", now=NOW)
    db.session.commit()
    assert message.inquiry is inquiry and inquiry.status == Status.OPEN.value and inquiry.resolved_at is None
    assert ("inquiry.reopened_by_reply" in _actions(inquiry)) == (status != "waiting")
    [notice] = _emails(f"inquiry:{inquiry.id}:stakeholder-reply:%")
    assert notice.to_address == officer.email and notice.language == "fr"
    assert notice.subject.startswith("Nouvelle réponse de la partie prenante") and inquiry.reference in notice.subject
    assert "One more question" not in notice.body_text  # a mailbox is not a protected channel
    assert f"/staff/inquiries/{inquiry.id}" in notice.body_text
    intake.reply_from_portal(inquiry, "And another", now=NOW + timedelta(minutes=1))
    db.session.commit()
    assert len(_emails(f"inquiry:{inquiry.id}:stakeholder-reply:%")) == 2  # every reply, each once
    assert len(db.session.scalars(select(ReplyNotice)).all()) == 2


def test_without_an_assignee_the_team_address_is_told(app) -> None:
    inquiry = make_inquiry(now=NOW - timedelta(days=3))
    edit(inquiry, status="resolved", resolved_at=NOW - timedelta(days=1))
    db.session.commit()
    intake.reply_from_portal(inquiry, "Still waiting", now=NOW)
    db.session.commit()
    [notice] = _emails(f"inquiry:{inquiry.id}:stakeholder-reply:%")
    assert notice.to_address == TEAM and notice.language == "en"


def test_an_assignee_who_turned_notifications_off_gets_no_email_but_the_inbox_mark(app) -> None:
    inquiry, officer = _assigned("waiting")
    officer.wants_notifications = False
    db.session.commit()
    intake.reply_from_portal(inquiry, "Hello again", now=NOW)
    db.session.commit()
    assert _emails(f"inquiry:{inquiry.id}:stakeholder-reply:%") == []
    assert db.session.scalars(select(ReplyNotice.user_id)).all() == [officer.id]


def test_a_reply_long_after_closing_opens_a_new_linked_inquiry(app) -> None:
    old, _officer = _assigned("closed", closed_days_ago=31)
    message = intake.reply_from_portal(old, "It is me again, a year later", now=NOW)
    db.session.commit()
    new = message.inquiry
    assert new.id != old.id and old.status == Status.CLOSED.value and new.status == Status.NEW.value
    assert new.contact_id == old.contact_id and new.subject == old.subject
    assert [m.body for m in new.messages] == ["It is me again, a year later"]
    assert [i.id for i in links.linked_inquiries(old)] == [new.id]
    assert "inquiry.linked" in _actions(old) and "inquiry.linked" in _actions(new)
    # The stakeholder gets a reference and a private link to the new inquiry; the team is told.
    [confirmation] = _emails(f"inquiry:{new.id}:confirmation")
    assert confirmation.to_address == old.contact.email and new.reference in confirmation.subject
    [notice] = _emails(f"inquiry:{new.id}:stakeholder-reply:%")
    assert notice.to_address == TEAM and "opened a new inquiry" in notice.body_text


def test_a_merged_or_purged_inquiry_never_takes_a_reply_back(app) -> None:
    lead = make_user(role="lead")
    keep = make_inquiry(now=NOW - timedelta(days=2))
    duplicate = make_inquiry(now=NOW - timedelta(days=2), subject="Again")
    triage.merge(duplicate, keep, actor=lead, now=NOW - timedelta(days=1))
    db.session.commit()
    assert not inquiries.reopens(duplicate, NOW)
    message = intake.reply_from_portal(duplicate, "Reply to the merged one", now=NOW)
    db.session.commit()
    assert message.inquiry.id not in (duplicate.id, keep.id) and duplicate.status == Status.CLOSED.value


def test_assigning_emails_the_new_assignee_unless_they_took_it_or_opted_out(app) -> None:
    lead, officer = make_user(role="lead", name="Chloé Lead"), make_user(role="officer", language="fr")
    inquiry = make_inquiry(now=NOW)
    triage.assign(inquiry, officer, actor=lead, now=NOW)
    db.session.commit()
    [email] = _emails(f"inquiry:{inquiry.id}:assigned:%")
    assert email.to_address == officer.email and email.language == "fr" and "Chloé Lead" in email.body_text
    triage.assign(inquiry, lead, actor=lead, now=NOW + timedelta(minutes=1))  # took it: no email to oneself
    officer.wants_notifications = False
    triage.assign(inquiry, officer, actor=lead, now=NOW + timedelta(minutes=2))
    db.session.commit()
    assert len(_emails(f"inquiry:{inquiry.id}:assigned:%")) == 1


def test_the_auto_close_job_closes_quiet_resolved_inquiries_only(app) -> None:
    quiet = make_inquiry(now=NOW - timedelta(days=40))
    recent = make_inquiry(now=NOW - timedelta(days=40), subject="recent")
    still_open = make_inquiry(now=NOW - timedelta(days=40), subject="open")
    edit(quiet, status="resolved", resolved_at=NOW - timedelta(days=20), updated_at=NOW - timedelta(days=15))
    edit(recent, status="resolved", resolved_at=NOW - timedelta(days=20), updated_at=NOW - timedelta(days=13))
    edit(still_open, status="open", updated_at=NOW - timedelta(days=30))
    db.session.commit()
    assert registry.get_job(app.config, "auto_close").function(NOW) == "closed 1"
    db.session.expire_all()
    assert (quiet.status, recent.status, still_open.status) == ("closed", "resolved", "open")
    assert "inquiry.auto_closed" in _actions(quiet) and quiet.resolved_at == NOW - timedelta(days=20)
    assert close_quiet_resolved(NOW) == 0  # a second run changes nothing


def test_resolved_inquiries_now_reach_the_purge(app) -> None:
    old = make_inquiry(now=NOW - timedelta(days=900))
    edit(old, status="resolved", resolved_at=NOW - timedelta(days=800), updated_at=NOW - timedelta(days=800))
    db.session.commit()
    assert purge_closed_inquiries(NOW) == 0  # resolved: never purged, before auto-close
    assert close_quiet_resolved(NOW - timedelta(days=780)) == 1
    assert purge_closed_inquiries(NOW) == 1


def test_a_hold_keeps_an_inquiry_from_the_purge_until_a_lead_lifts_it(app) -> None:
    officer, lead = make_user(role="officer"), make_user(role="lead")
    old = make_inquiry(now=NOW - timedelta(days=900))
    edit(old, status="closed", resolved_at=NOW - timedelta(days=800), updated_at=NOW - timedelta(days=800))
    db.session.commit()
    with pytest.raises(triage.NotAllowed):
        place_hold(old, "ATIP request A-2026-0042", actor=officer, now=NOW - timedelta(days=790))
    with pytest.raises(triage.InvalidValue):
        place_hold(old, "   ", actor=lead, now=NOW - timedelta(days=790))
    place_hold(old, "ATIP request A-2026-0042", actor=lead, now=NOW - timedelta(days=790))
    db.session.commit()
    assert old.hold_reason == "ATIP request A-2026-0042"
    assert purge_closed_inquiries(NOW) == 0
    db.session.expire_all()
    assert old.purged_at is None
    lift_hold(old, actor=lead, now=NOW - timedelta(days=780))
    db.session.commit()
    assert old.hold_reason is None and "inquiry.hold_lifted" in _actions(old)
    assert "inquiry.hold_placed" in _actions(old)
    with pytest.raises(triage.InvalidValue):
        lift_hold(old, actor=lead, now=NOW)
    assert purge_closed_inquiries(NOW) == 1
