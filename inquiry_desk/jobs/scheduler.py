"""The scheduler: APScheduler 3 dispatching the registry's jobs, on the leader only.

``flask scheduler run`` runs a ``SchedulerProcess`` with a BlockingScheduler in the
foreground; ``SCHEDULER_IN_PROCESS`` (``make run``) runs the same with a
BackgroundScheduler inside the development server. Either way:

- **Only the leader schedules** (leader.py). A standby tries for the lock every few
  seconds and starts its scheduler when it gets it; the leader renews its lease, and
  a leader that loses it stops its scheduler and becomes a standby again.
- **Job store: memory, on purpose.** The jobs come from the registry at every start,
  so there is nothing to keep; APScheduler's SQLAlchemyJobStore would add a table
  outside our models and migrations, and pickled job state to keep in step with the
  code. What the architecture asks the database for ("what must happen once is
  guaranteed by the database") is held by ``job_runs.occurrence``: each scheduled
  run is keyed "<job>@<fire time>", and triggers are anchored so that every instance
  computes the same fire times. The one thing a database job store would add, a run
  missed while no leader was up, is done here too: when a leader starts, each job's
  latest fire time within its grace time is run once (skipped when it already ran).
- **Misfires:** ``coalesce=True`` and a ``misfire_grace_time`` per job: runs missed
  by a busy or paused scheduler collapse into one, run if still within the grace time.
- **The occurrence key** comes from the scheduled fire time, which APScheduler 3
  gives its executor but not the job function: ``OccurrenceExecutor`` passes it on
  as ``scheduled_run_time``.
- **Shutdown:** SIGTERM and SIGINT stop the scheduler, let running jobs finish,
  release the lock and exit.
"""

from __future__ import annotations

import logging
import signal
import threading
import traceback
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    EVENT_SCHEDULER_STARTED,
    JobExecutionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from inquiry_desk.core.clock import utcnow
from inquiry_desk.jobs.leader import LEASE_SECONDS, RENEW_SECONDS, STANDBY_POLL_SECONDS, Leader
from inquiry_desk.jobs.registry import all_jobs, latest_fire_time
from inquiry_desk.jobs.runner import run_job, scheduled_occurrence

log = logging.getLogger(__name__)


def _run_with_fire_time(job: Any, jobstore_alias: str, run_times: list[datetime], logger_name: str) -> list[Any]:
    """APScheduler's ``run_job``, passing each scheduled fire time to the job as ``scheduled_run_time``."""
    events = []
    for run_time in run_times:
        if job.misfire_grace_time is not None:
            late = datetime.now(UTC) - run_time
            if late > timedelta(seconds=job.misfire_grace_time):
                events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id, jobstore_alias, run_time))
                log.warning("job %s missed its run at %s by %s", job.id, run_time, late)
                continue
        try:
            value = job.func(*job.args, scheduled_run_time=run_time, **job.kwargs)
        except BaseException as exc:
            events.append(JobExecutionEvent(EVENT_JOB_ERROR, job.id, jobstore_alias, run_time, exception=exc,
                                            traceback="".join(traceback.format_tb(exc.__traceback__))))
            log.exception("job %s raised", job.id)
        else:
            events.append(JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, jobstore_alias, run_time, retval=value))
    return events


class OccurrenceExecutor(ThreadPoolExecutor):  # type: ignore[misc]  # APScheduler 3 is untyped
    """A thread pool that tells each job the fire time it runs for."""

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        def done(future: Any) -> None:
            exc = future.exception()
            if exc:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, future.result())

        future = self._pool.submit(_run_with_fire_time, job, job._jobstore_alias, run_times, self._logger.name)
        future.add_done_callback(done)


def fire(app: Flask, name: str, holder: str, *, scheduled_run_time: datetime | None = None) -> str:
    """What the scheduler calls: one scheduled occurrence of one job, in its own app context.

    ``scheduled_run_time`` is given by ``OccurrenceExecutor`` (its default only satisfies
    APScheduler's check of the signature when the job is added).
    """
    if scheduled_run_time is None:
        raise RuntimeError("scheduled jobs run through the OccurrenceExecutor, which gives their fire time")
    occurrence = scheduled_occurrence(name, scheduled_run_time)
    try:
        with app.app_context():
            run = run_job(name, occurrence=occurrence, now=utcnow(), holder=holder)
            return f"{run.outcome}: {run.summary or run.error or ''}"
    except Exception:
        # The runner records a job's own failure; this is the database itself failing. Never fatal.
        log.exception("job %s (%s) could not be run", name, occurrence)
        return "error"


