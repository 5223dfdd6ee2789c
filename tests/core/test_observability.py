"""Request ids, JSON log lines (core/logs.py) and the /metrics endpoint (core/metrics.py)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from flask import Flask

from inquiry_desk.core import logs, metrics
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.jobs.metrics import record_job_outcome
from inquiry_desk.jobs.models import JobRun
from inquiry_desk.mail.models import OutgoingEmail

TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the JSON formatter writes for every record of the app's loggers during the test."""
    stream = io.StringIO()
    handler = logs.json_handler(stream)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def _records(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_every_response_carries_a_request_id(client) -> None:
    first, second = client.get("/healthz"), client.get("/healthz")
    assert len(first.headers["X-Request-ID"]) == 32
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


def test_a_safe_request_id_from_a_proxy_is_kept_and_an_unsafe_one_replaced(client) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "proxy-abc.123:9"}).headers["X-Request-ID"] == \
        "proxy-abc.123:9"
    for unsafe in ("short", "x" * 65, "bad id with spaces", "<script>alert(1)</script>"):
        echoed = client.get("/healthz", headers={"X-Request-ID": unsafe}).headers["X-Request-ID"]
        assert echoed != unsafe and len(echoed) == 32


def test_json_request_line_has_the_fields_and_no_token_or_query(app_factory: Callable[..., Flask],
                                                                 json_lines: io.StringIO) -> None:
    app = app_factory(LOG_FORMAT="json")
    token = "s3cr3t-portal-token-value"
    response = app.test_client().get(f"/en/portal/{token}?email=farida%40example.net&t=abc",
                                     headers={"X-Request-ID": "req-0123456789"})
    lines = _records(json_lines)
    requests = [line for line in lines if line["logger"] == logs.REQUEST_LOGGER]
    assert len(requests) == 1
    line = requests[0]
    assert set(line) >= {"time", "level", "logger", "message", "request_id", "method", "path", "status",
                         "duration_ms"}
    assert line["request_id"] == "req-0123456789" == response.headers["X-Request-ID"]
    assert line["method"] == "GET" and line["status"] == response.status_code
    assert line["path"] == "/en/portal/[redacted]"
    assert isinstance(line["duration_ms"], float) and line["level"] == "INFO"
    everything = json_lines.getvalue()
    assert token not in everything and "farida" not in everything and "email=" not in everything


def test_json_formatter_redacts_tokens_in_messages_and_works_outside_requests() -> None:
    record = logging.LogRecord("inquiry_desk.core.errors", logging.WARNING, __file__, 1,
                               "database unavailable during %s %s", ("GET", "/fr/portail/abcdefTOKEN"), None)
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["message"] == "database unavailable during GET /fr/portail/[redacted]"
    assert "request_id" not in line and line["level"] == "WARNING"


@pytest.mark.parametrize(("path", "expected"), [
    ("/en/portal/abc123", "/en/portal/[redacted]"),
    ("/fr/portail/abc123?x=1", "/fr/portail/[redacted]"),
    ("/en/portal/new-link", "/en/portal/new-link"),
    ("/fr/portail/nouveau-lien", "/fr/portail/nouveau-lien"),
    ("/en/inquiry?email=a@b.c", "/en/inquiry"),
    ("/", "/"),
])
def test_redact_path(path: str, expected: str) -> None:
    assert logs.redact_path(path) == expected


def test_text_logs_by_default_and_json_in_production() -> None:
    from config import DevelopmentConfig, ProductionConfig

    assert DevelopmentConfig({"SECRET_KEY": "x"}).LOG_FORMAT == "text"
    production = ProductionConfig({"SECRET_KEY": "x", "DATABASE_URL": "postgresql://u@h/d"})
    assert production.LOG_FORMAT == "json"
    assert production.SQLALCHEMY_ENGINE_OPTIONS["pool_pre_ping"] is True
    assert production.SQLALCHEMY_ENGINE_OPTIONS["pool_size"] == 5
    assert ProductionConfig({"SECRET_KEY": "x", "DATABASE_URL": "postgresql://u@h/d", "DATABASE_POOL_SIZE": "12"}
                            ).SQLALCHEMY_ENGINE_OPTIONS["pool_size"] == 12


