"""Triage actions as services: each changes the inquiry, bumps its version and writes the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import correspondence, triage
from inquiry_desk.inquiries import services as inquiries
from inquiry_desk.inquiries.models import Inquiry, Message, MessageKind, Status
from inquiry_desk.mail.models import OutgoingEmail

from ..helpers import make_inquiry, make_user


def _actions(inquiry: Inquiry) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.subject_type == "inquiry", AuditEvent.subject_id == inquiry.id).order_by(AuditEvent.id)))


def test_assign_opens_a_new_inquiry_and_is_audited(app) -> None:
    officer = make_user(role="officer")
    inquiry = make_inquiry()
    version = inquiry.version
    triage.assign(inquiry, officer, actor=officer, now=utcnow())
    db.session.commit()
    assert inquiry.assignee_id == officer.id and inquiry.status == Status.OPEN.value
    assert inquiry.version > version
    assert _actions(inquiry) == ["inquiry.received", "inquiry.assigned", "inquiry.status_changed"]


def test_only_a_lead_takes_an_inquiry_someone_else_holds(app) -> None:
    first, second = make_user(role="officer"), make_user(role="officer")
    lead = make_user(role="lead")
    inquiry = make_inquiry()
    triage.assign(inquiry, first, actor=first, now=utcnow())
    with pytest.raises(triage.NotAllowed):
        triage.assign(inquiry, second, actor=second, now=utcnow())
    triage.assign(inquiry, second, actor=lead, now=utcnow())
    assert inquiry.assignee_id == second.id


def test_viewers_cannot_triage(app) -> None:
    viewer = make_user(role="viewer")
    inquiry = make_inquiry()
    for action in (lambda: triage.set_status(inquiry, "open", actor=viewer, now=utcnow()),
                   lambda: triage.add_note(inquiry, "x", actor=viewer, now=utcnow()),
                   lambda: triage.set_tags(inquiry, ["a"], actor=viewer, now=utcnow())):
        with pytest.raises(triage.NotAllowed):
            action()


def test_status_priority_topic_and_tags(app) -> None:
    officer = make_user(role="officer")
    inquiry = make_inquiry()
    now = utcnow()
    triage.set_priority(inquiry, "urgent", actor=officer, now=now)
    triage.set_topic(inquiry, inquiries.topic_by_code("media"), actor=officer, now=now)
    triage.set_tags(inquiry, ["  Ukraine ", "ukraine", "Follow up"], actor=officer, now=now)
    triage.set_status(inquiry, "resolved", actor=officer, now=now)
    db.session.commit()
    assert (inquiry.priority, inquiry.priority_rank) == ("urgent", 4)
    assert inquiry.topic.code == "media"
    assert [tag.name for tag in inquiry.tags] == ["follow up", "ukraine"]
    assert inquiry.status == "resolved" and inquiry.resolved_at == now and inquiry.due_at is None
    with pytest.raises(triage.InvalidValue):
        triage.set_status(inquiry, "bogus", actor=officer, now=now)
    with pytest.raises(triage.InvalidValue):
        triage.set_tags(inquiry, ["x" * 61], actor=officer, now=now)
    assert "inquiry.tags_changed" in _actions(inquiry)


def test_note_is_internal(app) -> None:
    officer = make_user(role="officer")
    inquiry = make_inquiry()
    note = triage.add_note(inquiry, "Checked with IRCC", actor=officer, now=utcnow())
    db.session.commit()
    assert note.kind == MessageKind.NOTE.value
    assert note not in inquiries.public_thread(inquiry)
    assert db.session.scalar(select(OutgoingEmail).where(OutgoingEmail.cause_key.like("%note%"))) is None


@pytest.mark.parametrize("language", ["en", "fr"])
def test_reply_is_threaded_tagged_and_moves_to_waiting(app, language: str) -> None:
    officer = make_user(role="officer", name="Marie Tremblay")
    inquiry = make_inquiry(language=language)
    reply = correspondence.send_reply(inquiry, "Here is the answer.", actor=officer, now=utcnow())
    db.session.commit()
    assert inquiry.status == Status.WAITING.value and inquiry.first_response_at is not None
    assert inquiry.due_at is None  # paused while waiting on the stakeholder
    cause = f"inquiry:{inquiry.id}:reply:{reply.id}"
    row = db.session.scalar(select(OutgoingEmail).where(OutgoingEmail.cause_key == cause))
    # Issue 10 defect 8: one thread with the confirmation, its subject after "Re: ".
    confirmation = db.session.scalar(select(OutgoingEmail).where(
        OutgoingEmail.cause_key == f"inquiry:{inquiry.id}:confirmation"))
    assert row.subject == f"Re: {confirmation.subject}"
    assert row.extra_headers["In-Reply-To"] == row.extra_headers["References"] == confirmation.message_id
    assert row.from_address == ("Bureau des demandes <inquiries@example.org>" if language == "fr"
                                else "Inquiry Desk <inquiries@example.org>")
    assert row.language == language and row.to_address == inquiry.contact.email
    assert reply.email_message_id == row.message_id
    assert "Here is the answer." in row.body_text and "Marie Tremblay" in row.body_text
    assert ("Référence" if language == "fr" else "Reference") in row.body_text
    second = correspondence.send_reply(inquiry, "And more.", actor=officer, now=utcnow(), next_status="open")
    db.session.commit()
    second_row = db.session.scalar(select(OutgoingEmail).where(OutgoingEmail.message_id == second.email_message_id))
    assert second_row.extra_headers["In-Reply-To"] == reply.email_message_id
    assert second_row.extra_headers["References"] == f"{confirmation.message_id} {reply.email_message_id}"
    assert second_row.subject == row.subject
    assert inquiry.status == "open"


def test_first_response_is_set_once(app) -> None:
    officer = make_user(role="officer")
    inquiry = make_inquiry()
    start = utcnow()
    correspondence.send_reply(inquiry, "One", actor=officer, now=start)
    correspondence.send_reply(inquiry, "Two", actor=officer, now=start + timedelta(hours=1))
    assert inquiry.first_response_at == start


def test_stale_reply_raises_a_version_conflict(app) -> None:
    first, second = make_user(role="officer"), make_user(role="officer")
    inquiry = make_inquiry()
    seen = inquiry.version
    correspondence.send_reply(inquiry, "First answer", actor=first, now=utcnow(), seen_version=seen)
    db.session.commit()
    with pytest.raises(triage.VersionConflict) as caught:
        correspondence.send_reply(inquiry, "Second answer", actor=second, now=utcnow(), seen_version=seen)
    assert "inquiry.replied" in caught.value.changes
    db.session.rollback()
    replies = db.session.scalars(select(Message).where(Message.inquiry_id == inquiry.id,
                                                       Message.kind == MessageKind.REPLY.value)).all()
    assert len(replies) == 1


def test_merge_moves_the_thread_closes_the_duplicate_and_tells_the_requester(app) -> None:
    lead = make_user(role="lead")
    keep = make_inquiry(subject="Original")
    duplicate = make_inquiry(subject="Same again", language="fr")
    correspondence.merge_and_notify(duplicate, keep, actor=lead, now=utcnow())
    db.session.commit()
    db.session.expire_all()
    assert duplicate.status == "closed" and duplicate.merged_into_id == keep.id
    assert [m.body for m in keep.messages] == ["Body of the question", "Body of the question"]
    assert duplicate.messages == []
    cause = f"inquiry:{duplicate.id}:merged:%"
    notice = db.session.scalar(select(OutgoingEmail).where(OutgoingEmail.cause_key.like(cause)))
    assert notice.to_address == "farida@example.net" and keep.reference in notice.subject and notice.language == "fr"
    assert "inquiry.merged_into" in _actions(duplicate) and "inquiry.merged_from" in _actions(keep)


def test_only_leads_merge_and_undo_within_seven_days(app) -> None:
    officer, lead = make_user(role="officer"), make_user(role="lead")
    keep, duplicate = make_inquiry(), make_inquiry(subject="Again")
    with pytest.raises(triage.NotAllowed):
        triage.merge(duplicate, keep, actor=officer, now=utcnow())
    merged_at = utcnow()
    triage.merge(duplicate, keep, actor=lead, now=merged_at)
    db.session.commit()
    with pytest.raises(triage.InvalidValue):
        triage.unmerge(duplicate, actor=lead, now=merged_at + timedelta(days=8))
    triage.unmerge(duplicate, actor=lead, now=merged_at + timedelta(days=6))
    db.session.commit()
    db.session.expire_all()
    assert duplicate.merged_into_id is None and duplicate.status == "new"
    assert len(duplicate.messages) == 1 and len(keep.messages) == 1


def test_merge_refuses_itself_and_chains(app) -> None:
    lead = make_user(role="lead")
    a, b, c = make_inquiry(), make_inquiry(subject="b"), make_inquiry(subject="c")
    with pytest.raises(triage.InvalidValue):
        triage.merge(a, a, actor=lead, now=utcnow())
    triage.merge(b, a, actor=lead, now=utcnow())
    with pytest.raises(triage.InvalidValue):
        triage.merge(c, b, actor=lead, now=utcnow())


def test_bulk_changes_each_and_counts_refusals(app) -> None:
    first, second = make_user(role="officer"), make_user(role="officer")
    mine = [make_inquiry(email=f"r{n}@example.org") for n in range(3)]
    held = make_inquiry(email="held@example.org")
    triage.assign(held, first, actor=first, now=utcnow())
    db.session.commit()
    result = triage.bulk([i.id for i in [*mine, held]], "assign", None, actor=second, now=utcnow(), assignee=second)
    db.session.commit()
    assert (result.changed, result.refused) == (3, 1)
    assert held.assignee_id == first.id
    result = triage.bulk([i.id for i in mine], "tag", "Batch", actor=second, now=utcnow())
    assert result.changed == 3 and all([t.name for t in i.tags] == ["batch"] for i in mine)
    result = triage.bulk([i.id for i in mine], "close", None, actor=second, now=utcnow())
    assert all(i.status == "closed" for i in mine)
