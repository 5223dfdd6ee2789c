"""Scheduled jobs in /metrics: runs counted by the process that ran them, and each job's
last finished run as the database has it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select

from inquiry_desk.core.extensions import db
from inquiry_desk.core.metrics import register_database_reader
from inquiry_desk.jobs.models import JobRun

JOB_OUTCOMES = Counter(
    "inquiry_desk_job_outcomes",
    "Runs of scheduled jobs counted by the process that ran them, by job and outcome.",
    ["job", "outcome"],
)


def record_job_outcome(job: str, outcome: str) -> None:
    """Count one run of ``job`` that ended with ``outcome`` ("ok", "failed"); called by the job runner."""
    JOB_OUTCOMES.labels(job=job, outcome=outcome).inc()


def last_runs() -> Iterator[Metric]:
    finished = GaugeMetricFamily("inquiry_desk_job_last_run_finished_timestamp_seconds",
                                 "When the last finished run of each job ended (Unix time).", labels=["job"])
    success = GaugeMetricFamily("inquiry_desk_job_last_run_success",
                                "1 when the last finished run of each job succeeded, 0 when it failed.",
                                labels=["job"])
    latest = (select(JobRun.job, func.max(JobRun.started_at).label("started_at"))
              .where(JobRun.finished_at.is_not(None)).group_by(JobRun.job).subquery())
    rows = db.session.execute(
        select(JobRun.job, JobRun.outcome, JobRun.finished_at)
        .join(latest, (JobRun.job == latest.c.job) & (JobRun.started_at == latest.c.started_at))
    ).all()
    seen: set[str] = set()
    for job, outcome, finished_at in rows:
        if job in seen:  # two runs started at the same instant: one is enough
            continue
        seen.add(job)
        if finished_at is not None:
            if finished_at.tzinfo is None:
                finished_at = finished_at.replace(tzinfo=UTC)
            finished.add_metric([job], finished_at.timestamp())
        success.add_metric([job], 1 if outcome == "ok" else 0)
    yield finished
    yield success


register_database_reader(last_runs)
