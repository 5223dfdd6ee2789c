"""The scheduler: anchored triggers, the fire time passed to jobs, coalescing, catching up, in-process start."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select

from inquiry_desk.core.extensions import db
from inquiry_desk.jobs import registry
from inquiry_desk.jobs.models import JobRun
from inquiry_desk.jobs.scheduler import OccurrenceExecutor, SchedulerProcess, build_scheduler, should_start_in_process


def test_fire_times_do_not_depend_on_when_a_process_started(app) -> None:
    sweep = registry.get_job(app.config, "outbox_sweep")
    early = registry.next_fire_time(sweep, app.config, datetime(2026, 3, 2, 14, 0, 3, tzinfo=UTC))
    late = registry.next_fire_time(sweep, app.config, datetime(2026, 3, 2, 14, 0, 41, tzinfo=UTC))
    assert early == late == datetime(2026, 3, 2, 14, 1, tzinfo=UTC)
    targets = registry.get_job(app.config, "targets")
    assert registry.next_fire_time(targets, app.config, datetime(2026, 3, 2, 14, 1, tzinfo=UTC)).minute == 5


def test_daily_jobs_run_at_their_hour_in_the_team_time_zone(app) -> None:
    app.config["DIGEST_HOUR"] = 9
    now = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)  # 08:00 in Toronto (summer time)
    digest = registry.next_fire_time(registry.get_job(app.config, "daily_digest"), app.config, now)
    assert digest == datetime(2026, 7, 1, 9, 0, tzinfo=ZoneInfo("America/Toronto"))
    retention = registry.next_fire_time(registry.get_job(app.config, "retention"), app.config, now)
    assert retention.astimezone(ZoneInfo("America/Toronto")).replace(tzinfo=None) == datetime(2026, 7, 2, 2, 30)


def test_a_run_missed_within_its_grace_time_is_caught_up(app) -> None:
    sweep = registry.get_job(app.config, "outbox_sweep")  # every minute, 50 s of grace
    assert registry.latest_fire_time(sweep, app.config, datetime(2026, 3, 2, 14, 0, 30, tzinfo=UTC)) == datetime(
        2026, 3, 2, 14, 0, tzinfo=UTC)
    assert registry.latest_fire_time(sweep, app.config, datetime(2026, 3, 2, 14, 0, 55, tzinfo=UTC)) is None
    scheduler = build_scheduler(app, BackgroundScheduler, "me", now=datetime(2026, 3, 2, 14, 0, 30, tzinfo=UTC))
    pending = {job.id: job for job in scheduler.get_jobs()}
    assert pending["outbox_sweep"].next_run_time == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    assert pending["outbox_sweep"].coalesce and pending["outbox_sweep"].misfire_grace_time == 50


def test_the_executor_passes_the_fire_time_and_coalesces_missed_runs() -> None:
    seen: list[datetime] = []
    done = threading.Event()

    def job(*, scheduled_run_time: datetime | None = None) -> None:
        seen.append(scheduled_run_time)
        done.set()

    scheduler = BackgroundScheduler(executors={"default": OccurrenceExecutor()}, timezone="UTC")
    now = datetime.now(UTC).replace(microsecond=0)
    # Three runs missed (10, 20 and 30 s ago), all within the grace time: one run, for the latest.
    start = now - timedelta(seconds=30)
    scheduler.add_job(job, IntervalTrigger(seconds=10, start_date=start), next_run_time=start,
                      coalesce=True, misfire_grace_time=60)
    scheduler.start()
    try:
        assert done.wait(10)
        time.sleep(0.3)
    finally:
        scheduler.shutdown()
    assert seen == [now]


def test_the_in_process_scheduler_leads_and_runs_jobs(app_factory) -> None:
    app = app_factory(SCHEDULER_TEST_JOBS=True)
    process = SchedulerProcess(app, background=True, holder="dev:1", renew_seconds=0.5, poll_seconds=0.5)
    process.start_in_thread()
    try:
        deadline = time.monotonic() + 15
        runs: list[JobRun] = []
        while time.monotonic() < deadline and len(runs) < 2:
            time.sleep(0.3)
            with app.app_context():
                runs = list(db.session.scalars(select(JobRun)))
    finally:
        process.stop()
        process.thread.join(15)
    assert not process.thread.is_alive()
    assert len(runs) >= 2 and {run.job for run in runs} == {"tick"} and {run.holder for run in runs} == {"dev:1"}
    for run in runs:
        fire_time = datetime.fromisoformat(run.occurrence.split("@", 1)[1])
        assert fire_time.microsecond == 0


def test_the_in_process_scheduler_starts_only_under_flask_run(app) -> None:
    def command(name: str, reload: bool | None = False):  # a click context, as far as the check looks
        return lambda: SimpleNamespace(info_name=name, params={"reload": reload})

    app.config["SCHEDULER_IN_PROCESS"] = True
    app.testing = False
    assert should_start_in_process(app, {}, command("run"))
    assert not should_start_in_process(app, {}, lambda: None)  # gunicorn wsgi:app: no command
    assert not should_start_in_process(app, {}, command("routes"))
    assert not should_start_in_process(app, {}, command("run", reload=True))  # the reloader's parent
    assert should_start_in_process(app, {"WERKZEUG_RUN_MAIN": "true"}, command("run", reload=True))
    app.testing = True
    assert not should_start_in_process(app, {}, command("run"))
    app.testing = False
    app.config["SCHEDULER_IN_PROCESS"] = False
    assert not should_start_in_process(app, {}, command("run"))
