"""Issue 11, M4: the audit log cannot be truncated, and the app can run as a role that owns no table.

PostgreSQL only (SQLite has neither TRUNCATE nor roles).
"""

from __future__ import annotations

import os

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.extensions import db

from ..conftest import PROJECT_DIR, build_app, is_postgres
from ..helpers import make_inquiry

pytestmark = pytest.mark.skipif(not is_postgres(), reason="PostgreSQL's TRUNCATE and roles (TEST_DATABASE_URL)")


def test_the_audit_log_refuses_truncate_even_to_its_owner(app: Flask) -> None:
    make_inquiry()
    with db.engine.connect() as connection:
        with pytest.raises(DBAPIError, match="append-only"):
            connection.exec_driver_sql("TRUNCATE audit_events")
        connection.rollback()
        with pytest.raises(DBAPIError, match="append-only"):
            connection.exec_driver_sql("TRUNCATE users CASCADE")
        connection.rollback()
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent))


def test_the_app_runs_as_a_role_that_owns_no_table(app: Flask, database_url: str) -> None:
    role = f"inquiry_app_{os.getpid()}"
    owner = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with owner.connect() as connection:
        connection.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        connection.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
    try:
        app.config["DATABASE_APP_ROLE"] = role
        upgrade(directory=str(PROJECT_DIR / "migrations"))  # as the owner: grants what the role needs

        role_url = make_url(database_url).set(username=role, password=None).render_as_string(hide_password=False)
        role_app = build_app(role_url)
        with role_app.app_context():
            inquiry = make_inquiry(subject="Written by the app's own role")
            assert inquiry.reference
            with db.engine.connect() as connection:
                for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events",
                                  "TRUNCATE audit_events", "TRUNCATE inquiries CASCADE",
                                  "ALTER TABLE inquiries ADD COLUMN x integer", "DROP TABLE messages CASCADE",
                                  "DELETE FROM alembic_version"):
                    with pytest.raises(DBAPIError, match=r"permission denied|must be owner"):
                        connection.exec_driver_sql(statement)
                    connection.rollback()
            db.session.remove()
            db.engine.dispose()
    finally:
        db.session.remove()
        with owner.connect() as connection:
            connection.execute(text(f"DROP OWNED BY {role}"))
            connection.execute(text(f"DROP ROLE {role}"))
        owner.dispose()
