"""A bulletin from writing to the archive in a real browser, with the keyboard alone, axe-core in both languages.

An officer writes it in English and French, reads the previews and submits it; a lead
(in French) reviews and approves it; the officer schedules it two minutes ahead (the scheduler's job
then runs on a clock moved to that time, so the test does not wait); the page's progress bar
follows the send (the scheduler's job and a mail worker run here, against a real SMTP
sink) without a reload; the bulletin is then in the public archive in both languages.
"""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from flask import Flask

from inquiry_desk.core.clock import team_timezone, utcnow

from ..mail.smtp_server import SmtpSink, smtp_sink  # noqa: F401
from .support import Page, assert_accessible, create_user, expect, sign_in_with_cookie, switch_language

pytestmark = [pytest.mark.browser, pytest.mark.allow_smtp]


@pytest.fixture
def live_app(app_factory, smtp_sink: SmtpSink) -> Flask:  # noqa: F811
    return app_factory(WTF_CSRF_ENABLED=True, **smtp_sink.app_config())


def _tab_to(page: Page, selector: str, limit: int = 120) -> None:
    target = page.locator(selector)
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def _type_into(page: Page, selector: str, text: str) -> None:
    _tab_to(page, selector)
    page.keyboard.insert_text(text)


def _audience(app: Flask) -> int:
    from inquiry_desk.core.extensions import db
    from inquiry_desk.mailing import services

    with app.app_context():
        fields = services.ListFields(name_en="Partner news", name_fr="Nouvelles des partenaires", public=True)
        mailing_list = services.save_list(None, fields, actor=None, now=utcnow())
        for email, lang in (("anna@example.net", "en"), ("benoit@example.net", "fr")):
            services.add_member(mailing_list, email, name=None, language=lang, consent_source="phone", actor=None,
                                now=utcnow())
        db.session.commit()
        return mailing_list.id


