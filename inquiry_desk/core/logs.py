"""Request ids and JSON log lines, with secrets kept out of every line.

- Every request gets an id: the ``X-Request-ID`` header when it is a short safe
  token (a proxy's), else a new one. It is kept in ``g.request_id``, echoed in the
  response header, and written in every log line of the request.
- ``LOG_FORMAT=json`` (the production default) writes one JSON object per log
  record, plus one line per request (method, path, status, duration). Paths are
  written without their query string and with private-link tokens replaced by
  ``[redacted]``; no body, token, email address or password is ever logged here.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
REDACTED = "[redacted]"
REQUEST_LOGGER = "inquiry_desk.request"
# Called after each request with (endpoint, status, seconds): metrics listen here.
REQUEST_LISTENERS: list[Callable[[str, int, float], None]] = []

# --------------------------------------------------------------------------- redaction

# Path prefixes followed by a secret (a private-link token), registered by the capability
# that owns the route, e.g. ("/en/portal/", "/fr/portail/"); segments in ``_NOT_SECRETS``
# ("new-link") are ordinary pages under such a prefix. Matching ignores case: a server
# answers /EN/portal/<token> too, so the log must hide it too.
_SECRET_PREFIXES: list[str] = []
_NOT_SECRETS: set[str] = set()
_pattern: re.Pattern[str] | None = None
# Any long random-looking segment is hidden as well, whatever route it belongs to.
_LONG_TOKEN = re.compile(r"(?<=/)[A-Za-z0-9_\-.~]{32,}(?=/|$)")


def register_secret_paths(prefixes: list[str], not_secrets: Iterable[str] = ()) -> None:
    """Hide what follows these path prefixes in every log line (called by the owning capability)."""
    global _pattern
    for prefix in prefixes:
        if prefix.lower() not in (known.lower() for known in _SECRET_PREFIXES):
            _SECRET_PREFIXES.append(prefix)
    _NOT_SECRETS.update(segment.lower() for segment in not_secrets)
    _pattern = None


def _secret_pattern() -> re.Pattern[str] | None:
    global _pattern
    if _pattern is None and _SECRET_PREFIXES:
        _pattern = re.compile("(" + "|".join(re.escape(prefix) for prefix in _SECRET_PREFIXES) + r")([^/?#\s\"']+)",
                              re.IGNORECASE)
    return _pattern


def _replace_token(match: re.Match[str]) -> str:
    prefix, segment = match.group(1), match.group(2)
    return match.group(0) if segment.lower() in _NOT_SECRETS else prefix + REDACTED


def redact_text(text: str) -> str:
    """Secrets in paths replaced anywhere in a free text (a log message that names a path)."""
    pattern = _secret_pattern()
    return pattern.sub(_replace_token, text) if pattern is not None else text


def redact_path(path: str | None) -> str:
    """A path fit for a log: no query string or fragment, secrets (private-link tokens) replaced."""
    if not path:
        return path or ""
    path = path.split("?", 1)[0].split("#", 1)[0]
    return _LONG_TOKEN.sub(REDACTED, redact_text(path))


def redact_url(url: str | None) -> str:
    """A URL (a Referer) fit for a log: scheme and host kept, path redacted, query dropped."""
    if not url or url == "-":
        return url or ""
    match = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*)(.*)$", url)
    if match:
        return match.group(1) + redact_path(match.group(2))
    return redact_path(url)


_QUERY_STRING = re.compile(r"(/[^\s?#\"']*)\?[^\s\"']*")
_EMAIL_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
EMAIL_REDACTED = "[email]"


def redact_message(text: str) -> str:
    """A free log message fit for a log: tokens in paths, query strings and email addresses removed."""
    text = _QUERY_STRING.sub(r"\1", redact_text(text))
    return _EMAIL_ADDRESS.sub(EMAIL_REDACTED, text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with ``redact_message`` (QUALITY.md S8: no personal data in logs).

    Put on the handlers of the root logger (every app and library record passes them) and
    on the loggers of the servers (werkzeug's development server logs request lines with
    their query strings; gunicorn's error log names the URI of a request that failed).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a record whose arguments do not fit its format: keep it as it is
            return True
        if record.name == "flask-limiter" and message.startswith("ratelimit "):
            # "ratelimit 5 per 1 minute (<key>) exceeded at endpoint: x": the key is an address or an account.
            message = re.sub(r"\(.*\) exceeded", "exceeded", message, count=1)
        clean = redact_message(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact_message(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact_message(record.exc_text)
        return True


REDACTED_LOGGERS = ("werkzeug", "gunicorn.error", "gunicorn.access", "flask-limiter")


def install_redaction(logger: logging.Logger | None = None) -> None:
    """The redacting filter on ``logger`` (or the root logger's handlers and the servers' loggers), once."""
    targets: list[logging.Filterer] = []
    if logger is not None:
        targets = [logger]
    else:
        targets = [*logging.getLogger().handlers, *(logging.getLogger(name) for name in REDACTED_LOGGERS)]
    for target in targets:
        if not any(isinstance(existing, RedactingFilter) for existing in target.filters):
            target.addFilter(RedactingFilter())


# --------------------------------------------------------------------------- request ids


def request_id_from(header: str | None) -> str:
    """The caller's id when it is a short safe token, else a new random one."""
    if header and _SAFE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


# --------------------------------------------------------------------------- JSON logs


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and, inside a request, its id, method and path."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_text(record.getMessage()),
        }
        if has_request_context():
            entry["request_id"] = g.get("request_id")
            entry["method"] = request.method
            entry["path"] = redact_path(request.path)
        for name in ("status", "duration_ms", "endpoint"):
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def json_handler(stream: Any = None) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler._inquiry_desk_json = True  # type: ignore[attr-defined]
    return handler


def _use_json_logs() -> None:
    """Give the root logger's plain stream handlers (``logging.basicConfig``'s) the JSON formatter."""
    root = logging.getLogger()
    plain = [handler for handler in root.handlers if type(handler) is logging.StreamHandler]
    if not plain:
        root.addHandler(json_handler())
        return
    for handler in plain:
        handler.setFormatter(JsonFormatter())


# --------------------------------------------------------------------------- wiring


def init_app(app: Flask) -> None:
    """Request ids on every request, JSON logs when ``LOG_FORMAT=json``, and request timing."""
    if app.config.get("LOG_FORMAT") == "json":
        _use_json_logs()
    install_redaction()
    request_log = logging.getLogger(REQUEST_LOGGER)

    def _start_request() -> None:
        g.request_started = time.perf_counter()
        g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))

    # First of all: a hook registered earlier may answer the request itself, and its log lines need the id.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)

    @app.after_request
    def _finish_request(response: Response) -> Response:
        request_id = g.get("request_id") or request_id_from(None)
        response.headers[REQUEST_ID_HEADER] = request_id
        started = g.get("request_started")
        duration = time.perf_counter() - started if started is not None else 0.0
        endpoint = request.endpoint or "none"  # "none": no route matched (404, 405)
        for listener in REQUEST_LISTENERS:
            listener(endpoint, response.status_code, duration)
        if app.config.get("LOG_FORMAT") == "json":
            request_log.info("request", extra={"status": response.status_code, "endpoint": endpoint,
                                               "duration_ms": round(duration * 1000, 1)})
        return response
