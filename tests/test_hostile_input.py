"""QUALITY.md R7 (issue 11): hostile and malformed input to every route, public and staff, as each role.

A generated table: every route of the URL map (``ROUTES`` of test_authorisation gives
each one's URL values), each of its methods, as anonymous and as each role. GETs carry
every query parameter the app reads (and the filters of the inbox) set to one hostile
value at a time; POSTs carry every form field name found on the app's pages, likewise.
Integer URL parts are replaced by huge, zero and negative numbers; string parts by
control characters, invalid UTF-8 and oversized values. Keyset cursors are forged.
The bar: never a 5xx, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient

from inquiry_desk.core.extensions import db

from .helpers import make_inquiry, make_user, sign_in
from .test_authorisation import ROLES, ROUTES, _endpoints


def _cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


# One value at a time in every parameter and field of a request.
HOSTILE: list[str] = [
    "\x00", "secret\x00tail", "\x01\x08\x1b[31m\x7f", "\r\nSet-Cookie: x=1", "\u202e\ufeff\u200b",
    "9" * 30, "-1", "0", "Infinity", "-Infinity", "NaN", "1e308", "-1e308", "0x7fffffff",
    "[" * 1200, "{" * 50, "9999-12-31", "0001-01-01", "2026-02-30", "10000-01-01", "-2026-01-01",
    "' OR 1=1 --", "%", "_", "\\", "{{ 7*7 }}", "{{ subject|upper(1) }}", "<script>alert(1)</script>",
    "../../etc/passwd", "//evil.example/", "x" * 5000,
]
def _raw_cursor(text: bytes) -> str:
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


FORGED_CURSORS: list[str] = [
    _raw_cursor(b"[Infinity, 1]"), _raw_cursor(b"[1e308, 1]"), _raw_cursor(b"[NaN, -Infinity, 1]"),
    _raw_cursor(b"[1, 1e308, 1]"), _cursor(["Infinity", 1]),
    _cursor([10 ** 25, 10 ** 25]), _cursor(["9999-12-31T23:59:59+00:00", 1]), _cursor([None, None]),
    _cursor({"a": 1}), _cursor([1, 2, 3, 4, 5]), _cursor("x" * 3000), _cursor(["0001-01-01T00:00:00", -1]),
    base64.urlsafe_b64encode(b"[" * 1200).decode(), "!!!", "\x00",
]
HUGE_IDS = [10 ** 20, 10 ** 25, 2 ** 31, 2 ** 63, 0]
# The query parameters the app reads (inbox filters, cursor, sort, queue, audit paging, next).
QUERY_PARAMS = ["q", "queue", "sort", "cursor", "status", "priority", "topic", "tag", "assignee", "organisation",
                "organisation_kind", "trusted", "language", "channel", "received_from", "received_to", "before",
                "after", "next", "page", "year", "view", "format", "lang"]
# The audit log page's filters (audit, issue 12).
AUDIT_PARAMS = ["actor", "action", "subject", "from", "to", "before"]
INVALID_UTF8 = b"%FF%FE%C0%AF%ED%A0%80"
REDUCED = ["\x00", "9" * 30, "[" * 1200, "9999-12-31", "x" * 5000]
# Anonymous on a staff route is sent to the sign-in page (with `next`) before the view reads anything: the
# reduced values and the header injection that redirect could carry. The views themselves read the full set
# as the admin. test_authorisation checks that each staff route sends anonymous to sign in.
REFUSED = [*REDUCED, "\r\nSet-Cookie: x=1"]
# Each inbox filter alone (the first refused would hide the others): the values a filter parses.
PER_FILTER = ["\x00", "9" * 30, "-1", "Infinity", "1e308", "[" * 1200, "9999-12-31", "0001-01-01", "x" * 5000]


def _objects() -> dict[str, Any]:
    make_user(role="admin")  # so that no change leaves the desk without an admin
    return {"target": make_user(role="viewer"), "inquiry": make_inquiry()}


def _form_field_names(app: Flask, client: FlaskClient, urls: list[str]) -> list[str]:
    """Every input, select and textarea name on the pages the admin can open."""
    names: set[str] = {"selected", "item_id", "back", "insert", "confirm", "version", "code", "canned"}
    for url in urls:
        page = client.get(url).get_data(as_text=True)
        names.update(re.findall(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"', page))
    names.discard("csrf_token")
    return sorted(names)


def _urls(app: Flask, endpoint: str, objects: dict[str, Any]) -> Iterator[str]:
    """The endpoint's normal URL, then the same with each hostile URL part."""
    values = ROUTES[endpoint][1](objects)
    with app.test_request_context():
        yield url_for(endpoint, **values)
        rule = next(rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint)
        for name, converter in rule._converters.items():
            if type(converter).__name__.lower().startswith(("integer", "boundedint")):
                for huge in HUGE_IDS:
                    url = url_for(endpoint, **{**values, name: 1})
                    yield re.sub(r"/1(?=/|$)", f"/{huge}", url, count=1)
            elif type(converter).__name__.lower().startswith("any"):  # only its own words build a URL
                url = url_for(endpoint, **values)
                for value in ("%00", "%FF%FE", "x" * 3000, "%E2%80%AE", "..%2F..%2F"):
                    yield url.replace(f"/{values[name]}", f"/{value}", 1)
            elif name != "lang_code":
                for value in ("%00", "%FF%FE", "x" * 3000, "%E2%80%AE", "..%2F..%2F"):
                    yield url_for(endpoint, **{**values, name: "PLACEHOLDER"}).replace("PLACEHOLDER", value)