def build_scheduler(app: Flask, scheduler_class: type[BaseScheduler], holder: str,
                    now: datetime | None = None) -> BaseScheduler:
    """A scheduler (not started) with every job of the registry, catching up a run missed within its grace."""
    config = app.config
    scheduler = scheduler_class(
        jobstores={"default": MemoryJobStore()},
        executors={"default": OccurrenceExecutor(max_workers=4)},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=config["TIMEZONE"],
    )
    now = now or utcnow()
    for name, job in all_jobs(config).items():
        options: dict[str, Any] = {}
        missed = latest_fire_time(job, config, now)
        if missed is not None:
            options["next_run_time"] = missed  # in the past: runs at start (once: the occurrence may have run)
        scheduler.add_job(fire, trigger=job.build_trigger(config), args=(app, name, holder), id=name, name=name,
                          misfire_grace_time=job.misfire_grace_seconds, coalesce=True, max_instances=1,
                          replace_existing=True, **options)
    return scheduler


class SchedulerProcess:
    """Standby until leader, then schedule until the lease is lost or ``stop()`` is called."""

    def __init__(self, app: Flask, *, background: bool = False, holder: str | None = None,
                 lease_seconds: float = LEASE_SECONDS, renew_seconds: float = RENEW_SECONDS,
                 poll_seconds: float = STANDBY_POLL_SECONDS) -> None:
        self.app = app
        self.background = background
        self.leader = Leader(app, holder=holder, lease_seconds=lease_seconds)
        self.renew_seconds = renew_seconds
        self.poll_seconds = poll_seconds
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    @property
    def holder(self) -> str:
        return self.leader.holder

    def run(self) -> None:
        """Loop: standby, lead, standby… until stopped; then step down."""
        log.info("scheduler %s starting (standby until it holds the lock)", self.holder)
        try:
            while not self.stopping.is_set():
                if self.leader.try_acquire():
                    log.info("scheduler %s is the leader", self.holder)
                    self._lead()
                    if not self.stopping.is_set():
                        log.warning("scheduler %s is a standby again", self.holder)
                else:
                    self.stopping.wait(self.poll_seconds)
        finally:
            self.leader.release()
            log.info("scheduler %s stopped", self.holder)

    def stop(self) -> None:
        self.stopping.set()

    def install_signal_handlers(self) -> None:
        def handle(signum: int, frame: FrameType | None) -> None:
            log.info("scheduler %s: signal %s, shutting down", self.holder, signum)
            self.stop()

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)

    def start_in_thread(self) -> threading.Thread:
        """The in-process scheduler (``make run``): the same loop in a daemon thread."""
        self.thread = threading.Thread(target=self.run, name="inquiry-desk-scheduler", daemon=True)
        self.thread.start()
        return self.thread

    def _lead(self) -> None:
        scheduler_class = BackgroundScheduler if self.background else BlockingScheduler
        scheduler = build_scheduler(self.app, scheduler_class, self.holder)
        started = threading.Event()
        scheduler.add_listener(lambda event: started.set(), EVENT_SCHEDULER_STARTED)
        if self.background:
            scheduler.start()
            self._heartbeat(scheduler, started)
            return
        # Blocking: the scheduler loop holds this thread; the heartbeat watches from another one.
        heartbeat = threading.Thread(target=self._heartbeat, args=(scheduler, started), daemon=True)
        heartbeat.start()
        try:
            scheduler.start()
        finally:
            started.set()
            heartbeat.join()

    def _heartbeat(self, scheduler: BaseScheduler, started: threading.Event) -> None:
        """Renew the lease; on stop or on losing the lease, shut the scheduler down."""
        while True:
            stop = self.stopping.wait(self.renew_seconds)
            if stop or not self.leader.renew():
                break
        started.wait()
        if scheduler.running:
            # On stop: let running jobs finish. On a lost lease: at once (the database keeps runs single).
            scheduler.shutdown(wait=stop)


def run_forever(app: Flask, **options: Any) -> None:
    """``flask scheduler run``: the foreground process, until SIGTERM or SIGINT."""
    process = SchedulerProcess(app, **options)
    process.install_signal_handlers()
    process.run()


def start_in_process(app: Flask) -> SchedulerProcess:
    """Start the in-process (development) scheduler and stop it at exit."""
    import atexit

    process = SchedulerProcess(app, background=True)
    process.start_in_thread()

    def stop() -> None:
        process.stop()
        if process.thread is not None:
            process.thread.join(timeout=10)

    atexit.register(stop)
    return process


def should_start_in_process(app: Flask, environ: dict[str, str] | None = None,
                            command: Callable[[], Any] | None = None, *, flag: str = "SCHEDULER_IN_PROCESS") -> bool:
    """True when ``flag`` (SCHEDULER_IN_PROCESS, MAIL_WORKER_IN_PROCESS) is on and this process serves the app
    with ``flask run``.

    Not in tests, not under gunicorn (wsgi.py, no ``run`` command), and not in the
    reloader's watching parent (only in the child that serves).
    """
    import os

    import click
    from flask.helpers import get_debug_flag

    if not app.config.get(flag) or app.testing:
        return False
    variables: Mapping[str, str] = os.environ if environ is None else environ
    context = (command or (lambda: click.get_current_context(silent=True)))()
    if context is None or context.info_name != "run":
        return False
    reload = context.params.get("reload")
    if reload is None:
        reload = get_debug_flag()
    return not reload or variables.get("WERKZEUG_RUN_MAIN") == "true"
