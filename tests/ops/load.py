"""What the load and fault tests share: a database of their own, gunicorn, and the checks of what was stored.

The client side (a visitor who GETs the public form, then POSTs it) is bench/intake.py's. Its gunicorn
and migration are started here instead, as children that die with pytest (``processes.die_with_parent``):
bench runs on its own, where no pytest is there to die.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.intake import (  # noqa: F401  (re-exported for the tests)
    PROJECT_DIR,
    BenchError,
    ClientResult,
    Load,
    RunResult,
    Server,
    control_socket_off,
    drive,
    free_port,
    intake_cycle,
    references_from_sessions,
    server_environment,
    wait_until_ready,
)

from ..processes import die_with_parent

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


def start_gunicorn(name: str, app_spec: str, env: dict[str, str], workdir: Path, workers: int) -> Server:
    """bench.intake's gunicorn (the same command), dying with pytest."""
    port = free_port()
    log_path = workdir / f"gunicorn-{name}.log"
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
               "--timeout", "60", "--graceful-timeout", "10", "--error-logfile", "-", *control_socket_off(), app_spec]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=die_with_parent)
    server = Server(name, process, port, log_path)
    try:
        wait_until_ready(server, workers)
    except BaseException:
        server.stop()
        raise
    return server


def migrate(env: dict[str, str]) -> None:
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=PROJECT_DIR,
                            env=env, capture_output=True, text=True, check=False, preexec_fn=die_with_parent)
    if result.returncode != 0:
        raise BenchError(f"flask db upgrade failed:\n{result.stdout}\n{result.stderr}")


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
