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


def test_the_daily_facets_are_filled_from_the_rows_already_rolled_up(app) -> None:
    """Revision 0026: days rolled up before it have their facets, or the dashboard would read zeros."""
    from datetime import date

    downgrade(directory=MIGRATIONS, revision="0025")
    rows = [("web", 7, 1, False, 3, 1), ("email", 7, None, False, 2, 0), ("web", 8, 1, True, 1, 1)]
    with db.engine.begin() as connection:
        for channel, topic, assignee, restricted, received, resolved in rows:
            connection.execute(db.text(
                "INSERT INTO report_daily_rollup (day, channel, topic_id, organisation_kind, language, "
                "trusted_partner, priority, assignee_id, restricted, received, first_responses, "
                "first_response_met, resolved, resolution_met) VALUES (:day, :channel, :topic, 'ngo', 'en', "
                ":false, 'normal', :assignee, :restricted, :received, 0, 0, :resolved, 0)"),
                {"day": date(2026, 11, 2), "channel": channel, "topic": topic, "assignee": assignee,
                 "restricted": restricted, "received": received, "resolved": resolved, "false": False})
    upgrade(directory=MIGRATIONS)
    with db.engine.connect() as connection:
        found = connection.execute(db.text(
            "SELECT facet, key, topic_id, assignee_id, restricted, received, resolved FROM report_daily_facets")).all()
    assert sorted(((*row[:4], bool(row[4]), *row[5:]) for row in found), key=repr) == sorted([
        ("all", None, 7, 1, False, 3, 1), ("all", None, 7, None, False, 2, 0), ("all", None, 8, 1, True, 1, 1),
        ("channel", "email", 7, None, False, 2, 0), ("channel", "web", 7, 1, False, 3, 1),
        ("channel", "web", 8, 1, True, 1, 1),
        ("language", "en", 7, 1, False, 3, 1), ("language", "en", 7, None, False, 2, 0),
        ("language", "en", 8, 1, True, 1, 1),
        ("organisation_kind", "ngo", 7, 1, False, 3, 1), ("organisation_kind", "ngo", 7, None, False, 2, 0),
        ("organisation_kind", "ngo", 8, 1, True, 1, 1)], key=repr)
