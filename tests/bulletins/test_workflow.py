"""Composition, the two-person rule, every transition, the voided approval, pre-send checks, schedules."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from sqlalchemy import select

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.bulletins import checks, rendering, services
from inquiry_desk.bulletins.models import BulletinTransition
from inquiry_desk.core.extensions import db
from inquiry_desk.mail.models import OutgoingEmail

from ..helpers import make_user
from .support import T0, approved, fields, make_bulletin, make_list


def _statuses(bulletin_id: int) -> list[tuple[str, str, int]]:
    return [(t.from_status, t.to_status, t.version) for t in db.session.scalars(
        select(BulletinTransition).where(BulletinTransition.bulletin_id == bulletin_id)
        .order_by(BulletinTransition.id))]


def test_markdown_is_sanitised_and_inlined(app: Flask) -> None:
    html = rendering.to_html("# T\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) "
                             "<img src=x onerror=alert(1)>\n\n**bold** [ok](https://example.org)")
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.find("script") and not soup.find(attrs={"onerror": True})
    assert all(not a["href"].startswith("javascript") for a in soup.find_all("a"))
    assert '<a href="https://example.org">ok</a>' in html
    email = rendering.render_bulletin(rendering.parts("Title", "Subject", "Some **text**"), "fr",
                                      sender_name="Équipe", archive_url=None, personal_links=True)
    assert "<style" not in (email.html or "") and 'style="' in (email.html or "")
    assert "**text**" in email.text and "%%UNSUBSCRIBE_URL%%" in email.text
    assert "Se désabonner" in email.text or "désabonner" in email.text


def test_the_author_and_every_editor_cannot_approve(app: Flask) -> None:
    mailing_list = make_list()
    author = make_user(role="lead")
    editor = make_user(role="lead")
    other = make_user(role="lead")
    bulletin = make_bulletin(author, (mailing_list.id,))
    services.edit(bulletin, fields((mailing_list.id,), title_en="November news"), actor=editor, now=T0)
    services.submit(bulletin, actor=author, now=T0)
    keys = [f.key for f in checks.run_checks(bulletin)]
    for lead in (author, editor):
        with pytest.raises(services.OwnBulletin):
            services.approve(bulletin, version=bulletin.version, acknowledged=keys, actor=lead, now=T0)
    officer = make_user(role="officer")
    with pytest.raises(services.NotLead):
        services.approve(bulletin, version=bulletin.version, acknowledged=keys, actor=officer, now=T0)
    with pytest.raises(services.StaleVersion):
        services.approve(bulletin, version=1, acknowledged=keys, actor=other, now=T0)
    services.approve(bulletin, version=bulletin.version, acknowledged=keys, actor=other, now=T0)
    db.session.commit()
    assert bulletin.status == "approved" and bulletin.approved_by_id == other.id and bulletin.approved_version == 2


def test_every_transition_is_recorded_with_its_version_and_an_edit_voids_the_approval(app: Flask) -> None:
    mailing_list = make_list()
    bulletin, author, approver = approved((mailing_list.id,))
    services.schedule(bulletin, T0 + timedelta(hours=2), actor=author, now=T0)
    services.edit(bulletin, fields((mailing_list.id,), body_en="## Changed\n\nNew text."), actor=author,
                  now=T0 + timedelta(minutes=1))
    db.session.commit()
    assert bulletin.status == "draft" and bulletin.approved_by_id is None and bulletin.scheduled_for is None
    with pytest.raises(services.WrongStatus):
        services.schedule(bulletin, None, actor=author, now=T0)
    services.submit(bulletin, actor=author, now=T0)
    services.return_to_draft(bulletin, "Add the French date.", actor=approver, now=T0)
    with pytest.raises(services.CommentRequired):
        services.submit(bulletin, actor=author, now=T0) or services.return_to_draft(bulletin, " ", actor=approver,
                                                                                     now=T0)
    services.cancel(bulletin, actor=approver, now=T0)
    db.session.commit()
    assert _statuses(bulletin.id) == [
        ("draft", "submitted", 1), ("submitted", "approved", 1), ("approved", "scheduled", 1),
        ("scheduled", "draft", 2), ("draft", "submitted", 2), ("submitted", "draft", 2),
        ("draft", "submitted", 2), ("submitted", "cancelled", 2)]
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.subject_type == "bulletin")
                                      .order_by(AuditEvent.id)))
    assert "bulletin.approved" in actions and "bulletin.edited_back_to_draft" in actions
    assert actions[-1] == "bulletin.cancelled"
    with pytest.raises(services.WrongStatus):
        services.edit(bulletin, fields((mailing_list.id,)), actor=author, now=T0)


def test_pre_send_checks_in_both_languages(app: Flask) -> None:
    mailing_list = make_list()
    author = make_user(role="officer")
    lead = make_user(role="lead")
    body_en = ("### Skipped\n\n![](https://example.org/a.png)\n\n[Click here](https://example.org)\n\n"
               "[old](http://example.org) [staff](http://localhost/staff/inbox)\n\n##\n")
    bulletin = make_bulletin(author, (mailing_list.id,), body_en=body_en, subject_en="x" * 79,
                             body_fr="[cliquez ici](https://example.org/fr)")
    found = {f.key for f in checks.run_checks(bulletin)}
    assert {"en:skipped_heading", "en:image_without_alt", "en:vague_link_text", "en:link_not_https",
            "en:subject_too_long", "en:empty_heading", "fr:vague_link_text"} <= found
    staff_url = app.config["BASE_URL"].rstrip("/") + "/staff/inbox"
    other = make_bulletin(author, (mailing_list.id,), body_en=f"[the inbox]({staff_url})")
    assert "en:link_to_staff" in {f.key for f in checks.run_checks(other)}
    services.submit(bulletin, actor=author, now=T0)
    with pytest.raises(services.ChecksNotAcknowledged):
        services.approve(bulletin, version=1, acknowledged=["en:skipped_heading"], actor=lead, now=T0)
    services.approve(bulletin, version=1, acknowledged=sorted(found), actor=lead, now=T0)
    db.session.commit()
    approval = _statuses(bulletin.id)[-1]
    assert approval == ("submitted", "approved", 1)


def test_a_missing_language_blocks_unless_a_lead_marks_single_language(app: Flask) -> None:
    mailing_list = make_list()
    author = make_user(role="officer")
    lead = make_user(role="lead")
    bulletin = make_bulletin(author, (mailing_list.id,), title_fr="", subject_fr="", body_fr="")
    services.submit(bulletin, actor=author, now=T0)
    assert [f.key for f in checks.run_checks(bulletin) if f.blocking] == ["fr:missing_language"]
    with pytest.raises(services.LanguageMissing):
        services.approve(bulletin, version=1, acknowledged=["fr:missing_language"], actor=lead, now=T0)
    with pytest.raises(services.ReasonRequired):
        services.mark_single_language(bulletin, "en", "", actor=lead, now=T0)
    with pytest.raises(services.NotLead):
        services.mark_single_language(bulletin, "en", "English-only partners", actor=author, now=T0)
    services.mark_single_language(bulletin, "en", "English-only partners", actor=lead, now=T0)
    services.approve(bulletin, version=1, acknowledged=[], actor=lead, now=T0)
    db.session.commit()
    assert bulletin.status == "approved" and bulletin.single_language_reason == "English-only partners"


def test_scheduling_in_the_team_time_zone_across_daylight_saving(app: Flask) -> None:
    # Toronto: clocks go back on 1 November 2026 (02:00 EDT -> 01:00 EST) and forward on 8 March 2026.
    assert app.config["TIMEZONE"] == "America/Toronto"
    before = services.local_to_utc(date(2026, 10, 31), time(10, 0))
    after = services.local_to_utc(date(2026, 11, 2), time(10, 0))
    assert before.hour == 14 and after.hour == 15  # EDT is UTC-4, EST is UTC-5
    with pytest.raises(services.TimeDoesNotExist):
        services.local_to_utc(date(2026, 3, 8), time(2, 30))
    assert services.local_to_utc(date(2026, 11, 1), time(1, 30)).hour == 5  # the first 01:30 (EDT)
    mailing_list = make_list()
    bulletin, author, _ = approved((mailing_list.id,))
    with pytest.raises(services.TimeInPast):
        services.schedule(bulletin, T0 - timedelta(minutes=1), actor=author, now=T0)
    services.schedule(bulletin, after.replace(year=2027), actor=author, now=T0)
    assert bulletin.scheduled_for == after.replace(year=2027)


def test_a_test_send_goes_through_the_outbox_marked_test_to_staff_only(app: Flask) -> None:
    mailing_list = make_list()
    author = make_user(role="officer")
    colleague = make_user(role="viewer")
    bulletin = make_bulletin(author, (mailing_list.id,))
    with pytest.raises(services.NotStaffAddress):
        services.test_send(bulletin, ["someone@example.net"], actor=author, now=T0)
    assert services.test_send(bulletin, [colleague.email, author.email], actor=author, now=T0) == 4
    db.session.commit()
    emails = list(db.session.scalars(select(OutgoingEmail).order_by(OutgoingEmail.id)))
    assert {e.subject for e in emails} == {"[TEST] November update for partners",
                                           "[TEST] Le point de novembre pour les partenaires"}
    assert {e.to_address for e in emails} == {colleague.email, author.email}
