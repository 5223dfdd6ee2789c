"""QUALITY.md R3: two real `flask scheduler run` processes started at once.

With SCHEDULER_TEST_JOBS=1 the registry holds one ``tick`` job every second that
only records its JobRun. Each occurrence runs once, by the leader only; after the
leader is killed with SIGKILL the standby takes over within 30 s. Each phase lasts
until R3_RUN_SECONDS occurrences (default 4) have run, however slowly a loaded machine
runs them (a phase of fixed seconds could see too few ticks there).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from inquiry_desk.core.extensions import db
from inquiry_desk.jobs.models import JobRun, SchedulerLease

from ..conftest import PROJECT_DIR, is_postgres
from ..processes import die_with_parent

RUN_SECONDS = float(os.environ.get("R3_RUN_SECONDS", "4"))
TAKEOVER_LIMIT = 30.0
PHASE_LIMIT = 60.0  # a deadline only: a phase ends as soon as its occurrences have run
# SQLite: a short lease so that the test does not wait out the production one (25 s).
LEASE = ["--lease-seconds", "3", "--renew-seconds", "1", "--poll-seconds", "1"]


def _start(database_url: str, log: Path) -> subprocess.Popen:
    env = dict(os.environ, APP_ENV="testing", DATABASE_URL=database_url, SCHEDULER_TEST_JOBS="1",
               LOG_LEVEL="INFO", PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "run", *LEASE],
        cwd=PROJECT_DIR, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, preexec_fn=die_with_parent,
    )


@pytest.fixture
def processes(app, database_url: str, tmp_path: Path) -> Iterator[list[subprocess.Popen]]:
    started = [_start(database_url, tmp_path / f"scheduler{n}.log") for n in range(2)]
    try:
        yield started
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
            process.wait(10)


def _runs() -> list[JobRun]:
    db.session.expire_all()
    runs = list(db.session.scalars(select(JobRun).order_by(JobRun.id)))
    db.session.commit()
    return runs


def _wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def _fire_time(run: JobRun) -> datetime:
    return datetime.fromisoformat(run.occurrence.split("@", 1)[1])


@pytest.mark.slow
def test_two_schedulers_run_each_occurrence_once_and_the_standby_takes_over(processes, tmp_path: Path) -> None:
    by_pid = {process.pid: process for process in processes}
    assert _wait_for(lambda: len(_runs()) >= 2 + RUN_SECONDS, 30 + PHASE_LIMIT), (
        tmp_path / "scheduler0.log").read_text()
    before = _runs()
    holders = {run.holder for run in before}
    assert len(holders) == 1, f"both schedulers ran jobs: {holders}"
    leader_pid = int(holders.pop().rsplit(":", 1)[1])
    assert leader_pid in by_pid
    assert db.session.get(SchedulerLease, "scheduler").holder.endswith(f":{leader_pid}")
    db.session.commit()

    by_pid[leader_pid].send_signal(signal.SIGKILL)
    by_pid[leader_pid].wait(10)
    killed_at = time.monotonic()
    standby = next(process for pid, process in by_pid.items() if pid != leader_pid)

    def taken_over() -> bool:
        return any(run.holder.endswith(f":{standby.pid}") for run in _runs())

    assert _wait_for(taken_over, TAKEOVER_LIMIT + 5)
    takeover = time.monotonic() - killed_at
    assert takeover < TAKEOVER_LIMIT, f"took {takeover:.1f} s"
    if is_postgres():
        assert takeover < 10  # the lock is free as soon as the dead leader's session ends

    def standby_runs() -> int:
        return sum(run.holder.endswith(f":{standby.pid}") for run in _runs())

    assert _wait_for(lambda: standby_runs() >= RUN_SECONDS, PHASE_LIMIT), f"{standby_runs()} runs by the standby"

    # A clean stop: running jobs finish, the lock is released, the process exits 0.
    standby.send_signal(signal.SIGTERM)
    assert standby.wait(20) == 0
    db.session.expire_all()
    assert db.session.get(SchedulerLease, "scheduler") is None

    runs = _runs()
    fire_times = [_fire_time(run) for run in runs]
    assert len(fire_times) == len(set(fire_times))  # one run per occurrence…
    assert all(time_.microsecond == 0 for time_ in fire_times)  # …on the anchored second
    assert {run.job for run in runs} == {"tick"}
    # Before the kill only the leader ran jobs; after it, only the standby.
    after = [run for run in runs if run.holder.endswith(f":{standby.pid}")]
    assert after and all(run.holder.endswith(f":{leader_pid}") for run in runs if run not in after)
    assert min(_fire_time(run) for run in after) > max(_fire_time(run) for run in runs if run not in after)
    assert all(run.outcome == "ok" for run in after)
    assert len(after) >= RUN_SECONDS - 1
