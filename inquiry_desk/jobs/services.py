"""What the jobs page shows: each job's trigger, next and last run, and who leads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from sqlalchemy import select

from inquiry_desk.core.extensions import db
from inquiry_desk.jobs.models import JobRun, SchedulerLease
from inquiry_desk.jobs.registry import all_jobs, next_fire_time


@dataclass(frozen=True)
class JobStatus:
    name: str
    trigger: BaseTrigger
    next_run: datetime | None
    last_run: JobRun | None


def job_statuses(config: Mapping[str, Any], now: datetime) -> list[JobStatus]:
    """Every job of the registry with its next run (from the trigger) and its latest run."""
    statuses = []
    for name, job in all_jobs(config).items():
        last = db.session.scalar(
            select(JobRun).where(JobRun.job == name).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(1))
        statuses.append(JobStatus(name, job.build_trigger(config), next_fire_time(job, config, now), last))
    return statuses


def current_lease(now: datetime, name: str = "scheduler") -> SchedulerLease | None:
    """The leader's lease row, or None when no scheduler holds a live one."""
    lease = db.session.get(SchedulerLease, name)
    if lease is None or lease.expires_at <= now:
        return None
    return lease
