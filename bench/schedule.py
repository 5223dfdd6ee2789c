"""P7 of ../shared/docs/QUALITY.md: a bulletin scheduled for T starts sending within 2 s after T.

    .venv/bin/python bench/schedule.py [RUNS] [--database sqlite|postgres] [--lead SECONDS] [--series N]

What runs: an SMTP sink in its own process (``bench/smtp_sink.py``), a throwaway database
built by the migrations, a real ``flask scheduler run`` process (the ``bulletins`` job, every
second) and a real ``flask mail worker``. Each run creates a public list with one subscriber
and an approved bulletin scheduled ``--lead`` seconds ahead (T), then waits. At the end the
sink reports when each address was first accepted; the delay of a run is that time minus T.

Output: ``schedule_delay: X s`` per run, then the median and the worst (goal: ≤ 2 s), and
``dispatched_once: yes|no`` (each address received exactly one copy).

The series half (``--series N``, 50 by default; ``RUNS`` 0 runs it alone): a weekly series,
Thursdays 10:00 in the team's zone, editions made 3 days ahead, over N occurrences from
September (two daylight-saving changes inside), on a simulated clock. At each moment that
matters (before, at and after each edition's lead time and its time) two schedulers (two
apps, their own connections) run the bulletins job at once. A lead approves most editions
when they are made; every 7th is left unapproved (held) and every 10th skipped ahead. It
prints the occurrences by outcome, ``occurrence_twice: 0`` (no occurrence made, decided
or dispatched twice: one row per occurrence, one edition, at most one send per edition),
whether every time was 10:00 on the team's wall clock, and the CPU per occurrence.
Exit status 1 when a message is missing or doubled, a delay exceeds 2 s, or an occurrence
happened twice.
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

from bench.send import build_app, environment, free_port, sink_process, throwaway_database  # noqa: E402


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


def simulate_series(env: dict[str, str], occurrences: int) -> bool:
    """The series half: N occurrences of a weekly series on a simulated clock, two schedulers racing at each
    moment. Prints the outcome; True when no occurrence happened twice and every time was 10:00 local."""
    import threading
    from collections import Counter
    from datetime import UTC, datetime
    from datetime import time as clock_time

    from sqlalchemy import func, select

    from inquiry_desk.accounts import services as accounts
    from inquiry_desk.bulletins import checks, dispatch, series, services
    from inquiry_desk.bulletins.models import Bulletin, SeriesOccurrence
    from inquiry_desk.core.clock import team_timezone
    from inquiry_desk.core.extensions import db
    from inquiry_desk.mail.models import MailSend
    from inquiry_desk.mailing import services as mailing

    apps = [build_app(env), build_app(env)]
    start = datetime(2026, 9, 7, 12, 0, tzinfo=UTC)  # a Monday; November and March changes come after
    with apps[0].app_context():
        password = "bench series password"  # noqa: S105 - a throwaway database
        lead, officer, approver = (accounts.create_user(
            name=f"Series {role} {n}", email=f"series-{role}{n}@example.org", role=role, password=password,
            actor=None, now=start) for n, role in enumerate(("lead", "officer", "lead")))
        mailing_list = mailing.save_list(None, mailing.ListFields(name_en="Series", name_fr="Série", public=True),
                                         actor=None, now=start)
        for number, lang in ((1, "en"), (2, "fr")):
            mailing.add_member(mailing_list, f"series{number}@example.net", name=None, language=lang,
                               consent_source="bench", actor=None, now=start)
        item = series.create(series.SeriesFields(
            name="Weekly partner update", rule="weekly", at=clock_time(10, 0), lead_minutes=3 * 24 * 60, weekday=4,
            template=services.BulletinFields(sender_name="Bench", list_ids=(mailing_list.id,), title_en="Update",
                                             title_fr="Le point", subject_en="Update", subject_fr="Le point",
                                             body_en="Hello.", body_fr="Bonjour.")), actor=lead, now=start)
        db.session.commit()
        times = series.next_times(item, after=start, count=occurrences)
        zone = team_timezone()
        series_id, ids = item.id, (lead.id, officer.id, approver.id)

    errors: list[BaseException] = []

    def race(moment: datetime) -> None:
        barrier = threading.Barrier(len(apps))

        def one(app) -> None:  # type: ignore[no-untyped-def]
            try:
                with app.app_context():
                    barrier.wait(timeout=30)
                    dispatch.run(moment)
                    db.session.remove()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=one, args=(app,)) for app in apps]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    lead_time = timedelta(days=3)
    began, cpu = time.perf_counter(), time.process_time()
    for number, at in enumerate(times, start=1):
        made_at = at - lead_time
        with apps[0].app_context():
            if number % 10 == 0:  # a lead skips it before it is made
                lead = db.session.get(type(lead), ids[0])
                series.skip(series.get(series_id), at, actor=lead, now=made_at - timedelta(hours=1))
                db.session.commit()
        for moment in (made_at - timedelta(minutes=1), made_at, made_at + timedelta(seconds=1)):
            race(moment)
        with apps[0].app_context():
            occurrence = db.session.scalar(select(SeriesOccurrence).where(SeriesOccurrence.series_id == series_id,
                                                                          SeriesOccurrence.occurs_at == at))
            if occurrence is not None and occurrence.bulletin_id and number % 7:
                bulletin = db.session.get(Bulletin, occurrence.bulletin_id)
                officer, approver = (db.session.get(type(lead), user_id) for user_id in ids[1:])
                services.submit(bulletin, actor=officer, now=made_at + timedelta(hours=1))
                keys = [finding.key for finding in checks.run_checks(bulletin)]
                services.approve(bulletin, version=bulletin.version, acknowledged=keys, actor=approver,
                                 now=made_at + timedelta(hours=2))
                db.session.commit()
        for moment in (at - timedelta(seconds=1), at, at + timedelta(seconds=1), at + timedelta(hours=1)):
            race(moment)
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu

    with apps[0].app_context():
        rows = db.session.scalars(select(SeriesOccurrence).where(SeriesOccurrence.series_id == series_id)).all()
        states = Counter(row.state for row in rows)
        per_time = Counter(row.occurs_at for row in rows)
        editions = Counter(row.bulletin_id for row in rows if row.bulletin_id)
        bulletins = db.session.scalar(select(func.count()).select_from(Bulletin)) or 0
        sends = Counter(db.session.scalars(select(MailSend.key)))
        twice = (sum(1 for count in per_time.values() if count > 1) + sum(1 for c in editions.values() if c > 1)
                 + sum(1 for count in sends.values() if count > 1) + max(0, bulletins - len(editions)))
        local = {row.occurs_at.astimezone(zone).strftime("%a %H:%M") for row in rows}
        offsets = sorted({int(row.occurs_at.astimezone(zone).utcoffset().total_seconds() // 3600) for row in rows})
    print(f"# series: {occurrences} occurrences of a weekly series, two schedulers racing at "
          f"{7 * occurrences} moments, {env['DATABASE_URL'].split(':')[0]}", flush=True)
    print(f"series_occurrences: {len(rows)} ({', '.join(f'{k} {v}' for k, v in sorted(states.items()))})")
    print(f"series_editions: {len(editions)}, sends: {len(sends)}")
    print(f"occurrence_twice: {twice}")
    print(f"series_local_times: {', '.join(sorted(local))} (UTC offsets {offsets})")
    print(f"series_cpu_per_occurrence: {1000 * cpu / max(1, occurrences):.1f} ms (wall {wall:.1f} s, "
          f"two schedulers in this process)")
    for error in errors[:3]:
        print(f"# error: {type(error).__name__}: {error}")
    return not errors and twice == 0 and len(rows) == occurrences and local == {"Thu 10:00"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="?", type=int, default=5)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--lead", type=float, default=4.0, help="seconds between scheduling and T")
    parser.add_argument("--series", type=int, default=50, help="occurrences of the simulated series (0: none)")
    args = parser.parse_args(argv)

    failed = args.runs > 0 and p7(args)
    if args.series > 0:
        failed = series_half(args) or failed
    return 1 if failed else 0


def p7(args: argparse.Namespace) -> bool:
    """The first half: bulletins scheduled for T through real processes. True when it failed."""
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
    return bool(problems or any(delay > 2 for delay in delays))


def series_half(args: argparse.Namespace) -> bool:
    """The second half, on a throwaway database of its own (no process: the clock is simulated). True when
    it failed."""
    from flask_migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="bench-series-") as folder:
        workdir = Path(folder)
        with throwaway_database(args.database, args.postgres_url, workdir) as database_url:
            env = environment(database_url, free_port(), workdir)  # nothing is sent: no sink
            app = build_app(env)
            with app.app_context():
                upgrade(directory=str(PROJECT_DIR / "migrations"))
            return not simulate_series(env, args.series)


if __name__ == "__main__":
    raise SystemExit(main())
