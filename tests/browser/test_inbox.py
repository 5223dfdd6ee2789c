"""The staff inbox in a real browser: axe-core on its pages, and triage with the keyboard alone.

QUALITY.md A1 (axe-core finds no violation, every flow works with the keyboard
alone) and A2 (the error summary) on the queue list, the filters, search, the
inquiry page, the bulk confirmation, canned responses and the targets page, in
English and in French; issue 5 asks for the keyboard triage of a new inquiry
(assign, topic, a reply from a canned response) and for bulk changes.

Data is made through the services in the live app's database; staff sign in
with a session cookie (``support.sign_in_with_cookie``): the sign-in forms have
their own tests.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from .conftest import WAIT_SECONDS
from .support import BrowserUser, Page, assert_accessible, create_user, expect, sign_in_with_cookie

pytestmark = pytest.mark.browser

INBOX = "/staff/inquiries/"
ERROR_TITLE = {"en": "Error", "fr": "Erreur"}
SKIP_LINK = {"en": "Skip to main content", "fr": "Passer au contenu principal"}
SEARCH_WORD = "reunification"


@dataclass(frozen=True)
class Seeded:
    """What the tests need to know about the data they made (read while the app context was open)."""

    lead: BrowserUser
    officer: BrowserUser
    thread_id: int  # inbound, a reply and a note, tags, a trusted partner, history, another viewer
    thread_reference: str
    new_ids: tuple[int, ...]  # untriaged, newest first
    new_references: tuple[str, ...]
    canned_id: int


def _seed(app: Flask) -> Seeded:
    from inquiry_desk.core.clock import utcnow
    from inquiry_desk.core.extensions import db
    from inquiry_desk.inquiries import correspondence, presence, triage
    from inquiry_desk.inquiries import services as inquiries
    from inquiry_desk.inquiries.canned import services as canned

    from ..helpers import make_inquiry, make_organisation

    lead = create_user(app, role="lead", name="Léa Gagnon")
    officer = create_user(app, role="officer", name="Omar Haddad")
    with app.app_context():
        from inquiry_desk.accounts.models import User

        lead_user, officer_user = db.session.get(User, lead.id), db.session.get(User, officer.id)
        now = utcnow()
        make_organisation("Aman Lara", domains=("amanlara.org",))
        earlier = make_inquiry(email="farida@amanlara.org", subject="Housing after arrival",
                               now=now - timedelta(days=40))
        triage.set_status(earlier, "closed", actor=officer_user, now=now - timedelta(days=30))
        thread = make_inquiry(email="farida@amanlara.org", subject=f"Family {SEARCH_WORD} timeline",
                              body="Hello,\nWe are sponsoring a family of five.\nWhen will the file move?",
                              now=now - timedelta(days=3))
        triage.assign(thread, officer_user, actor=lead_user, now=now - timedelta(days=2))
        triage.set_topic(thread, inquiries.topic_by_code("private_sponsorship"), actor=officer_user,
                         now=now - timedelta(days=2))
        triage.set_priority(thread, "high", actor=officer_user, now=now - timedelta(days=2))
        triage.set_tags(thread, ["documents", "family"], actor=officer_user, now=now - timedelta(days=2))
        triage.add_note(thread, "Called the visa office: the file is complete.", actor=officer_user,
                        now=now - timedelta(days=2))
        correspondence.send_reply(thread, "Hello Farida,\nThe file is complete; we expect news within a month.",
                                  actor=officer_user, now=now - timedelta(days=1), next_status="open")
        presence.mark_viewing(thread.id, officer_user, now=now)  # the lead is told someone else is there
        overdue = make_inquiry(email="sam@example.net", subject="Urgent travel documents",
                               now=now - timedelta(days=10))
        fresh = make_inquiry(email="nadia@example.net", subject="Question sur le parrainage", language="fr",
                             body="Bonjour,\nQuels documents faut-il envoyer?")
        response = canned.create(
            title_en="Acknowledgement", title_fr="Accusé de réception",
            body_en="Hello {{ requester_name }},\n\nWe received your inquiry {{ reference }}.\n\n{{ officer_name }}",
            body_fr="Bonjour {{ requester_name }},\n\nNous avons reçu votre demande {{ reference }}.\n\n"
                    "{{ officer_name }}",
            actor=lead_user, now=now)
        db.session.commit()
        return Seeded(lead=lead, officer=officer, thread_id=thread.id, thread_reference=thread.reference,
                      new_ids=(fresh.id, overdue.id), new_references=(fresh.reference, overdue.reference),
                      canned_id=response.id)


@pytest.fixture
def seeded(live_app: Flask, live_server: str) -> Seeded:
    live_app.config["BASE_URL"] = live_server
    return _seed(live_app)


def _assert_unique_ids(page: Page) -> None:
    """Every id once only: a label's ``for``, a hint's ``aria-describedby`` and a summary's link find one element.

    axe-core no longer checks this (WCAG 2.2 dropped 4.1.1); a page with several forms
    (the inquiry page has ten) is where two fields end up with one id.
    """
    duplicates = page.evaluate("""() => { const seen = {}, twice = new Set();
        for (const e of document.querySelectorAll('[id]')) { if (seen[e.id]) twice.add(e.id); seen[e.id] = true; }
        return [...twice]; }""")
    assert not duplicates, f"ids used more than once on {page.url}: {duplicates}"


def _staff_page(page_factory: Callable[..., Page], app: Flask, base: str, user: BrowserUser, lang: str) -> Page:
    page = page_factory(lang)
    sign_in_with_cookie(page, app, base, user, lang)
    return page


# -- helpers for the keyboard ---------------------------------------------------------------


def _focused(page: Page, selector: str) -> bool:
    return bool(page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector))


def _describe_focus(page: Page) -> str:
    return str(page.evaluate("""() => { const e = document.activeElement; if (!e) return 'nothing';
        const text = (e.innerText || e.value || '').trim().slice(0, 40);
        return `${e.tagName.toLowerCase()}#${e.id} "${text}"`; }"""))


def _tab_to(page: Page, selector: str, *, back: bool = False, max_tabs: int = 60) -> None:
    """Press Tab (Shift+Tab with ``back``) until ``selector`` has the focus."""
    for _ in range(max_tabs):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if _focused(page, selector):
            return
    raise AssertionError(f"{selector} not reached with {max_tabs} presses of Tab (focus is on {_describe_focus(page)})")


# -- 1. axe-core on every inbox page, in each language --------------------------------------


def _queue(page: Page, base: str, seeded: Seeded, lang: str) -> None:
    page.goto(f"{base}{INBOX}?queue=new")
    expect(page.locator(".inbox-table tbody tr")).to_have_count(len(seeded.new_ids))
    expect(page.locator(".queue-tabs [aria-current=page]")).to_be_visible()


def _filtered(page: Page, base: str, seeded: Seeded, lang: str) -> None:
    page.goto(f"{base}{INBOX}?queue=all&language=fr&sort=due")
    expect(page.locator("details.filters")).to_have_attribute("open", "")
    expect(page.locator("#filter-language")).to_be_visible()
    expect(page.locator(".inbox-table tbody tr")).to_have_count(1)


def _search(page: Page, base: str, seeded: Seeded, lang: str) -> None:
    page.goto(f"{base}{INBOX}?queue=all&q={SEARCH_WORD}")
    expect(page.locator(".inbox-table tbody tr")).to_have_count(1)
    expect(page.locator(".inbox-table")).to_contain_text(seeded.thread_reference)


def _inquiry(page: Page, base: str, seeded: Seeded, lang: str) -> None:
    page.goto(f"{base}{INBOX}{seeded.thread_id}")
    labels = set()
    for kind in ("inbound", "reply", "note"):
        expect(page.locator(f".thread-{kind}")).to_have_count(1)
        labels.add(page.locator(f".thread-{kind} .thread-kind").inner_text().split(" ")[0])
    assert len(labels) == 3, f"the kinds of message are not told apart in words: {labels}"  # not colour alone
    expect(page.locator(".thread-inbound .thread-body")).to_have_attribute("lang", "en")
    expect(page.locator(".history li")).to_have_count(8)  # received, then seven changes
    expect(page.locator(".inquiry-side .tag")).to_have_count(2)
    expect(page.locator("[data-testid=others-viewing]")).to_contain_text("Omar Haddad")


def _inquiry_failed_reply(page: Page, base: str, seeded: Seeded, lang: str) -> None:
    page.goto(f"{base}{INBOX}{seeded.thread_id}")
    page.locator("#reply-submit").click()
    expect(page.locator("[data-error-summary]")).to_be_focused()
    assert page.title().startswith(ERROR_TITLE[lang]), page.title()
    expect(page.locator("form.reply-form textarea")).to_have_attribute("aria-invalid", "true")


def _bulk_confirm(page: Page, base: str, seeded: Seeded, lang: str) -> None:
    page.goto(f"{base}{INBOX}?queue=new")
    for inquiry_id in seeded.new_ids:
        page.locator(f"#select-{inquiry_id}").check()
    page.locator("#action").select_option("close")
    page.locator("#bulk-submit").click()
    expect(page.locator(".confirm-list li")).to_have_count(len(seeded.new_ids))


def _canned_list(page: Page, base: str, seeded: Seeded, lang: str) -> None:
    page.goto(f"{base}/staff/canned-responses/")
    expect(page.locator(".canned-response")).to_have_count(1)


def _canned_edit(page: Page, base: str, seeded: Seeded, lang: str) -> None:
    page.goto(f"{base}/staff/canned-responses/{seeded.canned_id}")
    expect(page.locator(".language-columns fieldset")).to_have_count(2)


def _targets(page: Page, base: str, seeded: Seeded, lang: str) -> None:
    page.goto(f"{base}/staff/targets/")
    expect(page.locator("main table").first).to_be_visible()


PAGES: dict[str, Callable[[Page, str, Seeded, str], None]] = {
    "queue": _queue,
    "filtered": _filtered,
    "search": _search,
    "inquiry": _inquiry,
    "inquiry-failed-reply": _inquiry_failed_reply,
    "bulk-confirm": _bulk_confirm,
    "canned-list": _canned_list,
    "canned-edit": _canned_edit,
    "targets": _targets,
}


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("name", list(PAGES))
def test_inbox_page_is_accessible(page_factory: Callable[..., Page], live_app: Flask, live_server: str,
                                  seeded: Seeded, name: str, lang: str) -> None:
    page = _staff_page(page_factory, live_app, live_server, seeded.lead, lang)
    PAGES[name](page, live_server, seeded, lang)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("a.skip-link")).to_have_text(SKIP_LINK[lang])  # the page is translated, not just marked
    _assert_unique_ids(page)
    assert_accessible(page)


# -- 2. triage a new inquiry with the keyboard alone ----------------------------------------


def _focus_ring_shows(page: Page) -> bool:
    return bool(page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
        return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== 'none'; }"""))


