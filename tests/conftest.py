"""Test fixtures: a database built by the migrations, the app, clients and helpers.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is
set. Each test gets a clean database: on SQLite a copy of a migrated template
file, on PostgreSQL the migrated schema with every table truncated.
"""

from __future__ import annotations

import contextvars
import os
import shutil
import smtplib
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, select, text

from config import TestingConfig
from inquiry_desk import create_app
from inquiry_desk.core.extensions import db

from .helpers import make_user, sign_in

PROJECT_DIR = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "").strip()


def _normalise(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def is_postgres() -> bool:
    return bool(POSTGRES_URL)


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {'PostgreSQL ' + POSTGRES_URL if is_postgres() else 'SQLite (file copies)'}"


class IsolatedClient(FlaskClient):
    """Each request runs as under a WSGI server: in contexts of its own, torn down before the body is read.

    The request runs in a fresh ``contextvars.Context``, so the test's own app context
    (and its database session) is neither reused nor disturbed, and Flask pushes and pops
    the request's app context itself. As under gunicorn, that pop (whose teardown removes
    the database session) comes when the app returns, *before* the body is read: a
    streamed response that leans on the request's session fails here as it fails in
    production. Then the body is read and the response closed, and what runs on close
    runs (with ``buffered=False`` the test closes it). ``response.was_streamed`` tells
    whether the app streamed the body.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        buffered = kwargs.pop("buffered", True)

        def run() -> Any:
            response = super(IsolatedClient, self).open(*args, buffered=False, **kwargs)
            response.was_streamed = response.is_streamed
            try:
                response.get_data()
            finally:
                if buffered:
                    response.close()
            return response

        return contextvars.Context().run(run)


def build_app(database_url: str, **overrides: object) -> Flask:
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url
    config = TestingConfig(env)
    for key, value in overrides.items():
        setattr(config, key, value)
    app = create_app(config)
    app.test_client_class = IsolatedClient
    return app


def upgrade_to_head(database_url: str) -> None:
    from flask_migrate import upgrade

    app = build_app(database_url)
    with app.app_context():
        upgrade(directory=str(PROJECT_DIR / "migrations"))
        db.engine.dispose()


def reset_postgres_schema(database_url: str) -> None:
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def compiled_translations() -> None:
    """Compile the catalogues so that pages show French (the .mo files are not in git)."""
    subprocess.run(
        [str(Path(sys.executable).parent / "pybabel"), "compile", "--use-fuzzy", "--statistics", "-d",
         str(PROJECT_DIR / "inquiry_desk" / "translations")],
        check=True,
    )


def _private_postgres_database(url: str) -> Iterator[str]:
    """A database of this test run's own (the default), so that runs in parallel never meet."""
    name = f"test_private_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url = _normalise(POSTGRES_URL)
    if os.environ.get("TEST_PRIVATE_DATABASE", "1") != "0":
        yield from _private_postgres_database(url)
    else:
        yield url


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory, compiled_translations: None,
                      request: pytest.FixtureRequest) -> str:
    """The migrated database every test starts from: a file (SQLite) or a URL (PostgreSQL)."""
    if is_postgres():
        url = request.getfixturevalue("postgres_url")
        reset_postgres_schema(url)
        upgrade_to_head(url)
        _snapshot_reference_data(url)
        return url
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    upgrade_to_head(f"sqlite:///{path}")
    return str(path)


# Reference data that migrations load (as on a real install): put back as it was before each test.
REFERENCE_TABLES = {"topics", "team_calendar", "service_targets"}


_REFERENCE_ROWS: dict[str, list[dict[str, object]]] = {}


def _snapshot_reference_data(url: str) -> None:
    """The reference rows as the migrations left them, put back before each test (a test may rename a topic)."""
    engine = create_engine(url)
    with engine.connect() as connection:
        for name in REFERENCE_TABLES:
            rows = connection.execute(select(db.metadata.tables[name]))
            _REFERENCE_ROWS[name] = [dict(row._mapping) for row in rows]
    engine.dispose()


def _truncate_all(app: Flask) -> None:
    with app.app_context():
        names = [table.name for table in db.metadata.sorted_tables]
        with db.engine.begin() as connection:
            # The audit log refuses TRUNCATE (a trigger); a superuser's replica mode skips triggers.
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
            for name, rows in _REFERENCE_ROWS.items():
                if rows:
                    connection.execute(db.metadata.tables[name].insert(), rows)
                table = db.metadata.tables[name]
                if "id" in table.columns:  # new rows continue after the reference ones
                    next_id = select(func.coalesce(func.max(table.c.id), 0) + 1).scalar_subquery()
                    connection.execute(select(func.setval(func.pg_get_serial_sequence(name, "id"), next_id, False)))


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> str:
    if is_postgres():
        return database_template
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(database_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app_factory(database_url: str) -> Iterator[Callable[..., Flask]]:
    """Build apps on the test's clean database; ``app_factory(WTF_CSRF_ENABLED=True)``."""
    built: list[Flask] = []

    def factory(**overrides: object) -> Flask:
        app = build_app(database_url, **overrides)
        if is_postgres() and not built:
            _truncate_all(app)
        built.append(app)
        return app

    yield factory
    for app in built:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(app_factory: Callable[..., Flask]) -> Iterator[Flask]:
    app = app_factory()
    with app.app_context():
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def signed_in(app: Flask) -> Callable[..., FlaskClient]:
    """``signed_in("officer")`` gives a client signed in as a new user of that role."""

    def make(role: str = "officer", **user_fields: object) -> FlaskClient:
        user = make_user(role=role, **user_fields)
        client = app.test_client()
        sign_in(client, user)
        client.user = user  # type: ignore[attr-defined]
        return client

    return make


@pytest.fixture(autouse=True)
def fresh_queue_counts() -> None:
    """Queue counts are cached per process; each test starts from a new database."""
    from inquiry_desk.inquiries import queues

    queues.forget_counts()


class UnexpectedSMTPConnection(AssertionError):
    pass


@pytest.fixture(autouse=True)
def no_unexpected_smtp(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Tests never reach a mail server by accident; tests that need one mark themselves."""
    if request.node.get_closest_marker("allow_smtp"):
        return

    def refuse(self: smtplib.SMTP, host: str = "localhost", port: int = 0, source_address: object = None) -> None:
        raise UnexpectedSMTPConnection(f"unexpected SMTP connection to {host}:{port}")

    monkeypatch.setattr(smtplib.SMTP, "connect", refuse)
