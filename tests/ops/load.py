"""What the load and fault tests share: a database of their own, gunicorn, and the checks of what was stored.

The client side (a visitor who GETs the public form, then POSTs it) is bench/intake.py's.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.intake import (  # noqa: F401  (re-exported for the tests)
    ClientResult,
    Load,
    RunResult,
    Server,
    drive,
    intake_cycle,
    migrate,
    references_from_sessions,
    server_environment,
    start_gunicorn,
)

LOAD_SECONDS = float(os.environ.get("LOAD_TEST_SECONDS", "10"))


@contextlib.contextmanager
def throwaway_database(server_url: str, name: str) -> Iterator[str]:
    """A new, empty database ``name`` on the server of ``server_url``; dropped afterwards."""
    admin = create_engine(make_url(server_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def environment(database_url: str, workdir: Path) -> dict[str, str]:
    env = server_environment(database_url, workdir)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env["LOG_FORMAT"] = "text"
    env["GUNICORN_ACCESS_LOG"] = ""  # the server log is read for errors; access lines would only bury them
    return env


def stored(database_url: str) -> dict[str, object]:
    """What the database holds after the load: inquiries, their references, and any half-written one."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            count, distinct, with_reference = connection.execute(text(
                "SELECT count(*), count(DISTINCT reference), count(reference) FROM inquiries")).one()
            references = set(connection.scalars(text("SELECT reference FROM inquiries")))
            without_message = connection.scalar(text(
                "SELECT count(*) FROM inquiries i WHERE NOT EXISTS "
                "(SELECT 1 FROM messages m WHERE m.inquiry_id = i.id)"))
            confirmations = connection.scalar(text(
                "SELECT count(*) FROM outgoing_emails WHERE cause_key LIKE :pattern"
            ).bindparams(pattern="inquiry:%:confirmation"))
    finally:
        engine.dispose()
    return {"count": count, "distinct": distinct, "with_reference": with_reference, "references": references,
            "without_message": without_message, "confirmations": confirmations}
