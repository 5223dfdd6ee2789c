"""Every scheduled job, in one table: its name, trigger, misfire grace time and a thin function.

Each job function takes ``now`` (aware UTC), calls a service inside the app context
the runner opened, and returns a short summary. The services are imported inside
each function, so this module imports before (and without) them.

Triggers are in the team's time zone (``TIMEZONE``) and anchored: interval triggers
start from a fixed instant, so every instance computes the same fire times, and the
occurrence key ("<job>@<fire time>", see runner.py) of one scheduled run is the same
whichever instance fires it.

``SCHEDULER_TEST_JOBS=1`` (environment or config) replaces the table with one
``tick`` job every second that only records its run: the scheduler tests (QUALITY.md R3)
start real ``flask scheduler run`` processes with it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

# Interval triggers count from here, so that fire times do not depend on when a process started.
ANCHOR = datetime(2000, 1, 3, tzinfo=UTC)

JobFunction = Callable[[datetime], str]
TriggerFactory = Callable[[Mapping[str, Any], ZoneInfo], BaseTrigger]


class UnknownJob(KeyError):
    """No job of that name in the registry."""


@dataclass(frozen=True)
class Job:
    name: str
    # Built from the app's config (time zone, digest hour) when the scheduler starts.
    trigger: TriggerFactory
    # A run missed by at most this many seconds (a busy or restarting scheduler) still runs, once.
    misfire_grace_seconds: int
    function: JobFunction
    # Successful runs older than this are deleted by housekeeping (frequent jobs would otherwise fill job_runs:
    # one a second is 86,400 rows a day); None keeps every run.
    keep_runs: timedelta | None = None

    def build_trigger(self, config: Mapping[str, Any]) -> BaseTrigger:
        return self.trigger(config, ZoneInfo(config["TIMEZONE"]))


def _every(**interval: int) -> TriggerFactory:
    return lambda config, zone: IntervalTrigger(**interval, start_date=ANCHOR, timezone=zone)


def _daily(hour: int | str, minute: int = 0) -> TriggerFactory:
    def build(config: Mapping[str, Any], zone: ZoneInfo) -> BaseTrigger:
        at = int(config.get(hour, 7)) if isinstance(hour, str) else hour
        return CronTrigger(hour=at, minute=minute, timezone=zone)

    return build


def _weekly(hour: str) -> TriggerFactory:
    def build(config: Mapping[str, Any], zone: ZoneInfo) -> BaseTrigger:
        return CronTrigger(day_of_week="mon", hour=int(config.get(hour, 7)), minute=0, timezone=zone)

    return build


# The jobs -------------------------------------------------------------------------------------


def outbox_sweep(now: datetime) -> str:
    from inquiry_desk.mail.services import sweep_outbox

    report = sweep_outbox(now)
    return f"sent {report.sent}, retrying {report.retrying}, failed {report.failed}"


def targets(now: datetime) -> str:
    from inquiry_desk.inquiries.reminders import send_target_reminders
    from inquiry_desk.inquiries.targets import recompute_stale

    recomputed = recompute_stale(now)
    reminded = send_target_reminders(now)
    return f"recomputed {recomputed}, reminders {reminded}"


def queue_tallies(now: datetime) -> str:
    """Fold the queue tally rows into one per cell (inquiries/tallies.py), so that counting them stays short."""
    from inquiry_desk.core.extensions import db
    from inquiry_desk.inquiries import tallies

    folded = tallies.compact()
    db.session.commit()
    return f"folded {folded} rows"


def queue_recount(now: datetime) -> str:
    """Count the queues anew from the inquiries: the tallies' safety net (a restore made without triggers)."""
    from inquiry_desk.core.extensions import db
    from inquiry_desk.inquiries import tallies

    cells = tallies.recount()
    db.session.commit()
    return f"recounted {cells} cells"


def daily_digest(now: datetime) -> str:
    from inquiry_desk.inquiries.digest import send_daily_digests

    return f"digests {send_daily_digests(now)}"


def retention(now: datetime) -> str:
    from inquiry_desk.inquiries.retention import purge_closed_inquiries

    return f"purged {purge_closed_inquiries(now)}"


def auto_close(now: datetime) -> str:
    from inquiry_desk.inquiries.lifecycle import close_quiet_resolved

    return f"closed {close_quiet_resolved(now)}"


def prune_runs(now: datetime) -> int:
    """Delete the successful runs of frequent jobs that are older than their job keeps them."""
    from sqlalchemy import delete

    from inquiry_desk.core.extensions import db
    from inquiry_desk.jobs.models import JobRun

    deleted = 0
    for job in JOBS:
        if job.keep_runs is None:
            continue
        result = db.session.execute(delete(JobRun).where(
            JobRun.job == job.name, JobRun.outcome == "ok", JobRun.started_at < now - job.keep_runs))
        deleted += int(getattr(result, "rowcount", 0) or 0)
    db.session.commit()
    return deleted


