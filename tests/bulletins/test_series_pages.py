"""The series pages: a lead starts a series, reads its next editions, skips one, pauses, resumes and ends it;
an officer reads but may not start one; a held edition's page offers a lead to send it late."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.bulletins import dispatch
from inquiry_desk.bulletins.models import Bulletin, BulletinSeries, SeriesOccurrence
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db

from ..helpers import form_errors, make_user, page, sign_in
from .series_support import approve
from .support import BODY_EN, BODY_FR, make_list

FORM = {"name": "Weekly partner update", "rule": "weekly", "weekday": "4", "business_day": "1", "at": "10:00",
        "lead_days": "3", "lead_hours": "0", "sender_name": "Dedicated Stakeholder Team",
        "title_en": "Partner update", "title_fr": "Le point des partenaires", "subject_en": "Partner update",
        "subject_fr": "Le point des partenaires", "body_en": BODY_EN, "body_fr": BODY_FR}


def test_a_lead_starts_a_series_skips_pauses_resumes_and_ends_it(app: Flask) -> None:
    mailing_list = make_list()
    lead = make_user(role="lead", language="fr")
    officer = make_user(role="officer")
    client = app.test_client()
    sign_in(client, officer)
    assert client.get("/staff/bulletins/series/new").status_code == 403
    assert client.get("/staff/bulletins/series/").status_code == 200
    client = app.test_client()
    sign_in(client, lead)
    with client.session_transaction() as session:
        session["lang"] = "fr"
    soup = page(client.get("/staff/bulletins/series/new"), lang="fr")
    assert soup.select_one("textarea#body_fr")["lang"] == "fr"
    assert form_errors(page(client.post("/staff/bulletins/series/new", data={
        **FORM, "lists": [str(mailing_list.id)], "rule": "monthly", "business_day": "12"}), lang="fr"))
    response = client.post("/staff/bulletins/series/new", data={**FORM, "lists": [str(mailing_list.id)],
                                                                "editors": [str(officer.id)]})
    assert response.status_code == 302, form_errors(page(response, lang="fr"))
    item = db.session.scalar(select(BulletinSeries))
    assert (item.weekday, item.at_minute, item.lead_minutes, item.editor_ids) == (4, 600, 3 * 24 * 60, [officer.id])
    soup = page(client.get(response.location), lang="fr")
    assert "Chaque semaine, le jeudi à 10 h 00" in soup.get_text(" ")
    upcoming = soup.select("[data-upcoming] tbody tr")
    assert len(upcoming) == 6
    first = upcoming[0].select_one("input[name=at]")["value"]
    assert client.post(f"/staff/bulletins/series/{item.id}/skip", data={"at": first}).status_code == 302
    soup = page(client.get(f"/staff/bulletins/series/{item.id}"), lang="fr")
    assert soup.select("[data-upcoming] tbody tr")[0].select_one("[data-state]")["data-state"] == "skipped"
    for action, status in (("pause", "paused"), ("resume", "active"), ("end", "ended")):
        assert client.post(f"/staff/bulletins/series/{item.id}/{action}").status_code == 302
        db.session.expire_all()
        assert db.session.get(BulletinSeries, item.id).status == status
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.subject_type == "bulletin_series")
                                      .order_by(AuditEvent.id)))
    assert actions == ["bulletin_series.created", "bulletin_series.skipped", "bulletin_series.paused",
                       "bulletin_series.resumed", "bulletin_series.ended"]
    soup = page(client.get("/staff/bulletins/series/"), lang="fr")
    assert soup.select_one("[data-series-status]")["data-series-status"] == "ended"


def test_a_held_edition_shows_why_and_a_lead_sends_it_late(app: Flask) -> None:
    mailing_list = make_list()
    lead = make_user(role="lead")
    client = app.test_client()
    sign_in(client, lead)
    response = client.post("/staff/bulletins/series/new", data={**FORM, "lists": [str(mailing_list.id)],
                                                                "lead_days": "31"})
    assert response.status_code == 302
    now = utcnow()
    dispatch.run(now)
    occurrence = db.session.scalar(select(SeriesOccurrence).order_by(SeriesOccurrence.occurs_at))
    soup = page(client.get(f"/staff/bulletins/{occurrence.bulletin_id}"))
    assert soup.select_one("[data-edition]")["data-edition"] == "created"
    assert not soup.select("form[data-schedule]")  # an edition has its time
    dispatch.run(occurrence.occurs_at)  # a draft at its time: held
    soup = page(client.get(f"/staff/bulletins/{occurrence.bulletin_id}"))
    assert soup.select_one("[data-edition]")["data-edition"] == "held"
    assert not soup.select("form[data-send-late]")  # not approved yet
    db.session.expire_all()
    approve(db.session.get(Bulletin, occurrence.bulletin_id), now=occurrence.occurs_at + timedelta(minutes=5))
    soup = page(client.get(f"/staff/bulletins/{occurrence.bulletin_id}"))
    form = soup.select_one("form[data-send-late]")
    assert client.post(form["action"]).status_code == 302
    db.session.expire_all()
    assert db.session.get(SeriesOccurrence, occurrence.id).state == "sent_late"