def test_metrics_is_404_without_a_configured_token(client) -> None:
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def test_metrics_refuses_a_wrong_or_missing_token(app_factory: Callable[..., Flask]) -> None:
    client = app_factory(METRICS_TOKEN=TOKEN).test_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"},
                    {"Authorization": f"Bearer {TOKEN}x"}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code in (401, 404), headers
        assert b"inquiry_desk" not in response.data


def test_metrics_with_the_token(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(METRICS_TOKEN=TOKEN)
    client = app.test_client()
    now = utcnow()
    with app.app_context():
        for number, status in enumerate(("pending", "pending", "failed", "sent")):
            db.session.add(OutgoingEmail(cause_key=f"test:{number}", to_address="a@example.net",
                                         from_address="desk@example.org", subject="s", body_text="b",
                                         message_id=f"<{number}@test>", language="en", status=status,
                                         next_attempt_at=now))
        db.session.add(JobRun(job="sweeper", occurrence="sweeper@1", started_at=now - timedelta(minutes=2),
                              finished_at=now - timedelta(minutes=2), outcome="failed"))
        db.session.add(JobRun(job="sweeper", occurrence="sweeper@2", started_at=now - timedelta(minutes=1),
                              finished_at=now - timedelta(minutes=1), outcome="ok"))
        db.session.commit()
    client.get("/healthz")
    record_job_outcome("sweeper", "ok")
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    body = response.get_data(as_text=True)
    assert "inquiry_desk_request_duration_seconds_bucket{" in body
    assert 'endpoint="public.healthz",method="GET",status="2xx"' in body
    assert 'inquiry_desk_outbox_backlog{status="pending"} 2.0' in body
    assert 'inquiry_desk_outbox_backlog{status="failed"} 1.0' in body
    assert 'inquiry_desk_job_last_run_success{job="sweeper"} 1.0' in body
    assert 'inquiry_desk_job_outcomes_total{job="sweeper",outcome="ok"}' in body
    assert "inquiry_desk_metrics_database_up 1.0" in body
    assert "/metrics" not in body  # the scrape itself is not a route in the histogram


def test_metrics_is_exempt_from_csrf_and_is_declared_public(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(WTF_CSRF_ENABLED=True, METRICS_TOKEN=TOKEN)
    assert app.view_functions[metrics.METRICS_ENDPOINT].access == "public"
    response = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200


def _captured(logger: logging.Logger) -> tuple[io.StringIO, logging.Handler]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    return stream, handler


def test_development_server_log_lines_lose_query_strings_tokens_and_addresses(app: Flask) -> None:
    """Issue 11, H3: the development server's request lines are redacted (gunicorn's: tests/ops)."""
    token = "A" * 43
    werkzeug_log = logging.getLogger("werkzeug")
    stream, handler = _captured(werkzeug_log)
    level = werkzeug_log.level
    werkzeug_log.setLevel(logging.INFO)
    try:
        werkzeug_log.info('%s - - [30/Nov/2026 09:00:00] "%s" %s -', "127.0.0.1",
                          f"GET /EN/portal/{token}?q=secret+words&email=farida@example.net HTTP/1.1", "200")
    finally:
        werkzeug_log.removeHandler(handler)
        werkzeug_log.setLevel(level)
    line = stream.getvalue()
    assert token not in line and "secret" not in line and "farida" not in line and "/EN/portal/" in line


def test_the_rate_limiter_logs_no_key(app: Flask) -> None:
    limiter_log = logging.getLogger("flask-limiter")
    stream, handler = _captured(limiter_log)
    level = limiter_log.level
    limiter_log.setLevel(logging.INFO)
    try:
        limiter_log.info("ratelimit %s (%s) exceeded at endpoint: %s", "10 per 1 minute",
                         "login-email:Sapphire-Walrus-Password", "auth.login")
    finally:
        limiter_log.removeHandler(handler)
        limiter_log.setLevel(level)
    assert "Sapphire" not in stream.getvalue() and "exceeded at endpoint: auth.login" in stream.getvalue()


def test_the_sign_in_limit_key_is_a_hash_of_what_was_typed(app: Flask) -> None:
    from inquiry_desk.accounts.views import _email_key

    with app.test_request_context("/auth/login", method="POST", data={"email": "Sapphire-Walrus-Password"}):
        key = _email_key()
    assert "Sapphire" not in key and "sapphire" not in key and key.startswith("login-email:")
