"""The floor for bench/intake.py (QUALITY.md P4): the real app plus one trivial insert.

``create_floor_app()`` builds the application exactly as ``wsgi:app`` does (same
``create_app``, same configuration from the environment, same extensions and
request hooks) and adds two routes under ``/bench/floor``:

- ``GET``: a trivial plain-text page (no template, no database);
- ``POST``: inserts one row into ``bench_floor_rows`` and redirects to the GET
  page, as the inquiry form redirects to its thanks page. It is exempt from
  CSRF and from rate limits, and is open to anyone.

The table is created with SQLAlchemy Core at start-up when it is missing; it is
not part of the app's models or migrations. Serve it with the same server as
the app::

    gunicorn -w 2 -b 127.0.0.1:8001 'bench.floor_app:create_floor_app()'
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, redirect, request
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, inspect
from sqlalchemy.exc import DatabaseError

from inquiry_desk import create_app
from inquiry_desk.core.access import public
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import csrf, db, limiter

log = logging.getLogger(__name__)

FLOOR_PATH = "/bench/floor"
floor_metadata = MetaData()
floor_rows = Table(
    "bench_floor_rows",
    floor_metadata,
    Column("id", Integer, primary_key=True),
    Column("payload", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

floor_bp = Blueprint("bench_floor", __name__)


@floor_bp.route(FLOOR_PATH, methods=["GET"])
@public
def floor_page() -> Response:
    return Response("floor\n", mimetype="text/plain")


@floor_bp.route(FLOOR_PATH, methods=["POST"])
@public
def floor_insert() -> Response:
    payload = (request.form.get("payload") or "-")[:200]
    db.session.execute(floor_rows.insert().values(payload=payload, created_at=utcnow()))
    db.session.commit()
    return redirect(FLOOR_PATH)


def _ensure_table(app: Flask) -> None:
    """Create bench_floor_rows when missing; tolerate another worker creating it at the same moment."""
    with app.app_context():
        try:
            floor_metadata.create_all(db.engine, checkfirst=True)
        except DatabaseError:
            if not inspect(db.engine).has_table(floor_rows.name):
                raise
            log.info("bench_floor_rows was created by another worker")


def create_floor_app() -> Flask:
    app = create_app()
    csrf.exempt(floor_bp)
    limiter.exempt(floor_bp)
    app.register_blueprint(floor_bp)
    _ensure_table(app)
    return app
