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
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError

from config import TestingConfig
from inquiry_desk import create_app
from inquiry_desk.accounts import passwords
from inquiry_desk.core.extensions import db

from .helpers import make_user, sign_in
from .processes import die_with_parent
from .url_builders import compile_each_url_builder_once

PROJECT_DIR = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "").strip()

compile_each_url_builder_once()

# argon2id with production's parameters (64 MiB, 3 passes, 4 lanes) costs ~0.5 s of CPU for a hash and its
# check: every make_user and every sign-in. Tests prove what is done with passwords, not the cost parameters,
# so in the test process they are the smallest argon2id allows (still argon2id, still salted). Servers the tests
# start as processes of their own (gunicorn, workers) keep production's.
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
passwords._DUMMY_HASH = passwords._hasher.hash("not-a-real-password-only-equalises-timing")


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
    """Compile the catalogues so that pages show French (the .mo files are not in git).

    `make test` runs several test processes at once, and each compiles at its start: each writes a file of its
    own and renames it over the catalogue, so that a process loading the catalogue meanwhile never reads one
    half written (pybabel itself rewrites the file in place).
    """
    for catalogue in sorted((PROJECT_DIR / "inquiry_desk" / "translations").glob("*/LC_MESSAGES/*.po")):
        compiled = catalogue.with_suffix(".mo")
        partial = compiled.with_name(f".{compiled.name}.{os.getpid()}")
        try:
            subprocess.run(
                [str(Path(sys.executable).parent / "pybabel"), "compile", "--use-fuzzy", "--statistics",
                 "-i", str(catalogue), "-o", str(partial)],
                check=True, preexec_fn=die_with_parent,
            )
            os.replace(partial, compiled)
        finally:
            partial.unlink(missing_ok=True)


def _private_postgres_database(url: str) -> Iterator[str]:
    """A database of this test run's own (the default), so that runs in parallel never meet."""
    name = f"test_private_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
        # Commits need not wait for the disk: a crash would lose the last few, which a test database can afford
        # (on a loaded machine, each wait costs several milliseconds, and tests commit thousands of times).
        connection.execute(text(f"ALTER DATABASE {name} SET synchronous_commit = off"))
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
# PostgreSQL: the query that finds what a test left (made once per run by _snapshot_reference_data), and
# whether the first full reset (from the migrations' state, which leaves some sequences behind) is done.
_RESET: dict[str, str | bool] = {"check": "", "truncated": False}
_SEQUENCE_TABLES: dict[str, str] = {}


def _reference_digest(name: str) -> str:
    return f"SELECT md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) FROM {name} r"  # noqa: S608


def _snapshot_reference_data(url: str) -> None:
    """The reference rows as the migrations left them, put back before each test (a test may rename a topic).

    Also the one query that tells what a test left behind: every table of the schema that has a row
    (not only the models' tables: fts_inquiries is made by hand), each reference table whose rows differ
    from the snapshot, and each sequence that has handed out a number.
    """
    engine = create_engine(url)
    with engine.connect() as connection:
        for name in REFERENCE_TABLES:
            rows = connection.execute(select(db.metadata.tables[name]))
            _REFERENCE_ROWS[name] = [dict(row._mapping) for row in rows]
        tables = connection.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
            " ORDER BY tablename")).scalars().all()
        _SEQUENCE_TABLES.update(connection.execute(text(
            "SELECT s.relname, t.relname FROM pg_class s JOIN pg_depend d ON d.objid = s.oid"
            " AND d.deptype IN ('a', 'i') JOIN pg_class t ON t.oid = d.refobjid WHERE s.relkind = 'S'")).all())
        # Names from the catalogue, not from input (hence the noqa for string-built SQL).
        checks = [f"SELECT 'table', '{name}' WHERE EXISTS (SELECT 1 FROM {name})"  # noqa: S608
                  for name in tables if name not in REFERENCE_TABLES]
        for name in sorted(REFERENCE_TABLES):
            digest = connection.execute(text(_reference_digest(name))).scalar_one()
            checks.append(f"SELECT 'reference', '{name}' WHERE ({_reference_digest(name)}) <> '{digest}'")
        # A sequence reset with setval(1, false) shows no last value until it hands one out; a reference table's
        # must give the number after its rows (the migrations insert them with their ids).
        reference_sequences = sorted(name for name, table in _SEQUENCE_TABLES.items() if table in REFERENCE_TABLES)
        checks.append("SELECT 'sequence', sequencename FROM pg_sequences WHERE schemaname = current_schema()"  # noqa: S608
                      " AND last_value IS NOT NULL"
                      f" AND sequencename NOT IN ({', '.join(repr(name) for name in reference_sequences)})")
        checks.extend(f"SELECT 'sequence', '{name}' FROM {name} WHERE (last_value, is_called) IS DISTINCT FROM"  # noqa: S608
                      f" ((SELECT coalesce(max(id), 0) + 1 FROM {_SEQUENCE_TABLES[name]}), false)"
                      for name in reference_sequences)
        _RESET["check"] = " UNION ALL ".join(checks)
    engine.dispose()


