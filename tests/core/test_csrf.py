"""QUALITY.md S2: every state-changing request without a valid token is refused."""

from __future__ import annotations

from flask import url_for

from ..helpers import make_inquiry, make_user, sign_in
from ..test_authorisation import ROUTES, _endpoints

# Deliberately without a CSRF token: RFC 8058 one-click unsubscribe, where the signed token in
# the URL is the authority (tests/mailing/test_public.py checks it needs that exact body).
CSRF_EXEMPT = {"mailing.one_click"}


def test_every_post_without_a_token_is_refused(app_factory) -> None:
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        objects = {"target": make_user(role="viewer"), "inquiry": make_inquiry()}
        client = app.test_client()
        sign_in(client, make_user(role="admin"))
        checked = 0
        for endpoint, methods in _endpoints(app).items():
            if endpoint in CSRF_EXEMPT:
                continue
            for method in methods & {"POST", "PUT", "PATCH", "DELETE"}:
                with app.test_request_context():
                    url = url_for(endpoint, **ROUTES[endpoint][1](objects))
                response = client.open(url, method=method, data={"anything": "x"})
                assert response.status_code == 400, f"{method} {url} accepted without a CSRF token"
                checked += 1
        assert checked >= 8


def test_a_valid_token_is_accepted(app_factory) -> None:
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = app.test_client()
        page = client.get("/auth/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        response = client.post("/auth/login", data={"csrf_token": token, "email": "x@example.org",
                                                    "password": "whatever password"})
        assert response.status_code == 200 and b"not right" in response.data
