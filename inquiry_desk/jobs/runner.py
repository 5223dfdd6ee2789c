"""Run one job once: the database, not the scheduler, makes each occurrence run once.

``run_job`` first inserts the ``JobRun`` row with its unique ``occurrence`` and
commits. Whoever inserts it runs the job; a second scheduler (or a catch-up after a
restart) that fires the same occurrence finds the row and skips. A job's failure is
recorded on its row (the exception's class and first line: never a traceback or
bound parameters, which could hold personal data) and never raised to the scheduler.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.database import insert_unless_exists
from inquiry_desk.core.extensions import db
from inquiry_desk.jobs.metrics import record_job_outcome
from inquiry_desk.jobs.models import JobRun
from inquiry_desk.jobs.registry import get_job

log = logging.getLogger(__name__)

ERROR_MAX_LENGTH = 500
SUMMARY_MAX_LENGTH = 500


def default_holder() -> str:
    """Who runs: "<host>:<pid>", as on the lease."""
    return f"{socket.gethostname()}:{os.getpid()}"


def scheduled_occurrence(name: str, fire_time: datetime) -> str:
    """"<job>@<scheduled fire time, ISO, UTC>": the same in every instance for one scheduled run."""
    return f"{name}@{fire_time.astimezone(UTC).isoformat()}"


def manual_occurrence(name: str) -> str:
    return f"{name}@manual:{uuid.uuid4()}"


def describe_error(exc: BaseException) -> str:
    """The exception's class and the first line of its message, without SQL or bound parameters."""
    inner = getattr(exc, "orig", None)  # a DBAPIError's driver exception
    if isinstance(exc, SQLAlchemyError) and inner is not None:
        message = f"{type(exc).__name__} ({type(inner).__name__}): {_first_line(inner)}"
    elif isinstance(exc, SQLAlchemyError):
        message = f"{type(exc).__name__}: {_first_line(exc).split(' [SQL:')[0]}"
    else:
        message = f"{type(exc).__name__}: {_first_line(exc)}"
    return message.rstrip(": ")[:ERROR_MAX_LENGTH]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


def run_job(name: str, *, occurrence: str | None, now: datetime, holder: str | None = None) -> JobRun:
    """Run job ``name`` once for ``occurrence`` (None: a run by hand) in the current app context.

    Returns the new row, or the existing one when that occurrence already ran (or is
    running) elsewhere. Raises ``UnknownJob`` for a name not in the registry.
    """
    job = get_job(current_app.config, name)
    occurrence = occurrence or manual_occurrence(name)
    holder = holder or default_holder()
    run_id = insert_unless_exists(
        JobRun,
        {"job": name, "occurrence": occurrence, "started_at": now, "outcome": "running", "holder": holder},
        ["occurrence"],
    )
    db.session.commit()
    if run_id is None:
        log.info("job %s: occurrence %s already taken, skipped", name, occurrence)
        existing = db.session.scalar(select(JobRun).where(JobRun.occurrence == occurrence))
        assert existing is not None
        return existing

    summary: str | None = None
    error: str | None = None
    try:
        summary = job.function(now)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        error = describe_error(exc)
        log.exception("job %s (%s) failed: %s", name, occurrence, error)

    run = db.session.get(JobRun, run_id)
    assert run is not None
    run.outcome = "failed" if error else "ok"
    run.summary = (summary or "")[:SUMMARY_MAX_LENGTH] or None
    run.error = error
    run.finished_at = max(now, utcnow())
    db.session.commit()
    record_job_outcome(name, run.outcome)
    if not error:
        log.info("job %s (%s): %s", name, occurrence, run.summary)
    return run
