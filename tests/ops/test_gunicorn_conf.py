"""gunicorn.conf.py: workers, address, and an access log with no query string and no private-link token."""

from __future__ import annotations

import datetime
import importlib.util
import logging
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

CONF_PATH = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def load_conf(monkeypatch: pytest.MonkeyPatch, **env: str) -> ModuleType:
    for name in ("WEB_CONCURRENCY", "WEB_MAX_WORKERS", "BIND", "PORT", "GUNICORN_ACCESS_LOG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("gunicorn_conf_under_test", CONF_PATH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_workers_from_cores_capped_and_overridable(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = load_conf(monkeypatch)
    assert conf.default_workers(cores=1, cap=8) == 3
    assert conf.default_workers(cores=2, cap=8) == 5
    assert conf.default_workers(cores=16, cap=8) == 8
    assert load_conf(monkeypatch, WEB_CONCURRENCY="3").workers == 3


def test_bind_from_port_or_bind(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_conf(monkeypatch).bind == ["127.0.0.1:8000"]
    assert load_conf(monkeypatch, PORT="9001").bind == ["127.0.0.1:9001"]
    assert load_conf(monkeypatch, BIND="unix:/run/x.sock").bind == ["unix:/run/x.sock"]


def test_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = load_conf(monkeypatch)
    assert conf.timeout == 30 and conf.graceful_timeout and conf.keepalive
    assert conf.max_requests > 0 and conf.max_requests_jitter > 0
    assert conf.accesslog == "-" and conf.forwarded_allow_ips == "127.0.0.1,::1"
    assert conf.control_socket_disable is True  # gunicorn 27 has the setting


def test_the_settings_are_valid_for_gunicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    from gunicorn.config import Config

    conf = load_conf(monkeypatch)
    config = Config()
    for name in ("bind", "workers", "timeout", "graceful_timeout", "keepalive", "max_requests",
                 "max_requests_jitter", "forwarded_allow_ips", "accesslog", "logger_class", "access_log_format",
                 "control_socket_disable"):
        config.set(name, getattr(conf, name))
    assert config.logger_class is conf.RedactingLogger


def test_redact_atoms_drops_the_query_and_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = load_conf(monkeypatch)
    atoms = conf.redact_atoms({
        "h": "203.0.113.9", "m": "POST", "U": "/fr/portail/TOKEN123", "q": "email=a%40b.c", "H": "HTTP/1.1",
        "r": "POST /fr/portail/TOKEN123?email=a%40b.c HTTP/1.1", "f": "https://desk.example.org/en/portal/TOK2?x=1",
        "{cookie}i": "session=SESSION", "{authorization}i": "Bearer SECRET", "{raw_uri}e": "/fr/portail/TOKEN123",
        "{x-request-id}o": "rid-1",
    })
    assert atoms["r"] == "POST /fr/portail/[redacted] HTTP/1.1"
    assert atoms["U"] == "/fr/portail/[redacted]" and atoms["q"] == ""
    assert atoms["f"] == "https://desk.example.org/en/portal/[redacted]"
    assert atoms["{x-request-id}o"] == "rid-1"
    assert not any(secret in str(atoms) for secret in ("TOKEN", "TOK2", "SESSION", "SECRET", "a%40b"))


def test_the_access_log_line(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """The logger class gunicorn uses, given a real-looking request: the line has no token and no query."""
    conf = load_conf(monkeypatch)
    from gunicorn.config import Config

    config = Config()
    config.set("accesslog", "-")
    config.set("access_log_format", conf.access_log_format)
    logger = conf.RedactingLogger(config)
    logger.access_log.propagate = True
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/en/portal/abcTOKEN?email=x%40y.z", "PATH_INFO":
               "/en/portal/abcTOKEN", "QUERY_STRING": "email=x%40y.z", "SERVER_PROTOCOL": "HTTP/1.1",
               "REMOTE_ADDR": "127.0.0.1", "HTTP_REFERER": "http://h/fr/portail/abcTOKEN?q=1",
               "HTTP_USER_AGENT": "test-agent"}
    response = SimpleNamespace(status="200 OK", sent=12, headers=[("X-Request-ID", "rid-42")])
    request = SimpleNamespace(headers=[("Referer", "http://h/fr/portail/abcTOKEN?q=1")])
    with caplog.at_level(logging.INFO, logger="gunicorn.access"):
        logger.access(response, request, environ, datetime.timedelta(milliseconds=15))
    lines = [record.getMessage() for record in caplog.records if record.name == "gunicorn.access"]
    assert len(lines) == 1
    line = lines[0]
    assert '"GET /en/portal/[redacted] HTTP/1.1" 200 12' in line and "rid=rid-42" in line
    assert "abcTOKEN" not in line and "email" not in line and "q=1" not in line


def test_the_error_log_loses_query_strings_and_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 11, H3: gunicorn names the URI of a request that failed; its query string stays out."""
    import io
    import logging

    from gunicorn.config import Config

    logger = load_conf(monkeypatch).RedactingLogger(Config())
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.error_log.addHandler(handler)
    try:
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logger.exception("Error handling request %s %s", "GET", "/staff/inquiries?q=secret+words")
        logger.error("outbox: email 3 failed for good: 550 <farida@example.net> unknown")
    finally:
        logger.error_log.removeHandler(handler)
    assert "secret" not in stream.getvalue() and "farida" not in stream.getvalue()
    assert "GET /staff/inquiries" in stream.getvalue() and "boom" in stream.getvalue()