def test_triage_a_new_inquiry_with_the_keyboard_alone(page_factory: Callable[..., Page], live_app: Flask,
                                                      live_server: str, seeded: Seeded) -> None:
    from sqlalchemy import select

    from inquiry_desk.core.extensions import db
    from inquiry_desk.inquiries.models import Inquiry, Message
    from inquiry_desk.mail.models import OutgoingEmail

    from ..intake.mailbox import sent_messages

    inquiry_id, reference = seeded.new_ids[1], seeded.new_references[1]  # in English, from sam@example.net
    page = _staff_page(page_factory, live_app, live_server, seeded.officer, "en")
    keyboard = page.keyboard
    page.goto(f"{live_server}{INBOX}?queue=new")

    # From the queue to the inquiry.
    _tab_to(page, "a.skip-link", max_tabs=1)
    _tab_to(page, f".inbox-table a[href$='{INBOX}{inquiry_id}']")
    keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server}{INBOX}{inquiry_id}")

    # "Assign to me", at the top of the page.
    _tab_to(page, "#take-submit", max_tabs=20)
    assert _focus_ring_shows(page), "the focused button shows no focus ring"
    keyboard.press("Enter")
    expect(page.locator("main > .notice-success")).to_contain_text("assigned to you")
    expect(page.locator("#take-submit")).to_have_count(0)

    # The topic, in the side panel: type-ahead in the select, then its button.
    _tab_to(page, "#topic")
    keyboard.type("Priv")
    expect(page.locator("#topic")).to_have_value("private_sponsorship")
    _tab_to(page, "#topic-submit", max_tabs=1)
    keyboard.press("Enter")
    expect(page.locator("main > .notice-success")).to_contain_text("Topic saved")
    # Back on the page, the confirmation is where the officer was, right after the topic's form,
    # and has the focus (app.js; issue 10): seen and read out, not left at the top.
    here = page.locator("[data-confirmation-here]")
    expect(here).to_be_focused()
    expect(here).to_contain_text("Topic saved")
    expect(here).to_be_in_viewport()
    assert page.evaluate("() => !!document.querySelector('[data-confirmation-here]')"
                         ".previousElementSibling.querySelector('#topic-submit')")
    keyboard.press("Shift+Tab")
    expect(page.locator("#topic-submit")).to_be_focused()  # one step back: the button just used

    # Back up to the reply: a canned response, inserted by the server ("Insert" is a submit button).
    _tab_to(page, "#canned", back=True)
    keyboard.type("Ack")
    expect(page.locator("#canned option:checked")).to_have_text("Acknowledgement")
    _tab_to(page, "#insert", max_tabs=1)
    keyboard.press("Enter")
    body = page.locator("#body")
    expect(body).to_have_value(f"Hello Farida Rahimi,\n\nWe received your inquiry {reference}.\n\nOmar Haddad")
    expect(body).to_be_focused()  # straight to the text, to edit it

    # Edit the text, keep "Waiting on the stakeholder", send.
    keyboard.press("Control+End")
    keyboard.press("Enter")
    keyboard.type("We will write again next week.")
    _tab_to(page, "#attachments", max_tabs=1)  # files to send with the reply: none here
    _tab_to(page, "#next_status", max_tabs=1)
    expect(page.locator("#next_status")).to_have_value("waiting")
    _tab_to(page, "#reply-submit", max_tabs=1)
    keyboard.press("Enter")
    expect(page.locator("main > .notice-success")).to_contain_text("Reply sent to sam@example.net")

    expected = (f"Hello Farida Rahimi,\n\nWe received your inquiry {reference}.\n\nOmar Haddad\n"
                "We will write again next week.")
    expect(page.locator(".thread-reply .thread-body")).to_have_text(expected)
    with live_app.app_context():
        inquiry = db.session.get(Inquiry, inquiry_id)
        assert inquiry.assignee_id == seeded.officer.id
        assert inquiry.topic is not None and inquiry.topic.code == "private_sponsorship"
        assert inquiry.status == "waiting"
        replies = db.session.scalars(select(Message).where(Message.inquiry_id == inquiry_id,
                                                           Message.kind == "reply")).all()
        assert [reply.body.replace("\r\n", "\n") for reply in replies] == [expected]
        assert replies[0].author_user_id == seeded.officer.id
        queued = db.session.scalar(select(OutgoingEmail).where(
            OutgoingEmail.cause_key == f"inquiry:{inquiry_id}:reply:{replies[0].id}"))
        assert queued is not None and queued.to_address == "sam@example.net"

    deadline = time.monotonic() + WAIT_SECONDS
    subject = f"Re: Your inquiry {reference}"  # threads with the confirmation
    while not any(message["Subject"] == subject for message in sent_messages(live_app)):
        assert time.monotonic() < deadline, f"no reply sent; sent: {[m['Subject'] for m in sent_messages(live_app)]}"
        time.sleep(0.05)
    sent = next(message for message in sent_messages(live_app) if message["Subject"] == subject)
    assert sent["To"] == "sam@example.net"
    # The canned response holds the signature: the officer's name is not added a second time.
    assert sent.get_body(preferencelist=("plain",)).get_content().count("Omar Haddad") == 1


