"""Bulk priority and bulk topic beside bulk assign (issue 10): confirmed first, each inquiry audited."""

from __future__ import annotations

from sqlalchemy import select

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import services as inquiries
from inquiry_desk.inquiries.models import Inquiry

from ..helpers import make_inquiry, page

BULK = "/staff/inquiries/bulk"


def test_bulk_priority_and_topic(app, signed_in) -> None:
    officer = signed_in("officer")
    made = [make_inquiry(email=f"p{n}@example.org") for n in range(2)]
    ids = [str(i.id) for i in made]
    inbox = page(officer.get("/staff/inquiries/?queue=all"))
    options = {option["value"]: option.get_text() for option in inbox.select("#action option")}
    assert options["priority_urgent"] == "Set priority: Urgent"
    assert options["topic_eligibility"].startswith("Set topic: ")
    soup = page(officer.post(BULK, data={"selected": ids, "action": "priority_urgent"}))
    assert "Set priority: Urgent" in soup.select_one(".confirm-panel").get_text()
    assert officer.post(BULK, data={"selected": ids, "action": "priority_urgent",
                                    "confirmed": "yes"}).status_code == 302
    assert officer.post(BULK, data={"selected": ids, "action": "topic_eligibility",
                                    "confirmed": "yes"}).status_code == 302
    db.session.expire_all()
    topic = inquiries.topic_by_code("eligibility")
    for inquiry in made:
        changed = db.session.get(Inquiry, inquiry.id)
        assert (changed.priority, changed.priority_rank, changed.topic_id) == ("urgent", 4, topic.id)
    events = db.session.scalars(select(AuditEvent.action).where(AuditEvent.subject_type == "inquiry",
                                                                AuditEvent.actor_id == officer.user.id)).all()
    assert events.count("inquiry.priority_changed") == 2 and events.count("inquiry.topic_changed") == 2


def test_a_bulk_value_not_on_the_list_changes_nothing(app, signed_in) -> None:
    officer = signed_in("officer")
    inquiry = make_inquiry()
    for action in ("priority_extreme", "topic_nothing", "topic_"):
        response = officer.post(BULK, data={"selected": [str(inquiry.id)], "action": action, "confirmed": "yes"})
        assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Inquiry, inquiry.id).priority == "normal"


def test_viewers_cannot_change_in_bulk(app, signed_in) -> None:
    inquiry = make_inquiry()
    assert signed_in("viewer").post(BULK, data={"selected": [str(inquiry.id)], "action": "priority_high",
                                                "confirmed": "yes"}).status_code == 403
