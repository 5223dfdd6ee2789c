"""Alembic environment for Flask-Migrate: migrations run against the app's database."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

import inquiry_desk.all_models  # noqa: F401  (registers every table on the metadata)
from inquiry_desk.core.database import UTCDateTime, grant_app_role

config = context.config
if config.config_file_name and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_db = current_app.extensions["migrate"].db
target_metadata = target_db.metadata


def include_object(obj, name, type_, reflected, compare_to):
    # Full-text search tables and triggers are created by hand in revisions.
    return not (type_ == "table" and reflected and compare_to is None and name.startswith("fts_"))


def render_item(type_, obj, autogen_context):
    # UTC timestamps are plain timezone-aware timestamps in the database.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_offline() -> None:
    context.configure(
        url=str(target_db.engine.url), target_metadata=target_metadata, literal_binds=True,
        compare_type=True, render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = target_db.engine
    with connectable.connect() as connection:
        if connection.dialect.name == "sqlite":
            # A batch operation rebuilds a table: with foreign keys on, SQLite's DROP TABLE
            # first deletes every row, cascading to the rows that refer to them (messages,
            # portal links…). Off during migrations, as Alembic advises; the pragma only
            # takes effect outside a transaction, hence the commit first.
            connection.commit()
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # end the transaction the statement began, so Alembic runs its own
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            compare_type=True,
            render_as_batch=connection.dialect.name == "sqlite",
            include_object=include_object,
            render_item=render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
            app_role = current_app.config.get("DATABASE_APP_ROLE")
            if app_role:
                # The app runs as a role that does not own the tables (README, "Database roles").
                grant_app_role(connection, app_role)
        if connection.dialect.name == "sqlite":
            # The connection goes back to the pool: the app must find foreign keys on.
            connection.commit()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