def _walk(app: Flask, client: FlaskClient, role: str, objects: dict[str, Any], values: list[str],
          fields: list[str]) -> list[str]:
    failures: dict[tuple[str, str, str], str] = {}

    def check(method: str, url: str, what: str, **options: Any) -> None:
        try:
            status: int | str = client.open(url, method=method, **options).status_code
        except Exception as exc:  # the test app raises what would be a 500
            status = f"{type(exc).__name__}: {str(exc)[:100]}"
            db.session.rollback()
        if not isinstance(status, int) or status >= 500:
            failures.setdefault((method, url.split("?")[0][:100], str(status)), what[:40])

    bad = INVALID_UTF8.decode()
    for endpoint, methods in sorted(_endpoints(app).items()):
        if endpoint == "auth.logout":
            continue  # would end the walk's own session
        read = REFUSED if role == "anonymous" and ROUTES[endpoint][0] != "public" else values
        url, *hostile_urls = _urls(app, endpoint, objects)
        for method in sorted(methods):
            for hostile_url in hostile_urls:
                check(method, hostile_url, "hostile URL")
            if method == "GET":
                check(method, url, "plain")
                for value in read:
                    query = "&".join(f"{name}={quote(value, safe='')}" for name in QUERY_PARAMS)
                    check(method, f"{url}?{query}", value)
                if endpoint == "inbox.index":  # each filter alone too: the first refused hides the others
                    for value in PER_FILTER if read is HOSTILE else REDUCED[:2]:
                        for name in QUERY_PARAMS:
                            check(method, f"{url}?queue=all&{name}={quote(value, safe='')}", f"{name}={value}")
                if endpoint == "audit_log.index":  # audit (issue 12): the audit log's filters, each alone
                    for value in PER_FILTER if read is HOSTILE else REDUCED[:2]:
                        for name in AUDIT_PARAMS:
                            check(method, f"{url}?{name}={quote(value, safe='')}", f"{name}={value}")
                if endpoint == "inbox.index":
                    for cursor in FORGED_CURSORS:
                        for sort in ("received", "due", "updated", "priority"):
                            check(method, f"{url}?queue=all&sort={sort}&cursor={quote(cursor, safe='')}", cursor)
                check(method, f"{url}?" + "&".join(f"{name}={bad}" for name in QUERY_PARAMS), "invalid UTF-8")
            else:
                for value in read:
                    check(method, url, value, data={name: value for name in fields})
                body = b"&".join(name.encode() + b"=" + INVALID_UTF8 for name in fields)
                check(method, url, "invalid UTF-8", data=body, content_type="application/x-www-form-urlencoded")
    return [f"{method} {url} as {role} with {what!r}: {status}" for (method, url, status), what in failures.items()]


@pytest.mark.parametrize("role", [None, *ROLES])
def test_no_hostile_input_gives_a_server_error(app: Flask, role: str | None) -> None:
    objects = _objects()
    admin = app.test_client()
    sign_in(admin, make_user(role="admin"))
    with app.test_request_context():
        page_urls = [url_for(endpoint, **ROUTES[endpoint][1](objects)) for endpoint, methods in
                     _endpoints(app).items() if "GET" in methods]
    fields = _form_field_names(app, admin, page_urls)
    client = app.test_client()
    if role:
        sign_in(client, make_user(role=role))
    values = HOSTILE if role in (None, "admin") else REDUCED
    failures = _walk(app, client, role or "anonymous", objects, values, fields)
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures[:60])


def test_huge_ids_in_urls_and_query_strings_are_not_found_not_errors(app: Flask) -> None:
    """Issue 11 (Low): /staff/inquiries/99999999999999999999 and ?before=10^23 were 500s."""
    client = app.test_client()
    sign_in(client, make_user(role="admin"))
    assert client.get("/staff/inquiries/99999999999999999999").status_code == 404
    assert client.get(f"/staff/inquiries/{2**31}").status_code == 404
    assert client.get(f"/staff/admin/audit?before={10**23}").status_code == 200
    assert client.get("/staff/inquiries/?queue=all&assignee=999999999999999999999").status_code == 302
