"""P7 of ../shared/docs/QUALITY.md: a bulletin scheduled for T starts sending within 2 s after T.

    .venv/bin/python bench/schedule.py [RUNS] [--database sqlite|postgres] [--lead SECONDS]

What runs: an SMTP sink in its own process (``bench/smtp_sink.py``), a throwaway database
built by the migrations, a real ``flask scheduler run`` process (the ``bulletins`` job, every
second) and a real ``flask mail worker``. Each run creates a public list with one subscriber
and an approved bulletin scheduled ``--lead`` seconds ahead (T), then waits. At the end the
sink reports when each address was first accepted; the delay of a run is that time minus T.

Output: ``schedule_delay: X s`` per run, then the median and the worst (goal: ≤ 2 s), and
``dispatched_once: yes|no`` (each address received exactly one copy). The series half of
P7 (50 simulated occurrences) waits for the series feature (not built on this branch).
Exit status 1 when a message is missing or doubled, or a delay exceeds 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from bench.send import build_app, environment, sink_process, throwaway_database  # noqa: E402


def prepare(app, number: int, lead: float) -> tuple[str, float]:  # type: ignore[no-untyped-def]
    """One approved bulletin to one subscriber, scheduled ``lead`` seconds ahead; (address, T as epoch)."""
    from inquiry_desk.accounts import services as accounts
    from inquiry_desk.bulletins import checks, services
    from inquiry_desk.core.clock import utcnow
    from inquiry_desk.core.extensions import db
    from inquiry_desk.mailing import services as mailing

    address = f"run{number}@example.net"
    password = "bench password " + str(number).rjust(4, "0")  # a throwaway database
    with app.app_context():
        now = utcnow()
        author = accounts.create_user(name=f"Author {number}", email=f"author{number}@example.org", role="officer",
                                      password=password, actor=None, now=now)
        lead_user = accounts.create_user(name=f"Lead {number}", email=f"lead{number}@example.org", role="lead",
                                         password=password, actor=None, now=now)
        mailing_list = mailing.save_list(None, mailing.ListFields(name_en=f"List {number}", name_fr=f"Liste {number}",
                                                                  public=True), actor=None, now=now)
        mailing.add_member(mailing_list, address, name=None, language="fr" if number % 2 else "en",
                           consent_source="bench", actor=None, now=now)
        bulletin = services.create(services.BulletinFields(
            sender_name="Bench", list_ids=(mailing_list.id,), title_en=f"Run {number}", title_fr=f"Essai {number}",
            subject_en=f"Run {number}", subject_fr=f"Essai {number}", body_en="Hello.", body_fr="Bonjour."),
            actor=author, now=now)
        services.submit(bulletin, actor=author, now=now)
        findings = [finding.key for finding in checks.run_checks(bulletin)]
        services.approve(bulletin, version=bulletin.version, acknowledged=findings, actor=lead_user, now=now)
        at = utcnow() + timedelta(seconds=lead)
        services.schedule(bulletin, at, actor=author, now=utcnow())
        db.session.commit()
        return address, at.timestamp()


def wait_for_scheduler(app, limit: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    """Until the scheduler process leads and has run the bulletins job once (a slow machine starts slowly)."""
    from sqlalchemy import func, select

    from inquiry_desk.core.extensions import db
    from inquiry_desk.jobs.models import JobRun

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with app.app_context():
            if db.session.scalar(select(func.count()).select_from(JobRun).where(JobRun.job == "bulletins")):
                return
        time.sleep(0.5)
    raise RuntimeError("the scheduler process never ran the bulletins job")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="?", type=int, default=5)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--lead", type=float, default=4.0, help="seconds between scheduling and T")
    args = parser.parse_args(argv)

    from flask_migrate import upgrade

    runs: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-schedule-") as folder:
        workdir = Path(folder)
        with sink_process(workdir) as (port, counts_file), \
                throwaway_database(args.database, args.postgres_url, workdir) as database_url:
            env = environment(database_url, port, workdir)
            app = build_app(env)
            with app.app_context():
                upgrade(directory=str(PROJECT_DIR / "migrations"))
            child_env = {**os.environ, **env, "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING")}
            processes = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", *command],
                                          cwd=PROJECT_DIR, env=child_env, stderr=subprocess.STDOUT,
                                          stdout=(workdir / f"{command[0]}.log").open("w"))
                         for command in (("scheduler", "run"), ("mail", "worker"))]
            try:
                wait_for_scheduler(app)
                print(f"# P7 schedule: {args.runs} runs, {args.database}; a scheduler process (job every 1 s), "
                      f"a mail worker, an SMTP sink; shared 2-core machine, figures are noisy", flush=True)
                for number in range(args.runs):
                    runs.append(prepare(app, number, args.lead))
                    time.sleep(args.lead + 3)
            finally:
                for process in processes:
                    process.send_signal(signal.SIGTERM)
                for process in processes:
                    try:
                        process.wait(30)
                    except subprocess.TimeoutExpired:
                        process.kill()
        report = json.loads(counts_file.read_text())
        if os.environ.get("BENCH_SHOW_LOGS"):
            for log in workdir.glob("*.log"):
                print(f"# {log.name}:\n{log.read_text()[-3000:]}")
    delays = []
    problems = []
    for address, due in runs:
        count = report["counts"].get(address, 0)
        if count != 1:
            problems.append(f"{address}: {count} copies")
            continue
        delay = report["accepted_at"][address] - due
        delays.append(delay)
        print(f"schedule_delay: {delay:.2f} s", flush=True)
    if delays:
        print(f"schedule_delay_median: {statistics.median(delays):.2f} s")
        print(f"schedule_delay_worst: {max(delays):.2f} s (goal: <= 2 s)")
    print(f"dispatched_once: {'yes' if not problems else 'no'}")
    for problem in problems:
        print(f"# {problem}")
    return 1 if problems or any(delay > 2 for delay in delays) else 0


if __name__ == "__main__":
    raise SystemExit(main())
