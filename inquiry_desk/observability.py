"""Request ids, JSON logs and Prometheus metrics (issue 6, "Production").

- Every request gets an id: the ``X-Request-ID`` header when it is a short safe
  token (a proxy's), else a new one. It is kept in ``g.request_id``, echoed in the
  response header, and written in every log line of the request.
- ``LOG_FORMAT=json`` (the production default) writes one JSON object per log
  record, plus one line per request (method, path, status, duration). Paths are
  written without their query string and with private-link tokens replaced by
  ``[redacted]``; no body, token, email address or password is ever logged here.
- ``GET /metrics`` serves Prometheus metrics to whoever presents
  ``Authorization: Bearer <METRICS_TOKEN>``; without ``METRICS_TOKEN`` it does not
  exist (404). With gunicorn's several workers, set ``PROMETHEUS_MULTIPROC_DIR``
  (an empty folder, emptied at each start) so that every worker's counts are added
  up; without it each process answers with its own counts.
- What lives in the database (the outbox backlog, each job's last run) is counted
  when scraped, so it is right whichever process answers.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, g, has_request_context, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from inquiry_desk.accounts.permissions import public
from inquiry_desk.extensions import csrf, db, limiter
from inquiry_desk.intake.links import NEW_LINK_PATHS, PORTAL_PATHS

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
REDACTED = "[redacted]"
REQUEST_LOGGER = "inquiry_desk.request"
METRICS_ENDPOINT = "observability.metrics"

# --------------------------------------------------------------------------- redaction


def _portal_prefixes() -> list[str]:
    return [path.split("<token>", 1)[0] for path in PORTAL_PATHS.values()]


# "/en/portal/<token>" (and anything under it), but not "/en/portal/new-link".
_NOT_TOKENS = {path.rsplit("/", 1)[1] for path in NEW_LINK_PATHS.values()}
_PORTAL_TOKEN = re.compile(
    "(" + "|".join(re.escape(prefix) for prefix in _portal_prefixes()) + r")([^/?#\s\"']+)"
)


def _replace_token(match: re.Match[str]) -> str:
    prefix, segment = match.group(1), match.group(2)
    return match.group(0) if segment in _NOT_TOKENS else prefix + REDACTED


def redact_path(path: str | None) -> str:
    """A path fit for a log: no query string or fragment, private-link tokens replaced."""
    if not path:
        return path or ""
    path = path.split("?", 1)[0].split("#", 1)[0]
    return _PORTAL_TOKEN.sub(_replace_token, path)


def redact_url(url: str | None) -> str:
    """A URL (a Referer) fit for a log: scheme and host kept, path redacted, query dropped."""
    if not url or url == "-":
        return url or ""
    match = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*)(.*)$", url)
    if match:
        return match.group(1) + redact_path(match.group(2))
    return redact_path(url)


def redact_text(text: str) -> str:
    """Private-link tokens replaced anywhere in a free text (a log message that names a path)."""
    return _PORTAL_TOKEN.sub(_replace_token, text)


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


# --------------------------------------------------------------------------- metrics

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

REQUEST_LATENCY = Histogram(
    "inquiry_desk_request_duration_seconds",
    "Time to answer a request, by route (the endpoint, not the raw path), method and status class.",
    ["endpoint", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
JOB_OUTCOMES = Counter(
    "inquiry_desk_job_outcomes",
    "Runs of scheduled jobs counted by the process that ran them, by job and outcome.",
    ["job", "outcome"],
)


def record_job_outcome(job: str, outcome: str) -> None:
    """Count one run of ``job`` that ended with ``outcome`` ("ok", "failed", …); called by the job runner."""
    JOB_OUTCOMES.labels(job=job, outcome=outcome).inc()


class DatabaseCollector(Collector):
    """What the database knows, read at each scrape (inside the /metrics request)."""

    def collect(self) -> Iterator[Metric]:
        from inquiry_desk.jobs.models import JobRun
        from inquiry_desk.mail.models import EmailStatus, OutgoingEmail

        backlog = GaugeMetricFamily("inquiry_desk_outbox_backlog", "Outgoing emails not sent, by status.",
                                    labels=["status"])
        up = GaugeMetricFamily("inquiry_desk_metrics_database_up",
                               "1 when the database answered the metrics queries, else 0.")
        try:
            counts = {status: count for status, count in db.session.execute(
                select(OutgoingEmail.status, func.count())
                .where(OutgoingEmail.status.in_([EmailStatus.PENDING.value, EmailStatus.FAILED.value]))
                .group_by(OutgoingEmail.status)
            )}
        except SQLAlchemyError:
            db.session.rollback()
            up.add_metric([], 0)
            yield up
            return
        for status in (EmailStatus.PENDING.value, EmailStatus.FAILED.value):
            backlog.add_metric([status], counts.get(status, 0))
        yield backlog

        finished = GaugeMetricFamily("inquiry_desk_job_last_run_finished_timestamp_seconds",
                                     "When the last finished run of each job ended (Unix time).", labels=["job"])
        success = GaugeMetricFamily("inquiry_desk_job_last_run_success",
                                    "1 when the last finished run of each job succeeded, 0 when it failed.",
                                    labels=["job"])
        try:
            latest = (select(JobRun.job, func.max(JobRun.started_at).label("started_at"))
                      .where(JobRun.finished_at.is_not(None)).group_by(JobRun.job).subquery())
            rows = db.session.execute(
                select(JobRun.job, JobRun.outcome, JobRun.finished_at)
                .join(latest, (JobRun.job == latest.c.job) & (JobRun.started_at == latest.c.started_at))
            ).all()
        except SQLAlchemyError:  # the jobs table is missing (an older schema) or the database went away
            db.session.rollback()
            up.add_metric([], 0)
            yield up
            return
        seen: set[str] = set()
        for job, outcome, finished_at in rows:
            if job in seen:  # two runs started at the same instant: one is enough
                continue
            seen.add(job)
            if finished_at is not None:
                if finished_at.tzinfo is None:
                    finished_at = finished_at.replace(tzinfo=UTC)
                finished.add_metric([job], finished_at.timestamp())
            success.add_metric([job], 1 if outcome == "ok" else 0)
        up.add_metric([], 1)
        yield finished
        yield success
        yield up


def metrics_text() -> bytes:
    """Every metric in Prometheus' text format: the processes' counts, then the database's."""
    if MULTIPROCESS:
        from prometheus_client import multiprocess

        process_registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(process_registry)
    else:
        process_registry = REGISTRY
    database_registry = CollectorRegistry(auto_describe=False)
    database_registry.register(DatabaseCollector())
    return generate_latest(process_registry) + generate_latest(database_registry)


