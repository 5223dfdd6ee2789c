"""Database helpers shared by every capability: connection set-up, UTC timestamps, upserts, row counts."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, and_, event, func, inspect, true
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
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
    session = _autoflushed_session()
    table = model.__table__
    statement = _prebuilt(session, ("insert_unless_exists", table, tuple(values), tuple(unique_columns)),
                          lambda insert: insert(table).on_conflict_do_nothing(index_elements=unique_columns)
                          .returning(table.c.id))
    return session.execute(statement, values).scalar()


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
    session = _autoflushed_session()
    table = model.__table__
    statement = _prebuilt(session, ("insert_row_unless_exists", table, tuple(values), tuple(unique_columns)),
                          lambda insert: insert(table).on_conflict_do_nothing(index_elements=unique_columns)
                          .returning(*table.columns))
    row = session.execute(statement, values).mappings().one_or_none()
    return _as_loaded(session, model, row) if row is not None else None


def insert_row(model: Any, values: dict[str, Any]) -> Any:
    """INSERT … RETURNING the whole row, as an ORM object in the session (as if loaded by a query).

    For a row that nothing else in the session refers to by relationship: cheaper in CPU than
    adding an object and flushing it (no unit of work, a statement built once per shape).
    """
    session = _autoflushed_session()
    table = model.__table__
    statement = _prebuilt(session, ("insert_row", table, tuple(values)),
                          lambda insert: insert(table).returning(*table.columns))
    return _as_loaded(session, model, session.execute(statement, values).mappings().one())


def upsert_row(model: Any, values: dict[str, Any], unique_columns: list[str], update_columns: list[str], *,
               keep_unless_given: tuple[str, ...] = (), only_if_same: tuple[str, ...] = ()) -> Any:
    """INSERT … ON CONFLICT (unique columns) DO UPDATE SET (update columns) RETURNING the row, as an ORM object.

    One round trip whether the row is new or not (looking first, then inserting, took two), and
    no error when two transactions insert the same key at once: the second waits for the first
    and updates its row. An object of that row already in the session is refreshed from it.
    ``keep_unless_given``: update columns that keep the row's value when the one offered is NULL.
    ``only_if_same``: columns whose value offered must be the row's for it to be updated; when one
    differs the row is left as it was and None is returned.
    """
    session = _autoflushed_session()
    table = model.__table__

    def build(insert: Callable[[Any], Any]) -> Any:
        statement = insert(table)
        offered = statement.excluded
        return statement.on_conflict_do_update(
            index_elements=unique_columns,
            set_={name: func.coalesce(offered[name], table.c[name]) if name in keep_unless_given else offered[name]
                  for name in update_columns},
            where=and_(true(), *(table.c[name] == offered[name] for name in only_if_same)),
        ).returning(*table.columns)

    statement = _prebuilt(session, ("upsert_row", table, tuple(values), tuple(unique_columns), tuple(update_columns),
                           keep_unless_given, only_if_same), build)
    row = session.execute(statement, values).mappings().one_or_none()
    return _as_loaded(session, model, row) if row is not None else None


# Statements of the helpers above, built once per shape (dialect, table, columns): building one afresh
# costs more CPU (its cache key, ~1 ms) than sending it. The values go as parameters of each execution.
_PREBUILT: dict[tuple[Any, ...], Any] = {}


def _prebuilt(session: Any, shape: tuple[Any, ...], build: Callable[[Callable[[Any], Any]], Any]) -> Any:
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = session.get_bind().dialect.name
    key = (dialect, *shape)
    statement = _PREBUILT.get(key)
    if statement is None:
        inserts: dict[str, Callable[[Any], Any]] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
        statement = _PREBUILT[key] = build(inserts[dialect])
    return statement


def _autoflushed_session() -> Any:
    """The session, flushed as an ORM statement would have flushed it (these statements are Core's)."""
    from inquiry_desk.core.extensions import db

    session = db.session()
    if session.autoflush:
        session.flush()
    return session


def _as_loaded(session: Any, model: Any, row: Any) -> Any:
    """The ORM object of a row that a statement returned, in the session as if loaded by a query."""
    mapper = inspect(model)
    values = {mapper.get_property_by_column(column).key: row[column.key] for column in mapper.local_table.columns}
    identity = mapper.identity_key_from_primary_key([row[column.key] for column in mapper.primary_key])
    instance = session.identity_map.get(identity)
    if instance is None:
        instance = mapper.class_manager.new_instance()
        for name, value in values.items():
            set_committed_value(instance, name, value)
        make_transient_to_detached(instance)
        session.add(instance)  # persistent, unchanged: nothing to flush
    else:  # loaded before: refreshed, except what it changed and has not flushed (under no_autoflush)
        state = inspect(instance)
        for name, value in values.items():
            if not state.attrs[name].history.has_changes():
                set_committed_value(instance, name, value)
    return instance
