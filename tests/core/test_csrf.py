"""QUALITY.md S2: every state-changing request without a valid token is refused."""

from __future__ import annotations

from flask import url_for

from ..helpers import make_inquiry, make_user, sign_in
from ..test_authorisation import ROUTES, _endpoints


def test_every_post_without_a_token_is_refused(app_factory) -> None:
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        objects = {"target": make_user(role="viewer"), "inquiry": make_inquiry()}
        client = app.test_client()
        sign_in(client, make_user(role="admin"))
        checked = 0
        for endpoint, methods in _endpoints(app).items():
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


def test_a_refusal_before_the_language_is_set_answers_in_the_page_language(app_factory) -> None:
    """Issue 11, C1: the CSRF check runs before the language hook; its 400 page is still French on /fr/…."""
    from bs4 import BeautifulSoup

    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = app.test_client()
        response = client.post("/fr/demande", data={"message": "x"}, headers={"Accept-Language": "en"})
        assert response.status_code == 400
        soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
        assert soup.html.get("lang") == "fr"
        assert soup.select_one("a.lang-toggle").get("hreflang") == "en"
        assert "Bad request" not in soup.get_text()


# Policies that send a same-origin Referer on a POST: Flask-WTF checks it over HTTPS (WTF_CSRF_SSL_STRICT).
SENDS_SAME_ORIGIN_REFERER = {"same-origin", "strict-origin-when-cross-origin", "origin-when-cross-origin",
                             "strict-origin", "origin"}


def test_every_page_lets_the_browser_send_a_same_origin_referer(app_factory) -> None:
    """Issue 11, C1: no page with a form may say ``no-referrer``, or its POST is refused over HTTPS."""
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        objects = {"target": make_user(role="viewer"), "inquiry": make_inquiry()}
        client = app.test_client()
        sign_in(client, make_user(role="admin"))
        anonymous = app.test_client()
        checked = 0
        for endpoint, methods in _endpoints(app).items():
            if "GET" not in methods:
                continue
            with app.test_request_context():
                url = url_for(endpoint, **ROUTES[endpoint][1](objects))
            for who in (client, anonymous):
                policy = who.get(url).headers.get("Referrer-Policy")
                assert policy in SENDS_SAME_ORIGIN_REFERER, f"{url} says Referrer-Policy: {policy}"
                checked += 1
        assert checked >= 20