def housekeeping(now: datetime) -> str:
    from inquiry_desk.accounts.housekeeping import delete_stale_sessions
    from inquiry_desk.inquiries.housekeeping import delete_old_form_submissions, delete_stale_links_and_viewers
    from inquiry_desk.mail.inbound.ingest import purge_unattached
    from inquiry_desk.mailing.housekeeping import remove_unconfirmed

    counts = delete_stale_links_and_viewers(now)
    counts["form_submissions"] = delete_old_form_submissions(now)
    counts["staff_sessions"] = delete_stale_sessions(now)
    counts["unconfirmed_subscriptions"] = remove_unconfirmed(now)
    counts["inbound_emails"] = purge_unattached(now)
    counts["job_runs"] = prune_runs(now)
    return ", ".join(f"{name} {count}" for name, count in counts.items())


def audit_seal(now: datetime) -> str:
    from inquiry_desk.audit.chain import seal

    return f"sealed {seal(now)}"


def imap_fetch(now: datetime) -> str:
    from inquiry_desk.mail.inbound import imap

    if not imap.configured():
        return "IMAP_HOST not set"
    report = imap.fetch(now)
    return f"taken {report.taken}, already stored {report.duplicates}, refused {report.refused}, left {report.left}"


def bulletins(now: datetime) -> str:
    from inquiry_desk.bulletins.dispatch import run

    return run(now)


def report_rollup(now: datetime) -> str:
    from inquiry_desk.reports.rollup import refresh

    return refresh(now)


def weekly_report(now: datetime) -> str:
    from inquiry_desk.reports.weekly import send_weekly_reports

    return f"weekly reports {send_weekly_reports(now)}"


def tick(now: datetime) -> str:
    """Test only (SCHEDULER_TEST_JOBS): does nothing; its JobRun row is the record."""
    return "tick"


JOBS: tuple[Job, ...] = (
    Job("outbox_sweep", _every(minutes=1), 50, outbox_sweep, keep_runs=timedelta(days=7)),
    Job("targets", _every(minutes=5), 4 * 60, targets),
    Job("queue_tallies", _every(minutes=1), 50, queue_tallies, keep_runs=timedelta(days=7)),
    Job("queue_recount", _daily(3, 40), 6 * 60 * 60, queue_recount),
    Job("daily_digest", _daily("DIGEST_HOUR"), 2 * 60 * 60, daily_digest),
    Job("auto_close", _daily(2, 0), 6 * 60 * 60, auto_close),
    Job("retention", _daily(2, 30), 6 * 60 * 60, retention),
    Job("housekeeping", _every(hours=1), 30 * 60, housekeeping),
    Job("audit_seal", _every(minutes=1), 50, audit_seal, keep_runs=timedelta(days=7)),
    Job("imap_fetch", _every(minutes=1), 50, imap_fetch, keep_runs=timedelta(days=7)),
    # Every second: a bulletin scheduled for T starts within 2 s (QUALITY.md P7); dispatch is once per bulletin.
    Job("bulletins", _every(seconds=1), 30, bulletins, keep_runs=timedelta(days=1)),
    # Hourly: the days touched by changes since the last run are read live until it counts them again.
    Job("report_rollup", _every(hours=1), 30 * 60, report_rollup, keep_runs=timedelta(days=7)),
    Job("weekly_report", _weekly("WEEKLY_REPORT_HOUR"), 4 * 60 * 60, weekly_report),
)

TEST_JOBS: tuple[Job, ...] = (Job("tick", _every(seconds=1), 1, tick),)


def tick_only(config: Mapping[str, Any]) -> bool:
    value = config.get("SCHEDULER_TEST_JOBS") or os.environ.get("SCHEDULER_TEST_JOBS", "")
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def all_jobs(config: Mapping[str, Any]) -> dict[str, Job]:
    """The jobs of this app, by name, in the table's order."""
    table = TEST_JOBS if tick_only(config) else JOBS
    return {job.name: job for job in table}


def get_job(config: Mapping[str, Any], name: str) -> Job:
    try:
        return all_jobs(config)[name]
    except KeyError:
        raise UnknownJob(name) from None


def next_fire_time(job: Job, config: Mapping[str, Any], now: datetime) -> datetime | None:
    """When the trigger fires next after ``now`` (aware, in the team's time zone)."""
    fire: datetime | None = job.build_trigger(config).get_next_fire_time(None, now)
    return fire


def latest_fire_time(job: Job, config: Mapping[str, Any], now: datetime) -> datetime | None:
    """The last fire time at or before ``now`` within the job's grace time, if any (for catching up)."""
    trigger = job.build_trigger(config)
    earliest = now.astimezone(UTC) - timedelta(seconds=job.misfire_grace_seconds)
    latest = None
    fire = trigger.get_next_fire_time(None, earliest)
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(milliseconds=1))
    return latest
