"""The recorder: every change to an inquiry gets its version, history, search document and targets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import recorder, search, triage
from inquiry_desk.inquiries.models import Inquiry

from ..helpers import make_inquiry, make_user


def _events(inquiry: Inquiry, action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.subject_type == "inquiry", AuditEvent.subject_id == inquiry.id, AuditEvent.action == action)))


def test_a_change_bumps_the_version_once_audits_each_event_and_reindexes(app) -> None:
    officer = make_user(role="officer")
    inquiry = make_inquiry(subject="Harbour question")
    version = inquiry.version
    with recorder.change(inquiry, actor=officer, now=utcnow()) as change:
        inquiry.subject = "Lighthouse question"
        change.event("subject_changed", before="Harbour question", after="Lighthouse question")
        change.event("noted", reason="two events, one change")
    db.session.commit()
    assert inquiry.version == version + 1
    assert [event.details["version"] for event in _events(inquiry, "inquiry.noted")] == [version + 1]
    assert search.search_ids("lighthouse", limit=5) == [inquiry.id]
    assert search.search_ids("harbour", limit=5) == []


def test_a_column_changed_outside_the_recorder_is_refused(app) -> None:
    inquiry = make_inquiry()
    inquiry.subject = "Changed behind the recorder's back"
    with pytest.raises(recorder.ChangedOutsideRecorder):
        db.session.flush()
    db.session.rollback()


def test_a_change_that_records_nothing_changes_nothing(app) -> None:
    officer = make_user(role="officer")
    inquiry = make_inquiry()
    version = inquiry.version
    with recorder.change(inquiry, actor=officer, now=utcnow()):
        pass
    db.session.commit()
    assert inquiry.version == version


def test_the_database_refuses_the_second_of_two_changes_made_from_one_version(app, app_factory) -> None:
    """Two requests read version n and both change the inquiry: the second UPDATE finds no row."""
    officer = make_user(role="officer")
    inquiry = make_inquiry()
    db.session.commit()
    other_app = app_factory()
    with other_app.app_context():
        theirs = db.session.get(Inquiry, inquiry.id)
        triage.set_priority(theirs, "high", actor=db.session.merge(officer), now=utcnow())
        db.session.commit()
    with pytest.raises(StaleDataError):  # this session still holds version n
        triage.set_priority(inquiry, "urgent", actor=officer, now=utcnow())
        db.session.commit()
    db.session.rollback()
    assert db.session.get(Inquiry, inquiry.id).priority == "high"


def test_renaming_a_contact_reindexes_their_earlier_inquiries(app) -> None:
    """Drift (issue 9): intake overwrites the contact's name, and the older inquiries' documents kept the old one."""
    first = make_inquiry(email="zahra@example.org", subject="First question")
    from inquiry_desk.directory import services as directory

    directory.record_contact(email="zahra@example.org", name="Zahra Noorzai", language="en", now=utcnow())
    db.session.commit()
    assert search.search_ids("noorzai", limit=5) == [first.id]


def test_every_triage_action_is_in_the_history_with_its_version(app) -> None:
    officer = make_user(role="officer")
    inquiry = make_inquiry()
    now = utcnow()
    triage.assign(inquiry, officer, actor=officer, now=now)
    triage.set_priority(inquiry, "urgent", actor=officer, now=now + timedelta(minutes=1))
    triage.add_note(inquiry, "Checked the file.", actor=officer, now=now + timedelta(minutes=2))
    db.session.commit()
    versions = db.session.execute(
        select(AuditEvent.action, AuditEvent.details)
        .where(AuditEvent.subject_type == "inquiry", AuditEvent.subject_id == inquiry.id)
        .order_by(AuditEvent.id)).all()
    assert [(action, details["version"]) for action, details in versions] == [
        ("inquiry.received", 1), ("inquiry.assigned", 2), ("inquiry.status_changed", 2),
        ("inquiry.priority_changed", 3), ("inquiry.note_added", 4)]
    assert inquiry.version == 4