observability_bp = Blueprint("observability", __name__)


@observability_bp.route("/metrics")
@public  # not open to the public: the view checks its own bearer token
def metrics() -> Response:
    token = current_app.config.get("METRICS_TOKEN") or ""
    if not token:
        abort(404)
    given = request.headers.get("Authorization", "")
    scheme, _, credentials = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(credentials.strip().encode(), token.encode()):
        return Response("unauthorized\n", 401, {"WWW-Authenticate": 'Bearer realm="metrics"'},
                        mimetype="text/plain")
    return Response(metrics_text(), 200, {"Cache-Control": "no-store"}, content_type=CONTENT_TYPE_LATEST)


# --------------------------------------------------------------------------- wiring


def _status_class(status: int) -> str:
    return f"{status // 100}xx"


def init_app(app: Flask) -> None:
    if app.config.get("LOG_FORMAT") == "json":
        _use_json_logs()
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
        if endpoint != METRICS_ENDPOINT:
            REQUEST_LATENCY.labels(endpoint=endpoint, method=request.method,
                                   status=_status_class(response.status_code)).observe(duration)
        if app.config.get("LOG_FORMAT") == "json":
            request_log.info("request", extra={"status": response.status_code, "endpoint": endpoint,
                                               "duration_ms": round(duration * 1000, 1)})
        return response

    csrf.exempt(observability_bp)
    limiter.exempt(observability_bp)
    app.register_blueprint(observability_bp)
