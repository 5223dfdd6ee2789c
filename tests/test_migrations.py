"""The migrations give exactly the models' schema, and go down and up again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

import inquiry_desk.all_models  # noqa: F401
from inquiry_desk.core.extensions import db

from .conftest import PROJECT_DIR

MIGRATIONS = str(PROJECT_DIR / "migrations")


def _include(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """As in migrations/env.py: full-text search tables (fts_*) are made by hand in revisions."""
    return not (type_ == "table" and reflected and compare_to is None and (name or "").startswith("fts_"))


def _differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": _include})
        return compare_metadata(context, db.metadata)


def test_head_matches_the_models(app) -> None:
    assert _differences() == []


def test_each_revision_goes_down_and_up(app) -> None:
    downgrade(directory=MIGRATIONS, revision="base")
    with db.engine.connect() as connection:
        tables = set(db.inspect(connection).get_table_names()) - {"alembic_version"}
    assert tables == set()
    upgrade(directory=MIGRATIONS)
    assert _differences() == []


def test_upgrading_keeps_the_data_and_foreign_keys_stay_on(app) -> None:
    """A batch rebuild of `inquiries` (revision 0003 on SQLite) must not cascade-delete its messages."""
    from .helpers import make_inquiry

    inquiry = make_inquiry(body="Kept across the upgrade")
    inquiry_id = inquiry.id
    db.session.commit()
    db.session.remove()
    downgrade(directory=MIGRATIONS, revision="0002")
    upgrade(directory=MIGRATIONS)
    with db.engine.connect() as connection:
        bodies = connection.execute(db.text("SELECT body FROM messages WHERE inquiry_id = :id"),
                                    {"id": inquiry_id}).scalars().all()
        assert bodies == ["Kept across the upgrade"]
        if connection.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
