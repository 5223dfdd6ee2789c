"""Issue 11, H1: behind the proxy, rate limits and the audit log see the client, not the proxy.

Through gunicorn (gunicorn.conf.py, production configuration, one worker so that the
in-memory rate-limit counters are one set): seven visitors behind the trusted proxy,
each with its own ``X-Forwarded-For``, all get their new-link page, while one visitor
posting seven times is stopped at the sixth. A failed sign-in is audited with the
client's address. When the peer is not a configured proxy, its ``X-Forwarded-For`` is
ignored: a client cannot pick its own address.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import select

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.extensions import db

from ..helpers import make_user
from .gunicorn_server import Running, serve

LIMITED = {"RATELIMIT_ENABLED": "1", "INTAKE_RATE_LIMIT": "5 per minute", "LOGIN_RATE_LIMIT": "100 per minute"}


def _post_form(server: Running, path: str, fields: dict[str, str], forwarded_for: str | None) -> int:
    """GET the page (for its cookie and CSRF token), then POST it, both from ``forwarded_for``."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    connection = server.connection()
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";", 1)[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, page[:500]
    body = urlencode({"csrf_token": token.group(1), **fields})
    connection.request("POST", path, body=body, headers={
        **headers, "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded",
        "Referer": f"{server.base_url}{path}"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status


NEW_LINK = ("/en/portal/new-link", {"reference": "INQ-2026-000001", "email": "nobody@example.net"})


@pytest.fixture
def trusted_proxy_server(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Running]:
    with serve(database_url, tmp_path, workers=1, env=LIMITED) as server:
        yield server


def test_each_client_behind_the_proxy_has_its_own_limit(trusted_proxy_server: Running) -> None:
    statuses = [_post_form(trusted_proxy_server, *NEW_LINK, forwarded_for=f"203.0.113.{n}") for n in range(1, 8)]
    assert statuses == [200] * 7, statuses
    same = [_post_form(trusted_proxy_server, *NEW_LINK, forwarded_for="198.51.100.9") for _ in range(7)]
    assert same == [200] * 5 + [429, 429], same


def test_the_audit_log_records_the_client_address(app: Flask, trusted_proxy_server: Running) -> None:
    user = make_user(role="officer")
    status = _post_form(trusted_proxy_server, "/auth/login", {"email": user.email, "password": "not the password"},
                        forwarded_for="192.0.2.44")
    assert status == 200
    db.session.expire_all()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login.failed_password"))
    assert event is not None and event.ip_address == "192.0.2.44"


def test_a_peer_that_is_not_a_proxy_cannot_choose_its_address(app: Flask, database_url: str,
                                                              tmp_path: Path) -> None:
    with serve(database_url, tmp_path, workers=1, env={**LIMITED, "FORWARDED_ALLOW_IPS": "10.11.12.13"}) as server:
        statuses = [_post_form(server, *NEW_LINK, forwarded_for=f"203.0.113.{n}") for n in range(1, 8)]
    assert statuses == [200] * 5 + [429, 429], statuses
