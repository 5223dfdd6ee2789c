"""Database helpers shared by every capability: connection set-up, UTC timestamps, upserts, row counts."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, event
from sqlalchemy.types import TypeDecorator

_configured = False


def configure_engine_events() -> None:
    """Switch on WAL and foreign keys for every SQLite connection (once per process)."""
    global _configured
    if _configured:
        return
    _configured = True

    @event.listens_for(Engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
        if type(dbapi_connection).__module__.startswith("sqlite3"):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no time zone, so values are normalised to UTC on the way in
    and marked as UTC on the way out; PostgreSQL stores ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def insert_unless_exists(model: Any, values: dict[str, Any], unique_columns: list[str]) -> Any:
    """INSERT … ON CONFLICT (unique columns) DO NOTHING RETURNING id, on PostgreSQL and SQLite.

    The unique key settles a race between two transactions without an error and
    without a savepoint (the sqlite3 driver commits a savepoint opened before a
    transaction's first write when it is released). Returns the new id, or
    None when the row already existed.
    """
    from sqlalchemy.dialects import postgresql, sqlite

    from inquiry_desk.core.extensions import db

    dialect = db.session.get_bind().dialect.name
    inserts: dict[str, Callable[[Any], postgresql.Insert | sqlite.Insert]] = {
        "postgresql": postgresql.insert, "sqlite": sqlite.insert}
    insert = inserts[dialect]
    statement = insert(model).values(values).on_conflict_do_nothing(index_elements=unique_columns)
    return db.session.scalar(statement.returning(model.id))


def rows_affected(result: object) -> int:
    """The row count of an UPDATE or DELETE (``Result`` does not declare ``rowcount``; ``CursorResult`` does)."""
    return int(getattr(result, "rowcount", 0) or 0)


APP_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def grant_app_role(connection: Connection, role: str) -> None:
    """Give the role the web and the scheduler run as what they need, and no more (PostgreSQL).

    The role that runs ``flask db upgrade`` owns the tables; the app's role may read and write
    rows but not change the schema, and may only read and add to the audit log (no UPDATE,
    DELETE or TRUNCATE, on top of the triggers that refuse them to the owner too).
    """
    if connection.dialect.name != "postgresql":
        return
    if not APP_ROLE_NAME.fullmatch(role):
        raise ValueError(f"DATABASE_APP_ROLE must be a plain lower-case role name, not {role!r}")
    for statement in (
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {role}",
        f"REVOKE UPDATE, DELETE ON audit_events FROM {role}",
        f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    ):
        connection.exec_driver_sql(statement)


def insert_row_unless_exists(model: Any, values: dict[str, Any], unique_columns: list[str]) -> Any:
    """``insert_unless_exists``, returning the new row as an ORM object (None when it already existed).

    One round trip (``RETURNING`` the whole row) where inserting and then loading the row by
    its id took two; the object is in the session's identity map like a loaded one.
    """
    from sqlalchemy.dialects import postgresql, sqlite

    from inquiry_desk.core.extensions import db

    dialect = db.session.get_bind().dialect.name
    inserts: dict[str, Callable[[Any], postgresql.Insert | sqlite.Insert]] = {
        "postgresql": postgresql.insert, "sqlite": sqlite.insert}
    statement = inserts[dialect](model).values(values).on_conflict_do_nothing(index_elements=unique_columns)
    return db.session.scalars(statement.returning(model)).one_or_none()


def upsert_row(model: Any, values: dict[str, Any], unique_columns: list[str], update_columns: list[str],
               only_if: Callable[[Any], Any] | None = None) -> Any:
    """INSERT … ON CONFLICT (unique columns) DO UPDATE SET (update columns) RETURNING the row, as an ORM object.

    One round trip whether the row is new or not (looking first, then inserting, took two), and
    no error when two transactions insert the same key at once: the second waits for the first
    and updates its row. An object of that row already in the session is refreshed from it.
    ``only_if(excluded)`` is a condition on the existing row (``model``'s columns) and the values
    offered (``excluded``): when it is false the row is left as it was and None is returned.
    """
    from sqlalchemy.dialects import postgresql, sqlite

    from inquiry_desk.core.extensions import db

    dialect = db.session.get_bind().dialect.name
    inserts: dict[str, Callable[[Any], postgresql.Insert | sqlite.Insert]] = {
        "postgresql": postgresql.insert, "sqlite": sqlite.insert}
    statement = inserts[dialect](model).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=unique_columns, set_={column: statement.excluded[column] for column in update_columns},
        where=only_if(statement.excluded) if only_if is not None else None)
    return db.session.scalars(statement.returning(model),
                              execution_options={"populate_existing": True}).one_or_none()
