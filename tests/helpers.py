"""Plain helpers for tests: factories with defaults, sign-in, and a page checker."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

import pyotp
from bs4 import BeautifulSoup
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from inquiry_desk.accounts import services as accounts
from inquiry_desk.accounts.models import User
from inquiry_desk.accounts.second_factor import new_totp_secret
from inquiry_desk.accounts.views import SESSION_TOKEN_KEY
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


def make_user(
    *,
    role: str = "officer",
    email: str | None = None,
    name: str | None = None,
    password: str = PASSWORD,
    enrolled: bool = True,
    language: str = "en",
    active: bool = True,
    now: datetime | None = None,
) -> User:
    number = next(_counter)
    user = accounts.create_user(
        name=name or f"Test {role.title()} {number}",
        email=email or f"{role}{number}@example.org",
        role=role,
        password=password,
        actor=None,
        now=now or utcnow(),
        language=language,
    )
    user.active = active
    if enrolled:
        user.totp_secret = new_totp_secret()
    db.session.commit()
    return user


def current_code(user: User, at: datetime | None = None) -> str:
    assert user.totp_secret
    return pyotp.TOTP(user.totp_secret).at(at or utcnow())


def sign_in(client: FlaskClient, user: User) -> None:
    """A signed-in session without going through the forms (those have their own tests)."""
    token = accounts.start_session(user, now=utcnow())
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
        session[SESSION_TOKEN_KEY] = token


def page(response: TestResponse, status: int = 200, lang: str | None = None) -> BeautifulSoup:
    """Check a page as a person would meet it and return it parsed.

    The status is right, there is exactly one <h1>, the <title> contains it,
    and the page says which language it is in.
    """
    assert response.status_code == status, f"expected {status}, got {response.status_code}"
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    headings = soup.find_all("h1")
    assert len(headings) == 1, f"expected one <h1>, found {len(headings)}"
    title = " ".join(soup.title.get_text().split()) if soup.title else ""
    heading = " ".join(headings[0].get_text().split())
    assert heading in title, f"<title> {title!r} lacks the <h1> {heading!r}"
    html_lang = soup.html.get("lang") if soup.html else None
    assert html_lang in ("en", "fr")
    if lang:
        assert html_lang == lang
    return soup


def form_errors(soup: BeautifulSoup) -> list[str]:
    summary = soup.select_one("[data-error-summary]")
    return [li.get_text(strip=True) for li in summary.select("li")] if summary else []


def make_organisation(name: str = "Aman Lara", *, kind: str = "ngo", trusted: bool = True,
                      domains: tuple[str, ...] = ("amanlara.org",), include_subdomains: bool = False):
    from inquiry_desk.directory import services as directory

    organisation = directory.add_organisation(name=name, kind=kind, trusted=trusted, domains=domains, now=utcnow(),
                                              include_subdomains=include_subdomains)
    db.session.commit()
    return organisation


def inquiry_form_data(**overrides: object) -> dict[str, object]:
    """A complete, valid public form submission (shown 10 seconds ago)."""
    import time

    from inquiry_desk.intake.spam import form_started_token

    data: dict[str, object] = {
        "name": "Farida Rahimi",
        "email": "farida@example.net",
        "phone": "",
        "organisation": "Community Sponsors of Halifax",
        "organisation_kind": "private_sponsor",
        "topic": "private_sponsorship",
        "subject": "Timeline for our sponsorship application",
        "message": "Hello,\nWe submitted our application in March. When can we expect news?",
        "language": "en",
        "consent": "y",
        "website": "",
        "started": form_started_token(time.time() - 10),
    }
    data.update(overrides)
    return data


def make_inquiry(*, email: str = "farida@example.net", language: str = "en", subject: str = "A question",
                 body: str = "Body of the question", now: datetime | None = None):
    """An inquiry submitted as through the public form (with its confirmation queued)."""
    from inquiry_desk.inquiries import services as inquiries
    from inquiry_desk.intake import services as intake

    submission = intake.Submission(
        name="Farida Rahimi", email=email, subject=subject, message=body, language=language,
        topic=inquiries.topic_by_code("other"),
    )
    inquiry = intake.submit_inquiry(submission, now=now or utcnow())
    db.session.commit()
    return inquiry


def edit(inquiry: Any, **fields: Any) -> Any:
    """Set an inquiry's columns directly, for a test's set-up (no history, version or index)."""
    from inquiry_desk.inquiries import recorder

    with recorder.unrecorded():
        for name, value in fields.items():
            setattr(inquiry, name, value)
    return inquiry
