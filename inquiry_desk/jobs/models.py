"""What the scheduler keeps in the database: who leads, and what each job did."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.database import UTCDateTime
from inquiry_desk.core.extensions import Model


class SchedulerLease(Model):
    """One row per lock name: the scheduler instance that holds it, until ``expires_at``.

    On SQLite this is the leader lock (renewed by a heartbeat); on PostgreSQL an
    advisory lock decides and this row only says who holds it, for the jobs page.
    """

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class JobRun(Model):
    """One run of a job. ``occurrence`` is unique: one scheduled occurrence runs once, whoever fires it."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started", "job", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(60))
    # "<job>@<scheduled time, ISO>" for scheduled runs; "<job>@manual:<uuid>" for runs by hand.
    occurrence: Mapped[str] = mapped_column(String(120), unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(16), default="running")  # running | ok | failed
    summary: Mapped[str | None] = mapped_column(String(500))
    # The error's class and message only: never personal data.
    error: Mapped[str | None] = mapped_column(Text)
    holder: Mapped[str | None] = mapped_column(String(200))