def _truncate_all(app: Flask) -> None:
    """Every table emptied, identities restarted, reference rows put back: the slow way (TRUNCATE makes new files)."""
    with app.app_context():
        names = [table.name for table in db.metadata.sorted_tables]
        with db.engine.begin() as connection:
            # The audit log refuses TRUNCATE (a trigger); a superuser's replica mode skips triggers.
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
            for name, rows in _REFERENCE_ROWS.items():
                if rows:
                    connection.execute(db.metadata.tables[name].insert(), rows)
                _restart_after_reference_rows(connection, name)


def _restart_after_reference_rows(connection: Any, name: str) -> None:
    table = db.metadata.tables[name]
    if "id" in table.columns:  # new rows continue after the reference ones
        next_id = select(func.coalesce(func.max(table.c.id), 0) + 1).scalar_subquery()
        connection.execute(select(func.setval(func.pg_get_serial_sequence(name, "id"), next_id, False)))


def _reset_postgres(app: Flask) -> None:
    """The database as _truncate_all leaves it, by deleting only what the last test left.

    TRUNCATE of ~50 tables costs 0.3-3 s (new files for each table and index); one query finds the
    tables that have rows (usually a handful), DELETE empties them and setval restarts the sequences
    that handed out numbers. Replica mode skips the audit log's append-only triggers and the foreign
    keys' triggers, which is safe because every table with a row is emptied.
    """
    if not _RESET["check"] or not _RESET["truncated"]:
        _truncate_all(app)
        _RESET["truncated"] = True
        return
    with app.app_context():
        try:
            with db.engine.connect() as connection:
                dirty = [(kind, name) for kind, name in connection.execute(text(str(_RESET["check"])))]
        except DBAPIError:  # a test left the schema changed (a migration test): the slow way still works
            _truncate_all(app)
            return
    if not dirty:
        return
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        for kind, name in dirty:
            if kind in ("table", "reference"):
                connection.execute(text(f"DELETE FROM {name}"))  # noqa: S608
            if kind == "reference" and _REFERENCE_ROWS[name]:
                connection.execute(db.metadata.tables[name].insert(), _REFERENCE_ROWS[name])
        for kind, name in dirty:
            if kind == "sequence":
                table = _SEQUENCE_TABLES.get(name)
                if table in REFERENCE_TABLES:
                    _restart_after_reference_rows(connection, table)
                else:
                    connection.execute(text(f"SELECT setval('{name}', 1, false)"))


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> str:
    if is_postgres():
        return database_template
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(database_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session", autouse=True)
def attachments_dir_of_the_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Files stored by an app built outside ``app_factory`` (or by a process a test starts) land in
    pytest's own temporary folder, never in TestingConfig's fallback in /tmp."""
    previous = os.environ.get("ATTACHMENTS_DIR")
    os.environ["ATTACHMENTS_DIR"] = str(tmp_path_factory.mktemp("attachments"))
    yield
    if previous is None:
        os.environ.pop("ATTACHMENTS_DIR", None)
    else:
        os.environ["ATTACHMENTS_DIR"] = previous


@pytest.fixture
def app_factory(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Build apps on the test's clean database; ``app_factory(WTF_CSRF_ENABLED=True)``.

    Each test's files go to its own ``tmp_path`` (a file another test stored is never found there)."""
    built: list[Flask] = []

    def factory(**overrides: object) -> Flask:
        overrides.setdefault("ATTACHMENTS_DIR", str(tmp_path / "attachments"))
        app = build_app(database_url, **overrides)
        if is_postgres() and not built:
            _reset_postgres(app)
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