def test_write_preview_submit_approve_send_follow_and_find_in_the_archive(
        live_app: Flask, live_server: str, page_factory, smtp_sink: SmtpSink) -> None:  # noqa: F811
    live_app.config["BASE_URL"] = live_server
    list_id = _audience(live_app)
    officer = create_user(live_app, role="officer")
    lead = create_user(live_app, role="lead")

    page = page_factory("en")
    sign_in_with_cookie(page, live_app, live_server, officer)
    page.goto(f"{live_server}/staff/bulletins/new")
    assert_accessible(page)
    _type_into(page, "#sender_name", "Dedicated Stakeholder Team")
    _tab_to(page, f"input[name=lists][value='{list_id}']")
    page.keyboard.press("Space")
    _type_into(page, "#title_en", "Winter update")
    _type_into(page, "#subject_en", "Winter update for partners")
    _type_into(page, "#body_en", "## News\n\nRead the [winter guide](https://example.org/winter).")
    _type_into(page, "#title_fr", "Le point de l’hiver")
    _type_into(page, "#subject_fr", "Le point de l’hiver pour les partenaires")
    _type_into(page, "#body_fr", "## Nouvelles\n\nLisez le [guide de l’hiver](https://example.org/hiver).")
    _tab_to(page, "main form [type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Winter update")
    expect(page.locator("[data-text=fr]")).to_contain_text("Lisez le")
    expect(page.locator("iframe.preview-phone").first).to_be_visible()
    frame = page.frame_locator("iframe.preview-desktop").nth(1)
    expect(frame.locator("h1")).to_have_text("Le point de l’hiver")
    assert_accessible(page)
    _tab_to(page, "form[action$='/submit'] button")
    page.keyboard.press("Enter")
    expect(page.locator("[data-status]").first).to_have_attribute("data-status", "submitted")

    reviewer = page_factory("fr")
    sign_in_with_cookie(reviewer, live_app, live_server, lead, lang="fr")
    bulletin_path = page.url.removeprefix(live_server)
    reviewer.goto(f"{live_server}{bulletin_path}/review")
    expect(reviewer.locator("html")).to_have_attribute("lang", "fr")
    assert_accessible(reviewer)
    _tab_to(reviewer, "form[data-approve] [type=submit]")
    reviewer.keyboard.press("Enter")
    expect(reviewer.locator(".notice-success")).to_contain_text("Approuvé")
    assert_accessible(reviewer)

    page.goto(f"{live_server}{bulletin_path}")
    assert_accessible(page)
    # A minute or two ahead, typed as a person would (en-CA date fields take month, day, year here). The
    # scheduler's job is then run on a clock moved to that time rather than waited for.
    with live_app.app_context():
        at = (utcnow() + timedelta(minutes=2)).astimezone(team_timezone()).replace(second=0, microsecond=0)
    _tab_to(page, "form[data-schedule] input[value=now]")
    page.keyboard.press("ArrowDown")  # the radio group's next choice: at a date and time
    _tab_to(page, "form[data-schedule] input[type=date]")
    page.keyboard.type(at.strftime("%m%d%Y"))
    _tab_to(page, "form[data-schedule] input[type=time]")
    page.keyboard.type(at.strftime("%I%M") + ("A" if at.hour < 12 else "P"))
    _tab_to(page, "form[data-schedule] [type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("[data-status]").first).to_have_attribute("data-status", "scheduled")
    expect(page.locator("[data-bulletin-progress] progress")).to_be_visible()

    from inquiry_desk.bulletins import dispatch

    from ..mail.send_support import drain, worker

    with live_app.app_context():
        assert dispatch.run(utcnow()) == "started 0, sent 0"  # not yet
        assert dispatch.run(at.astimezone(UTC)) == "started 1, sent 0"  # its time
    expect(page.locator("[data-count=queued]")).to_have_text("2")  # no reload: the page polls
    with live_app.app_context():
        drain(worker(live_app), now=at.astimezone(UTC) + timedelta(seconds=1))
    box = page.locator("[data-bulletin-progress]")
    expect(box).to_have_attribute("data-finished", "sending")
    expect(page.locator("[data-count=sent]")).to_have_text("2")
    assert page.locator("#send-progress").evaluate("bar => bar.value === bar.max")
    expect(page.locator("[data-progress-message]")).to_contain_text("2 of 2")
    assert sorted(smtp_sink.recipients()) == ["anna@example.net", "benoit@example.net"]
    assert_accessible(page)

    archive = page_factory("fr")
    archive.goto(f"{live_server}/fr/bulletins")
    assert_accessible(archive)
    _tab_to(archive, "[data-archive] a")
    archive.keyboard.press("Enter")
    expect(archive.locator("h1")).to_have_text("Le point de l’hiver")
    assert_accessible(archive)
    switch_language(archive, "en")
    expect(archive.locator("h1")).to_have_text("Winter update")
    assert_accessible(archive)


def test_a_lead_starts_a_series_with_the_keyboard_and_reads_it_in_both_languages(
        live_app: Flask, live_server: str, page_factory) -> None:
    """The series pages, keyboard only, axe-core clean in English and French."""
    live_app.config["BASE_URL"] = live_server
    list_id = _audience(live_app)
    lead = create_user(live_app, role="lead")
    page = page_factory("en")
    sign_in_with_cookie(page, live_app, live_server, lead)
    page.goto(f"{live_server}/staff/bulletins/series/")
    assert_accessible(page)
    _tab_to(page, "main a[href$='/series/new']")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Start a series")
    assert_accessible(page)
    _type_into(page, "#name", "Weekly partner update")
    _tab_to(page, "#at")
    page.keyboard.type("1000A")  # Thursday (the default day) at 10:00 a.m.
    _type_into(page, "#sender_name", "Dedicated Stakeholder Team")
    _tab_to(page, f"input[name=lists][value='{list_id}']")
    page.keyboard.press("Space")
    _type_into(page, "#title_en", "Partner update")
    _type_into(page, "#title_fr", "Le point des partenaires")
    _tab_to(page, "form[data-series-form] [type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Weekly partner update")
    expect(page.locator("main")).to_contain_text("Weekly, on Thursday at 10:00")
    expect(page.locator("[data-upcoming] tbody tr")).to_have_count(6)
    assert_accessible(page)
    _tab_to(page, "[data-upcoming] tbody tr:first-child button")
    page.keyboard.press("Enter")
    expect(page.locator("[data-upcoming] tbody tr").first.locator("[data-state]")).to_have_attribute(
        "data-state", "skipped")
    switch_language(page, "fr")
    expect(page.locator("main")).to_contain_text("Chaque semaine, le jeudi à 10 h 00")
    assert_accessible(page)
    _tab_to(page, "form[action$='/pause'] button")
    page.keyboard.press("Enter")
    expect(page.locator("[data-series-status]").first).to_have_attribute("data-series-status", "paused")
    assert_accessible(page)