# -- 3. a bulk change with the keyboard alone -----------------------------------------------


def test_close_two_inquiries_in_bulk_with_the_keyboard_alone(page_factory: Callable[..., Page], live_app: Flask,
                                                             live_server: str, seeded: Seeded) -> None:
    from inquiry_desk.core.extensions import db
    from inquiry_desk.inquiries.models import Inquiry

    page = _staff_page(page_factory, live_app, live_server, seeded.officer, "en")
    keyboard = page.keyboard
    page.goto(f"{live_server}{INBOX}?queue=new")

    for inquiry_id in seeded.new_ids:
        _tab_to(page, f"#select-{inquiry_id}")
        keyboard.press("Space")
        expect(page.locator(f"#select-{inquiry_id}")).to_be_checked()
    _tab_to(page, "#action")
    for _ in range(20):  # Assign to me, to each colleague, Return to the queue, three statuses, then Close
        if page.locator("#action").input_value() == "close":
            break
        keyboard.press("ArrowDown")
    expect(page.locator("#action")).to_have_value("close")
    _tab_to(page, "#bulk-submit")
    keyboard.press("Enter")

    expect(page.locator("h1")).to_have_text("Confirm the bulk change")
    expect(page.locator(".confirm-list li")).to_have_count(2)
    for reference in seeded.new_references:
        expect(page.locator(".confirm-list")).to_contain_text(reference)
    _tab_to(page, "#confirm-submit")
    keyboard.press("Enter")

    expect(page.locator("main > .notice-success")).to_contain_text("2 inquiries changed, 0 left as they were.")
    expect(page.locator("main > .notice-success")).to_be_focused()  # the confirmation takes the focus (issue 10)
    expect(page).to_have_url(re.compile(re.escape(f"{live_server}{INBOX}?queue=new")))  # back to the same list
    expect(page.locator(".inbox-table tbody")).to_have_text("No inquiries here.")
    with live_app.app_context():
        assert [db.session.get(Inquiry, i).status for i in seeded.new_ids] == ["closed", "closed"]


def test_the_csv_export_downloads_through_a_real_server(page_factory: Callable[..., Page], live_app: Flask,
                                                        live_server: str, seeded: Seeded) -> None:
    """The export is streamed after the request's session is gone: only a real server shows it works."""
    import csv
    import io

    page = _staff_page(page_factory, live_app, live_server, seeded.officer, "en")
    page.goto(f"{live_server}{INBOX}?queue=new")
    with page.expect_download() as download_info:
        page.locator(".export-link a").click()
    download = download_info.value
    assert download.suggested_filename.startswith("inquiries-new-")
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert rows[0][:2] == ["reference", "received_at"]
    assert sorted(row[0] for row in rows[1:]) == sorted(seeded.new_references)
