"""The application shell: configuration, headers, errors, languages, health."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from config import ConfigError, ProductionConfig
from inquiry_desk.core.extensions import db

from ..conftest import build_app, is_postgres
from ..helpers import page


def test_production_refuses_to_start_without_a_secret_key() -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        ProductionConfig({"DATABASE_URL": "postgresql://db/inquiry_desk"})


def test_production_cookies_are_secure() -> None:
    config = ProductionConfig({"DATABASE_URL": "postgresql://db/x", "SECRET_KEY": "k" * 32})
    assert config.SESSION_COOKIE_SECURE and config.SESSION_COOKIE_HTTPONLY
    assert config.SESSION_COOKIE_SAMESITE == "Lax"
    assert config.SQLALCHEMY_DATABASE_URI.startswith("postgresql+psycopg://")


def test_security_headers_on_every_page(client) -> None:
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers


def test_hsts_when_served_over_tls(client) -> None:
    response = client.get("/", base_url="https://desk.example.org")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_session_cookie_is_httponly_and_samesite(client) -> None:
    client.get("/lang/fr?next=/")
    cookie = client.get_cookie("inquiry_desk_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def test_home_page_guesses_language_from_browser(client) -> None:
    soup = page(client.get("/", headers={"Accept-Language": "fr-CA,fr;q=0.9"}), lang="fr")
    assert soup.h1.get_text(strip=True) == "Bienvenue"
    assert soup.select_one("a.lang-toggle").get_text(strip=True) == "English"


def test_language_toggle_is_remembered(client) -> None:
    response = client.get("/lang/fr?next=/auth/login")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    soup = page(client.get("/auth/login"), lang="fr")
    assert "Connexion" in soup.h1.get_text()
    toggle = soup.select_one("a.lang-toggle")
    assert toggle["href"] == "/lang/en?next=/auth/login" and toggle["lang"] == "en"


def test_toggle_never_redirects_off_site(client) -> None:
    for target in ("https://evil.example", "//evil.example", "javascript:alert(1)"):
        response = client.get("/lang/en", query_string={"next": target})
        assert response.headers["Location"] == "/"


def test_localised_pages_link_to_their_twin(client) -> None:
    soup = page(client.get("/en/privacy"), lang="en")
    assert soup.select_one("a.lang-toggle")["href"] == "/fr/confidentialite"
    soup = page(client.get("/fr/confidentialite"), lang="fr")
    assert soup.select_one("a.lang-toggle")["href"] == "/en/privacy"
    # The URL's language is remembered for the pages that have no language in their URL.
    assert page(client.get("/auth/login")).html["lang"] == "fr"


def test_skip_link_is_the_first_focusable_element(client) -> None:
    soup = page(client.get("/"))
    first = soup.body.find(["a", "button", "input", "select", "textarea"])
    assert first["class"] == ["skip-link"] and first["href"] == "#main"
    assert soup.find("main", id="main") is not None


@pytest.mark.parametrize("lang, title", [("en", "Page not found"), ("fr", "Page introuvable")])
def test_not_found_page_in_both_languages(client, lang: str, title: str) -> None:
    client.get(f"/lang/{lang}")
    soup = page(client.get("/no-such-page"), status=404, lang=lang)
    assert soup.h1.get_text(strip=True) == title


def test_error_pages_exist_for_each_code(app) -> None:
    from inquiry_desk.core.errors import render_error

    with app.test_request_context("/"):
        from flask import g

        for lang in ("en", "fr"):
            g.lang = lang
            for code in (400, 403, 404, 429, 500, 503):
                body, status = render_error(code)
                assert status == code and f"{code}" in body


def test_unexpected_error_gives_a_500_page_without_traceback(app_factory) -> None:
    app = app_factory()
    app.testing = False

    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("secret detail")

    boom.access = "public"
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert b"secret detail" not in response.data and b"Traceback" not in response.data


def test_healthz_reports_the_database(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_unreachable() -> None:
    app = build_app("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["database"] == "unreachable"


def test_database_outage_gives_a_clean_503_page() -> None:
    app = build_app("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    response = app.test_client().post("/auth/login", data={"email": "a@example.org", "password": "x" * 12})
    assert response.status_code == 503
    assert b"Service unavailable" in response.data and b"Traceback" not in response.data


@pytest.mark.skipif(is_postgres(), reason="SQLite pragmas")
def test_sqlite_runs_with_wal_and_foreign_keys(app) -> None:
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_a_connection_lost_at_teardown_does_not_spoil_a_finished_page(app_factory, monkeypatch) -> None:
    """QUALITY.md R6: the database went away after the page was made; the final rollback fails."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    from inquiry_desk.core.access import public
    from inquiry_desk.core.extensions import db

    app = app_factory()

    @app.get("/test-teardown")
    @public
    def finished_page() -> str:
        db.session.execute(text("SELECT 1"))
        return "done"

    def lost(self: Session) -> None:
        raise OperationalError("ROLLBACK", {}, Exception("terminating connection due to administrator command"))

    monkeypatch.setattr(Session, "close", lost)
    response = app.test_client().get("/test-teardown")
    assert response.status_code == 200 and response.get_data(as_text=True) == "done"


def test_forwarded_headers_are_believed_from_configured_proxies_only(app_factory) -> None:
    """Issue 11, H1: the client address comes from X-Forwarded-For only when a trusted proxy sends it."""
    from flask import request

    app = app_factory(FORWARDED_ALLOW_IPS="10.0.0.0/8", PROXY_COUNT=1)
    seen: list[str | None] = []
    app.add_url_rule("/_peer", "peer", lambda: seen.append(request.remote_addr) or "ok")
    client = app.test_client()
    client.get("/_peer", headers={"X-Forwarded-For": "192.0.2.1, 203.0.113.5"},
               environ_base={"REMOTE_ADDR": "10.1.2.3"})
    client.get("/_peer", headers={"X-Forwarded-For": "203.0.113.5"}, environ_base={"REMOTE_ADDR": "192.0.2.77"})
    assert seen == ["203.0.113.5", "192.0.2.77"]


def test_forwarded_allow_ips_must_be_addresses() -> None:
    import pytest

    from config import ConfigError, TestingConfig

    with pytest.raises(ConfigError):
        TestingConfig({"FORWARDED_ALLOW_IPS": "proxy.example.org"})
    assert TestingConfig({"FORWARDED_ALLOW_IPS": "*"}).FORWARDED_ALLOW_IPS == "*"
