"""Golden files: every email template, rendered in each of its languages with fixed data.

Each template of ``templates/mail/`` (``<name>.<lang>.subject.txt``, ``.txt`` and, when
there is one, ``.html``) is rendered through ``mail.rendering.render_email`` with the
fixed data of ``CONTEXTS`` and compared with ``tests/mail/golden/<name>.<lang>.txt``
(the subject line, a blank line, the text body) and ``<name>.<lang>.html``. A change to
an email, its wording, its layout or the way a date is written, shows in review as a
change to these files.

When a change is intended, rewrite the files and review their diff:

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/mail/test_golden_emails.py

A new template needs its fixed data in ``CONTEXTS`` (the test fails until it has some),
then ``UPDATE_GOLDEN=1`` writes its files.
"""

from __future__ import annotations

import difflib
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from inquiry_desk import PROJECT_DIR
from inquiry_desk.inquiries.digest import DigestItem
from inquiry_desk.inquiries.reminders import ReminderItem
from inquiry_desk.mail.rendering import RenderedEmail, render_email
from inquiry_desk.reports.charts import HeadlineRow

GOLDEN = Path(__file__).resolve().parent / "golden"
TEMPLATES = PROJECT_DIR / "templates" / "mail"
UPDATE = os.environ.get("UPDATE_GOLDEN", "").strip().lower() in {"1", "true", "yes"}

# 2026-11-24 14:30 UTC is 09:30 in Toronto, the team's default time zone.
DUE = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
PORTAL = "https://desk.example.org/{lang}/inquiry/Zx8QeF2tVb7LrN0pK4sWyA1mHc9GdJ6u"
STAFF = "https://desk.example.org/staff/inquiries/42"

# Names and texts carry accents, an apostrophe, an ampersand and markup, so that escaping
# (HTML) and its absence (text) both show in the files.
CONTEXTS: dict[str, dict[str, Any]] = {
    "bulletin_edition_ready": {
        "series": "Partners' update & news", "at": DUE, "url": "https://desk.example.org/staff/bulletins/7",
    },
    "bulletin_edition_held": {
        "series": "Partners' update & news", "at": DUE, "url": "https://desk.example.org/staff/bulletins/7",
        "reason": "not_approved",
    },
    "staff_invitation": {
        "name": "Amélie O'Neil", "invited_by": "Jean Tremblay", "hours": 72,
        "url": "https://desk.example.org/auth/invitation/Zx8QeF2tVb7LrN0pK4sWyA1mHc9GdJ6u",
        "sign_in_url": "https://desk.example.org/auth/login",
    },
    "inquiry_confirmation": {
        "name": "Amélie O'Neil", "reference": "INQ-2026-000042",
        "subject": "Sponsorship & travel loans", "topic": "Private sponsorship",
        "message": "Hello,\n\nCan a sponsor group <b>cover</b> the travel loan?\n\nThanks",
        "portal_url": PORTAL, "link_days": 90,
    },
    "inquiry_reply": {
        "body": "Dear Amélie,\n\nYes: the group may repay the loan <on the family's behalf>.\n\nRegards",
        "officer_name": "Jean Tremblay", "reference": "INQ-2026-000042", "portal_url": PORTAL, "link_days": 90,
        "subject_line": "Re: Your inquiry INQ-2026-000042",
    },
    "inquiry_email_ack": {  # emailin (issue 17): the acknowledgement of an inquiry that came by email
        "name": "Amélie O'Neil", "reference": "INQ-2026-000042", "portal_url": PORTAL, "link_days": 90,
    },
    "inquiry_merged": {
        "name": "Amélie O'Neil", "duplicate_reference": "INQ-2026-000043", "target_reference": "INQ-2026-000042",
    },
    "portal_new_link": {
        "name": "Amélie O'Neil", "reference": "INQ-2026-000042", "portal_url": PORTAL, "link_days": 90,
        "new_link_url": "https://desk.example.org/{lang}/inquiry/new-link",
    },
    "new_inquiry_notice": {
        "reference": "INQ-2026-000042", "subject": "Sponsorship & travel loans", "trusted": True,
        "organisation": "Welcome Place & Partners", "staff_url": "https://desk.example.org/staff/inquiries/",
    },
    "target_reminders": {
        "missed": [ReminderItem("INQ-2026-000040", "Medical exam & travel", DUE, STAFF),
                   ReminderItem("INQ-2026-000041", "Permis de travail", DUE, STAFF)],
        "soon": [ReminderItem("INQ-2026-000042", "Sponsorship & travel loans", DUE, STAFF)],
        "inbox_url": "https://desk.example.org/staff/inquiries/",
    },
    "inquiry_assigned": {"reference": "INQ-2026-000042", "subject": "Sponsorship & travel loans",
                         "assigned_by": "Chloé D'Amours", "staff_url": STAFF},
    "stakeholder_reply_notice": {"reference": "INQ-2026-000042", "subject": "Sponsorship & travel loans",
                                 "outcome": "reopened", "staff_url": STAFF},
    "mailing_confirmation": {
        "lists": ["Sponsorship & resettlement news", "Bulletin des partenaires d'établissement"], "hours": 48,
        "confirm_url": "https://desk.example.org/{lang}/mailing-lists/confirm/eyJjIjo0Mn0.Zx8QeF2tVb7LrN0pK4sWyA",
    },
    "daily_digest": {
        "name": "Jean Tremblay", "new_count": 3, "listed": 20, "inbox_url": "https://desk.example.org/staff/inquiries/",
        "new_items": [
            DigestItem("INQ-2026-000044", "Housing in Winnipeg", None, "https://desk.example.org/staff/inquiries/44"),
            DigestItem("INQ-2026-000043", "Permis de travail", None, "https://desk.example.org/staff/inquiries/43"),
        ],
        "overdue": [DigestItem("INQ-2026-000040", "Medical exam & travel", DUE,
                               "https://desk.example.org/staff/inquiries/40")],
        "due_soon": [],
    },
    # dashboard (issue 18)
    "weekly_report": {
        "name": "Chloé D'Amours", "period": "2 Nov 2026 to 8 Nov 2026",
        "rows": [HeadlineRow("Inquiries received", "12", "9", "+3"),
                 HeadlineRow("Median time to first response (business hours)", "1.5", "2.0", "−0.5"),
                 HeadlineRow("First responses within target", "80 %", "–", "–")],
        "overdue": [DigestItem("INQ-2026-000040", "Medical exam & travel", DUE,
                               "https://desk.example.org/staff/inquiries/40")],
        "overdue_count": 3,
        "dashboard_url": "https://desk.example.org/staff/dashboard/?period=custom&from=2026-11-02&to=2026-11-08",
    },
}


