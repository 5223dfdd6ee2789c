"""Issue 10 in a real browser: a merge across two stakeholders is refused and a link offered; a
stakeholder's reply to a closed inquiry through the portal reopens it and its assignee is emailed.

Data is made through the services in the live app's database; staff sign in with a session
cookie (``support.sign_in_with_cookie``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask

from .conftest import WAIT_SECONDS
from .support import Page, assert_accessible, create_user, expect, sign_in_with_cookie

pytestmark = pytest.mark.browser

INBOX = "/staff/inquiries/"


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_merge_across_stakeholders_is_refused_and_a_link_offered(page_factory: Callable[..., Page],
                                                                 live_app: Flask, live_server: str,
                                                                 lang: str) -> None:
    from inquiry_desk.core.extensions import db
    from inquiry_desk.inquiries.models import Inquiry

    from ..helpers import make_inquiry

    lead = create_user(live_app, role="lead", name="Léa Gagnon")
    with live_app.app_context():
        keep = make_inquiry(email="amal@example.org", subject="Family of five", body="Amal writes")
        other = make_inquiry(email="bruno@example.org", subject="The same family", body="Bruno writes")
        from inquiry_desk.accounts.models import User
        from inquiry_desk.core.clock import utcnow
        from inquiry_desk.inquiries.lifecycle import place_hold

        place_hold(keep, "ATIP A-2026-0042", actor=db.session.get(User, lead.id), now=utcnow())
        db.session.commit()
        keep_id, keep_ref, other_id, other_ref = keep.id, keep.reference, other.id, other.reference
    page = page_factory(lang)
    sign_in_with_cookie(page, live_app, live_server, lead, lang)
    page.goto(f"{live_server}{INBOX}{other_id}")
    page.locator("#target").fill(keep_ref)
    page.locator("#merge-submit").click()

    refused = {"en": "cannot be merged", "fr": "ne peuvent pas être fusionnées"}[lang]
    expect(page.locator("main > .notice-error")).to_contain_text(refused)
    offer = page.locator("[data-testid=offer-link]")
    expect(offer).to_contain_text(keep_ref)
    assert_accessible(page)
    page.locator("#offer-link-submit").click()

    expect(page.locator("main > .notice-success")).to_be_visible()
    expect(page.locator("[data-testid=offer-link]")).to_have_count(0)
    page.locator(f"[data-testid=linked] a[href$='{INBOX}{keep_id}']").click()
    expect(page).to_have_url(f"{live_server}{INBOX}{keep_id}")
    expect(page.locator(f"[data-testid=linked] a[href$='{INBOX}{other_id}']")).to_have_text(other_ref)
    # Nothing moved: each thread has its own stakeholder's message only.
    expect(page.locator(".thread-inbound .thread-body")).to_have_text(["Amal writes"])
    expect(page.locator("[data-testid=hold]")).to_contain_text("ATIP A-2026-0042")
    assert_accessible(page)  # the linked panel with its unlink button, the hold notice
    with live_app.app_context():
        assert db.session.get(Inquiry, other_id).merged_into_id is None


def test_a_portal_reply_to_a_closed_inquiry_reopens_it_and_emails_the_assignee(
        page_factory: Callable[..., Page], live_app: Flask, live_server: str) -> None:
    from sqlalchemy import select

    from inquiry_desk.accounts.models import User
    from inquiry_desk.core.clock import utcnow
    from inquiry_desk.core.extensions import db
    from inquiry_desk.inquiries import services as inquiries
    from inquiry_desk.inquiries import triage
    from inquiry_desk.inquiries.models import Inquiry
    from inquiry_desk.mail.models import OutgoingEmail

    from ..helpers import make_inquiry
    from ..intake.mailbox import sent_messages

    officer = create_user(live_app, role="officer", name="Omar Haddad", language="fr")
    with live_app.app_context():
        now = utcnow()
        user = db.session.get(User, officer.id)
        inquiry = make_inquiry(email="farida@example.net", subject="Travel loan", now=now - timedelta(days=5))
        triage.assign(inquiry, user, actor=user, now=now - timedelta(days=4))
        triage.set_status(inquiry, "closed", actor=user, now=now - timedelta(days=2))
        _link, token = inquiries.create_portal_link(inquiry, now=now)
        db.session.commit()
        inquiry_id, reference = inquiry.id, inquiry.reference

    page = page_factory("en")
    page.goto(f"{live_server}/en/portal/{token}")
    expect(page.locator("[data-testid=status]")).to_have_text("Closed")
    page.locator("textarea[name=message]").fill("Sorry, one more question about the loan.")
    page.locator("form button[type=submit], form input[type=submit]").last.click()
    expect(page.locator(".notice-success")).to_contain_text("Your reply was sent to the team.")
    expect(page.locator("[data-testid=status]")).not_to_have_text("Closed")
    assert_accessible(page)

    with live_app.app_context():
        assert db.session.get(Inquiry, inquiry_id).status == "open"
        queued = db.session.scalars(select(OutgoingEmail).where(
            OutgoingEmail.cause_key.like(f"inquiry:{inquiry_id}:stakeholder-reply:%"))).all()
        assert [(row.to_address, row.language) for row in queued] == [(officer.email, "fr")]
        subject = queued[0].subject
    assert reference in subject
    deadline = time.monotonic() + WAIT_SECONDS
    while not any(message["Subject"] == subject for message in sent_messages(live_app)):
        assert time.monotonic() < deadline, f"not sent; sent: {[m['Subject'] for m in sent_messages(live_app)]}"
        time.sleep(0.05)

    # The assignee sees the reply marked in the inbox, until they open the inquiry.
    staff = page_factory("fr")
    sign_in_with_cookie(staff, live_app, live_server, officer, "fr")
    staff.goto(f"{live_server}{INBOX}?queue=mine")
    row = staff.locator(f"tbody tr:has(a[href$='{INBOX}{inquiry_id}'])")
    expect(row.locator(".badge-new-reply")).to_have_text("Nouvelle réponse")
    row.locator(f"a[href$='{INBOX}{inquiry_id}']").click()
    staff.goto(f"{live_server}{INBOX}?queue=mine")
    expect(staff.locator(".badge-new-reply")).to_have_count(0)
