"""The inbox list page, byte for byte: a fixed desk at a fixed time against golden files.

The list is the page made fastest (QUALITY.md P1): rows prepared in Python, formatters cached per
language, counts from the count table. None of that may change a byte of what it shows, in either
language, for rows of every kind (restricted, hidden, trusted partner, tags, new reply, each due state).

To accept an intended change of the page, look at the diff, then:

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/inbox/test_inbox_golden.py
"""

from __future__ import annotations

import difflib
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from inquiry_desk.core.extensions import db
from inquiry_desk.inbox import labels
from inquiry_desk.inquiries import triage
from inquiry_desk.inquiries.models import Message, ReplyNotice

from ..helpers import edit, make_inquiry, make_organisation, make_user, sign_in

GOLDEN = Path(__file__).resolve().parent / "golden"
NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)  # a Tuesday; Toronto is on summer time since March 8


@pytest.fixture
def desk(app, monkeypatch):
    """Nine inquiries of every kind a row can show, and an officer who reads the list."""
    monkeypatch.setattr("inquiry_desk.inbox.views.utcnow", lambda: NOW)
    labels.forget_filter_choices()  # kept a minute per process: another test's staff and topics
    officer = make_user(role="officer", name="Golden Officer", email="golden@example.org")
    colleague = make_user(role="officer", name="Chloé Tremblay", email="chloe@example.org")
    partner = make_organisation("Aman Lara", domains=("amanlara.org",))
    made = [make_inquiry(email=f"person{n}@example.org", subject=f"Question {n} <about> “travel”",
                         language="fr" if n % 3 == 0 else "en", now=NOW - timedelta(hours=30 - 3 * n))
            for n in range(9)]
    triage.assign(made[1], officer, actor=officer, now=NOW)
    triage.assign(made[2], colleague, actor=officer, now=NOW)
    triage.set_status(made[3], "waiting", actor=officer, now=NOW)
    triage.set_status(made[4], "resolved", actor=officer, now=NOW)
    triage.set_priority(made[5], "urgent", actor=officer, now=NOW)
    triage.set_tags(made[5], ["media", "ukraine"], actor=officer, now=NOW)
    db.session.commit()
    edit(made[0], due_at=NOW - timedelta(days=2, hours=3))  # overdue
    edit(made[1], due_at=NOW + timedelta(minutes=30))  # due soon
    edit(made[2], due_at=NOW + timedelta(seconds=20))  # due now
    edit(made[5], due_at=NOW + timedelta(days=3))  # due later
    edit(made[6], organisation_id=partner.id, trusted_partner=True, organisation_name="Aman Lara")
    edit(made[7], organisation_id=partner.id, trusted_partner=False)
    edit(made[8], restricted=True)  # not readable by the officer: a hidden row
    message = db.session.query(Message).filter_by(inquiry_id=made[6].id).first()
    db.session.add(ReplyNotice(inquiry_id=made[6].id, message_id=message.id, created_at=NOW))
    db.session.commit()
    client = app.test_client()
    sign_in(client, officer)
    return client


def _main(html: str) -> str:
    """The page's <main>, without what changes per session (CSRF tokens)."""
    main = html[html.index('<main id="main"'):html.index("</main>")]
    return re.sub(r'(value=")[A-Za-z0-9._-]{40,}"', r'\1TOKEN"', main)


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("queue", ["all"])
def test_list_page_matches_its_golden_file(desk, language: str, queue: str) -> None:
    response = desk.get(f"/staff/inquiries/?queue={queue}", headers={"Accept-Language": language})
    assert response.status_code == 200
    text = _main(response.get_data(as_text=True))
    golden = GOLDEN / f"inbox_{queue}.{language}.html"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"{golden} is missing: run UPDATE_GOLDEN=1 (see this module's docstring)"
    stored = golden.read_text(encoding="utf-8")
    if text != stored:
        diff = "".join(difflib.unified_diff(stored.splitlines(True), text.splitlines(True),
                                            fromfile=f"golden/{golden.name}", tofile="rendered now"))
        pytest.fail(f"the page changed:\n{diff}")
