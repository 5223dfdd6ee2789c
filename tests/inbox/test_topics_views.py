"""Leads rename topics in both languages and add new ones (issue 10); each change audited."""

from __future__ import annotations

from sqlalchemy import select

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.models import Topic

from ..helpers import form_errors, make_inquiry, page


def test_a_lead_renames_a_topic_and_inquiries_keep_it(app, signed_in) -> None:
    lead = signed_in("lead")
    inquiry = make_inquiry()
    topic = inquiry.topic
    soup = page(lead.get("/staff/topics/"))
    assert soup.select_one(f"#topic{topic.id}-name_fr")["value"] == topic.name_fr
    response = lead.post(f"/staff/topics/{topic.id}", data={f"topic{topic.id}-name_en": "Something else",
                                                             f"topic{topic.id}-name_fr": "Autre chose"})
    assert response.status_code == 302
    db.session.expire_all()
    renamed = db.session.get(Topic, topic.id)
    assert (renamed.name_en, renamed.name_fr, renamed.code) == ("Something else", "Autre chose", topic.code)
    assert inquiry.topic_id == topic.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "topic.renamed"))
    assert event.actor_id == lead.user.id and event.details["after"]["name_fr"] == "Autre chose"
    assert "Autre chose" in page(client_get_fr(app)).get_text()


def client_get_fr(app):
    return app.test_client().get("/fr/demande")


def test_a_lead_adds_a_topic_offered_on_the_form(app, signed_in) -> None:
    lead = signed_in("lead")
    response = lead.post("/staff/topics/new", data={"new-name_en": "Health care", "new-name_fr": "Soins de santé"})
    assert response.status_code == 302
    topic = db.session.scalar(select(Topic).where(Topic.code == "health_care"))
    assert topic.name_fr == "Soins de santé"
    assert "Health care" in page(app.test_client().get("/en/inquiry")).get_text()


def test_a_name_is_needed_in_both_languages_and_once_only(app, signed_in) -> None:
    lead = signed_in("lead")
    soup = page(lead.post("/staff/topics/new", data={"new-name_en": "Health care", "new-name_fr": " "}), status=422)
    assert "Enter the name in French." in form_errors(soup)
    existing = db.session.scalars(select(Topic)).first()
    soup = page(lead.post("/staff/topics/new", data={"new-name_en": existing.name_en, "new-name_fr": "Neuf"}),
                status=409)
    assert "Another topic already has this name." in soup.get_text()


def test_officers_may_not_edit_topics(app, signed_in) -> None:
    assert signed_in("officer").get("/staff/topics/").status_code == 403