def _templates() -> list[tuple[str, str]]:
    """(name, language) of every email template, from its subject file."""
    found = []
    for path in sorted(TEMPLATES.glob("*.subject.txt")):
        name, language = path.name.removesuffix(".subject.txt").rsplit(".", 1)
        found.append((name, language))
    return found


def _expected_files(name: str, language: str) -> dict[str, str]:
    """The golden files of one template and language, by file name, rendered now."""
    context = {key: value.format(lang=language) if isinstance(value, str) else value
               for key, value in CONTEXTS[name].items()}
    rendered: RenderedEmail = render_email(name, language, **context)
    files = {f"{name}.{language}.txt": f"Subject: {rendered.subject}\n\n{rendered.text}"}
    if rendered.html is not None:
        files[f"{name}.{language}.html"] = rendered.html.rstrip("\n") + "\n"
    return files


@pytest.mark.parametrize(("name", "language"), _templates(), ids=[f"{n}.{lang}" for n, lang in _templates()])
def test_email_matches_its_golden_file(app: Flask, name: str, language: str) -> None:
    assert name in CONTEXTS, f"add fixed data for the {name!r} email to CONTEXTS"
    for file_name, text in _expected_files(name, language).items():
        golden = GOLDEN / file_name
        if UPDATE:
            golden.parent.mkdir(exist_ok=True)
            golden.write_text(text, encoding="utf-8")
            continue
        assert golden.exists(), f"{golden} is missing: run UPDATE_GOLDEN=1 (see this module's docstring)"
        stored = golden.read_text(encoding="utf-8")
        diff = "".join(difflib.unified_diff(stored.splitlines(keepends=True), text.splitlines(keepends=True),
                                            fromfile=f"golden/{file_name}", tofile="rendered now"))
        assert stored == text, f"{file_name} changed (UPDATE_GOLDEN=1 rewrites it if that is intended):\n{diff}"


def test_every_golden_file_belongs_to_a_template(app: Flask) -> None:
    """A golden file left behind by a renamed or deleted template is caught."""
    wanted = {file_name for name, language in _templates() for file_name in _expected_files(name, language)}
    assert {path.name for path in GOLDEN.iterdir()} == wanted


def test_public_emails_exist_in_both_languages() -> None:
    """Every email to a stakeholder is written in English and French (QUALITY.md L1)."""
    languages: dict[str, set[str]] = {}
    for name, language in _templates():
        languages.setdefault(name, set()).add(language)
    # The team notice too, in MAIL_TEAM_LANGUAGE (issue 10 defect 8).
    assert {name for name, found in languages.items() if found != {"en", "fr"}} == set()
