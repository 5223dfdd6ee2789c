"""Issue 11, H3 (QUALITY.md S8): no log line holds a stakeholder's or a staff member's data.

A full walk through gunicorn (the production configuration, every log at DEBUG, the
access log on, rate limits on): a stakeholder sends the form, opens the private link
(with an upper-case language segment and a query string), replies, asks for a new link;
someone types a password into the sign-in email field until the limit answers 429; a
member of staff signs in, searches, writes a note, sends a NUL byte. Then every line
that gunicorn and the app wrote is searched for the walk's names, addresses, bodies,
search words, token and password: none may be there (the mail worker's log too).
"""

from __future__ import annotations

import email
import re
import time
from email import policy
from pathlib import Path

from flask import Flask

from ..helpers import current_code, make_user
from .gunicorn_server import Running, Visitor, mail_worker, serve

NAME = "Zarmina Qudratullah"
EMAIL = "zarmina.q@partner-ngo.example"
PHONE = "613 555 0199"
ORGANISATION = "Kabul Lantern Collective"
SUBJECT = "Pelican timetable question"
MESSAGE = "Our family Xylophone-Orchard needs news about the Marigold file."
PORTAL_REPLY = "Here are the Tangerine-Lighthouse documents you asked for."
NOTE = "Called the Quokka-Meridian partner, waiting on them."
SEARCH = "Marigold pelican"
PASSWORD_IN_EMAIL_FIELD = "Sapphire-Walrus-Password-77"
STAFF_EMAIL = "nasrin.officer@team.example"
NUL_BODY = "Emerald-Kettle secret\x00tail"


def _portal_token(outbox: Path) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for path in sorted(outbox.glob("*")):
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            body = message.get_body(preferencelist=("plain",))
            match = re.search(r"/en/portal/([A-Za-z0-9_-]{20,})", body.get_content() if body else "")
            if match:
                return match.group(1)
        time.sleep(0.2)
    raise AssertionError("no confirmation with a private link in the outbox")


def _walk(server: Running, outbox: Path, staff_secret: str) -> list[str]:
    """Everything a day brings; returns the secrets that must not be logged."""
    stakeholder = Visitor(server, headers={"X-Forwarded-For": "203.0.113.50"})
    status, _, _ = stakeholder.post("/en/inquiry", {
        "name": NAME, "email": EMAIL, "phone": PHONE, "organisation": ORGANISATION,
        "organisation_kind": "ngo", "topic": "other", "subject": SUBJECT, "message": MESSAGE,
        "language": "en", "consent": "y", "website": "",
    }, page_path="/en/inquiry")
    assert status == 302, stakeholder.last_page[:2000]
    token = _portal_token(outbox)
    portal = f"/EN/portal/{token}?email={EMAIL}&q={SEARCH.replace(' ', '+')}"
    assert stakeholder.get(f"/en/portal/{token}")[0] == 200
    stakeholder.get(portal)
    status, _, _ = stakeholder.post(f"/en/portal/{token}", {"message": PORTAL_REPLY}, page_path=f"/en/portal/{token}")
    assert status == 302
    stakeholder.post(f"/en/portal/{token}", {"message": NUL_BODY}, page_path=f"/en/portal/{token}")
    reference = re.search(r"INQ-\d{4}-\d{6}", stakeholder.get(f"/en/portal/{token}")[1])
    assert reference
    stakeholder.post("/en/portal/new-link", {"reference": reference.group(0), "email": EMAIL},
                     page_path="/en/portal/new-link")

    clumsy = Visitor(server, headers={"X-Forwarded-For": "203.0.113.51"})
    statuses = [clumsy.post("/auth/login", {"email": PASSWORD_IN_EMAIL_FIELD, "password": "x" * 12},
                            page_path="/auth/login")[0] for _ in range(4)]
    assert 429 in statuses, statuses

    staff = Visitor(server, headers={"X-Forwarded-For": "198.51.100.7"})
    status, _, _ = staff.post("/auth/login", {"email": STAFF_EMAIL, "password": "correct horse battery staple"},
                              page_path="/auth/login")
    assert status == 302
    status, _, _ = staff.post("/auth/second-factor", {"code": current_code_for(staff_secret)},
                              page_path="/auth/second-factor")
    assert status == 302
    status, page, _ = staff.get(f"/staff/inquiries/?q={SEARCH.replace(' ', '+')}&received_from=2020-01-01")
    assert status == 200
    inquiry_id = re.search(r"/staff/inquiries/(\d+)", page)
    assert inquiry_id, page[:3000]
    path = f"/staff/inquiries/{inquiry_id.group(1)}"
    assert staff.post(f"{path}/note", {"body": NOTE}, page_path=path)[0] == 302
    staff.post(f"{path}/note", {"body": NUL_BODY}, page_path=path)
    staff.get(f"/staff/inquiries/?q={EMAIL}")
    staff.get(f"/staff/inquiries/99999999999999999999999?q={SEARCH.replace(' ', '+')}")
    return [NAME, EMAIL, PHONE, ORGANISATION, SUBJECT, MESSAGE, PORTAL_REPLY, NOTE, PASSWORD_IN_EMAIL_FIELD,
            STAFF_EMAIL, token, "Marigold", "Pelican", "Emerald-Kettle", "Xylophone", "Tangerine", "Quokka"]


def current_code_for(secret: str) -> str:
    import pyotp

    return pyotp.TOTP(secret).now()


def test_no_log_line_holds_personal_data(app: Flask, database_url: str, tmp_path: Path) -> None:
    user = make_user(role="officer", email=STAFF_EMAIL)
    assert current_code(user)
    outbox = tmp_path / "outbox"
    env = {"LOG_LEVEL": "DEBUG", "GUNICORN_LOG_LEVEL": "debug", "GUNICORN_ACCESS_LOG": "-",
           "RATELIMIT_ENABLED": "1", "LOGIN_RATE_LIMIT": "3 per minute", "SESSION_COOKIE_SECURE": "0",
           "MAIL_OUTBOX_DIR": str(outbox)}
    with serve(database_url, tmp_path, workers=1, env=env) as server, \
            mail_worker(database_url, tmp_path, env=env) as worker_log:
        secrets = _walk(server, outbox, str(user.totp_secret))
        time.sleep(0.5)
        log = server.log() + worker_log.read_text(errors="replace")
    assert "POST /auth/login" in log and " 429 " in log, "the walk left no access log to check"
    found = {secret for secret in secrets if secret.lower() in log.lower()}
    lines = [line for line in log.splitlines() if any(secret.lower() in line.lower() for secret in found)]
    assert not found, f"personal data in the logs: {sorted(found)}\n" + "\n".join(lines[:20])
