"""Prometheus metrics and the ``/metrics`` page.

``GET /metrics`` serves them to whoever presents ``Authorization: Bearer <METRICS_TOKEN>``;
without ``METRICS_TOKEN`` it does not exist (404). With gunicorn's several workers, set
``PROMETHEUS_MULTIPROC_DIR`` (an empty folder, emptied at each start) so that every
worker's counts are added up; without it each process answers with its own counts.

What lives in the database (the outbox backlog, each job's last run) is counted when
scraped, so it is right whichever process answers: each capability registers a
collector for its own tables with ``register_database_collector``.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable, Iterator

from flask import Blueprint, Flask, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from inquiry_desk.core.access import public
from inquiry_desk.core.extensions import csrf, db, limiter
from inquiry_desk.core.logs import REQUEST_LISTENERS

METRICS_ENDPOINT = "observability.metrics"

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

REQUEST_LATENCY = Histogram(
    "inquiry_desk_request_duration_seconds",
    "Time to answer a request, by route (the endpoint, not the raw path), method and status class.",
    ["endpoint", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
# A function that reads figures from the database at each scrape and yields metrics; it
# raises SQLAlchemyError when the database (or its table) is not there.
DatabaseReader = Callable[[], Iterator[Metric]]
_DATABASE_READERS: list[DatabaseReader] = []


def register_database_reader(reader: DatabaseReader) -> None:
    """Add a capability's figures from the database to ``/metrics`` (once per process)."""
    if reader not in _DATABASE_READERS:
        _DATABASE_READERS.append(reader)


def _observe_request(endpoint: str, status: int, seconds: float) -> None:
    if endpoint != METRICS_ENDPOINT:
        REQUEST_LATENCY.labels(endpoint=endpoint, method=request.method, status=f"{status // 100}xx").observe(seconds)


class DatabaseCollector(Collector):
    """What the database knows, read at each scrape (inside the /metrics request)."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("inquiry_desk_metrics_database_up",
                               "1 when the database answered the metrics queries, else 0.")
        for reader in _DATABASE_READERS:
            try:
                metrics = list(reader())
            except SQLAlchemyError:  # the database went away, or a table is missing (an older schema)
                db.session.rollback()
                up.add_metric([], 0)
                yield up
                return
            yield from metrics
        up.add_metric([], 1)
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


def init_app(app: Flask) -> None:
    if _observe_request not in REQUEST_LISTENERS:
        REQUEST_LISTENERS.append(_observe_request)
    csrf.exempt(observability_bp)
    limiter.exempt(observability_bp)
    app.register_blueprint(observability_bp)
