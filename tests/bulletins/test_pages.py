"""The staff pages: compose in both languages, preview, test send, submit, review and approve, schedule, progress."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from inquiry_desk.bulletins import dispatch
from inquiry_desk.bulletins.models import Bulletin
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.mail.models import OutgoingEmail

from ..helpers import form_errors, make_user, page, sign_in
from .support import BODY_EN, BODY_FR, make_list, subscribe

FORM = {"sender_name": "Dedicated Stakeholder Team", "title_en": "December update", "title_fr": "Le point de décembre",
        "subject_en": "December update", "subject_fr": "Le point de décembre", "body_en": BODY_EN, "body_fr": BODY_FR}


def _client(app: Flask, role: str):
    user = make_user(role=role)
    client = app.test_client()
    sign_in(client, user)
    return client, user


def test_compose_preview_submit_approve_schedule_and_follow(app: Flask) -> None:
    mailing_list = make_list()
    subscribe(mailing_list, "anna@example.net", "en")
    subscribe(mailing_list, "benoit@example.net", "fr")
    officer, _author = _client(app, "officer")
    soup = page(officer.get("/staff/bulletins/new"))
    assert soup.select_one("textarea#body_fr")["lang"] == "fr"
    response = officer.post("/staff/bulletins/new", data={**FORM, "lists": [str(mailing_list.id)]})
    assert response.status_code == 302
    bulletin = db.session.scalar(select(Bulletin))
    soup = page(officer.get(response.location))
    assert [frame["src"] for frame in soup.select("iframe")] == [
        f"/staff/bulletins/{bulletin.id}/preview/{lang}" for lang in ("en", "en", "fr", "fr")]
    assert "Lisez le [guide du parrainage]" in soup.select_one("[data-text=fr]").get_text()
    preview = officer.get(f"/staff/bulletins/{bulletin.id}/preview/fr")
    assert preview.status_code == 200 and "script-src" not in preview.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in preview.headers["Content-Security-Policy"]
    assert "Le point de décembre" in preview.get_data(as_text=True)

    assert officer.post(f"/staff/bulletins/{bulletin.id}/test", data={"addresses": ""}).status_code == 302
    assert {e.subject for e in db.session.scalars(select(OutgoingEmail))} == {
        "[TEST] December update", "[TEST] Le point de décembre"}
    officer.post(f"/staff/bulletins/{bulletin.id}/submit")
    db.session.expire_all()
    assert db.session.get(Bulletin, bulletin.id).status == "submitted"

    lead, approver = _client(app, "lead")
    soup = page(lead.get(f"/staff/bulletins/{bulletin.id}/review"))
    rows = {row.th.get_text(strip=True): [td.get_text(strip=True) for td in row.select("td")]
            for row in soup.select("[data-recipients] tbody tr")}
    assert rows == {"Partner news": ["1", "1", "2"]}
    assert soup.select_one("[data-findings-none]")
    response = lead.post(f"/staff/bulletins/{bulletin.id}/approve", data={"version": "1"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Bulletin, bulletin.id).status == "approved"

    # A time skipped by the spring change, then one in the past: refused with a message.
    response = officer.post(f"/staff/bulletins/{bulletin.id}/schedule",
                            data={"when": "later", "day": "2027-03-14", "at": "02:30"}, follow_redirects=True)
    assert "does not exist" in response.get_data(as_text=True)
    response = officer.post(f"/staff/bulletins/{bulletin.id}/schedule",
                            data={"when": "later", "day": "2020-01-01", "at": "10:00"}, follow_redirects=True)
    assert "already passed" in response.get_data(as_text=True)
    officer.post(f"/staff/bulletins/{bulletin.id}/schedule", data={"when": "now"})
    db.session.expire_all()
    assert db.session.get(Bulletin, bulletin.id).status == "scheduled"
    soup = page(officer.get(f"/staff/bulletins/{bulletin.id}"))
    assert soup.select_one("[data-bulletin-progress] progress")
    dispatch.run(utcnow() + timedelta(seconds=1))
    state = officer.get(f"/staff/bulletins/{bulletin.id}/progress").get_json()
    assert state["status"] == "sending" and state["total"] == 2 and state["counts"]["queued"] == 2
    soup = page(officer.get(f"/staff/bulletins/{bulletin.id}?q=BENOIT"))
    assert [row.th.get_text() for row in soup.select("[data-delivery-log] tbody tr")] == ["benoit@example.net"]
    record = lead.get(f"/staff/bulletins/{bulletin.id}/record.json")
    assert record.status_code == 200 and record.get_json()["total"] == 2
    assert record.get_json()["approved_by"] == approver.id


def test_the_author_sees_that_another_lead_must_approve(app: Flask) -> None:
    mailing_list = make_list()
    lead, _author = _client(app, "lead")
    lead.post("/staff/bulletins/new", data={**FORM, "lists": [str(mailing_list.id)]})
    bulletin = db.session.scalar(select(Bulletin))
    lead.post(f"/staff/bulletins/{bulletin.id}/submit")
    soup = page(lead.get(f"/staff/bulletins/{bulletin.id}/review"))
    assert soup.select_one("[data-own]") and not soup.select_one("[data-approve]")
    response = lead.post(f"/staff/bulletins/{bulletin.id}/approve", data={"version": "1"}, follow_redirects=True)
    assert "another lead must approve" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Bulletin, bulletin.id).status == "submitted"


def test_the_form_names_what_is_missing(app: Flask) -> None:
    officer, _ = _client(app, "officer")
    soup = page(officer.post("/staff/bulletins/new", data={"sender_name": ""}))
    assert form_errors(soup)
    assert soup.title.get_text().startswith("Error")
