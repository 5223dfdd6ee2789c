"""Issue 18: the dashboard's server time at size, against the floor of the trivial staff page.

    .venv/bin/python bench/dashboard.py SIZE [--database sqlite|postgres] [--requests 15]

A throwaway database (a SQLite file, or a PostgreSQL database ``bench_dashboard`` dropped at
the end) is built by the migrations and filled by bulk insert with SIZE inquiries received over
the last 120 days (channels, topics, kinds of organisation, languages, assignees, first responses
and resolutions with their due times, 10 % restricted), and a bulk send of 2,000 deliveries. Then,
in one process, through the app's WSGI stack (signed in as an officer, the reader who makes the
dashboard mask restricted inquiries), the dashboard is requested ``--requests`` times after two
warm-ups, interleaved with the floor (``/staff/``), as in ``bench/inbox.py``.

``--keep DIR`` keeps the seeded database (SQLite: in DIR; PostgreSQL: the database ``--pg-name``,
not dropped) and reuses it when DIR holds its secret; ``--seed-only`` seeds (and rolls up unless
``--live``) and stops. PostgreSQL is seeded set-based (``generate_series``): 1,000,000 in ~6 min.

Output: ``name: value unit (ratio x floor)``; ``dashboard_median`` is the default page (the last
4 weeks); lines starting with ``#`` are context.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from bench.inbox import (  # noqa: E402
    BENCH_PASSWORD,
    PRIORITY_RANK,
    build_app,
    line,
    migrate,
    percentile,
    sign_in,
)

CHANNELS = ["web", "web", "web", "email", "email", "phone", "manual"]
KINDS = ["ngo", "referral_partner", "settlement_partner", "private_sponsor", "government", None]
PRIORITIES = ["low", "normal", "normal", "normal", "high", "urgent"]


@contextlib.contextmanager
def throwaway_database(kind: str, postgres_url: str, workdir: Path, keep: bool = False,
                       name: str = "bench_dashboard") -> Iterator[str]:
    """The bench's database. With ``keep``, a PostgreSQL database ``name`` is neither emptied at the
    start (when the kept folder says it was seeded) nor dropped at the end: drop it by hand."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'dashboard.sqlite3'}"
        return
    from sqlalchemy import create_engine, text

    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    reuse = keep and (workdir / "secret").exists()
    if not reuse:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield postgres_url.rsplit("/", 1)[0] + "/" + name
    finally:
        if not keep:
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def seed(app, size: int, rng: random.Random, roll_up: bool = True) -> str:
    from sqlalchemy import insert, select, text

    from inquiry_desk.accounts import second_factor
    from inquiry_desk.accounts import services as accounts
    from inquiry_desk.core.extensions import db
    from inquiry_desk.directory.models import Contact, Organisation
    from inquiry_desk.inquiries.models import Inquiry, Topic
    from inquiry_desk.mail.models import Delivery, MailSend

    now = datetime.now(UTC)
    args_size = size
    with app.app_context():
        officer = accounts.create_user(name="Bench Officer", email="bench@example.org", role="officer",
                                       password=BENCH_PASSWORD, actor=None, now=now)
        officer.totp_secret = second_factor.new_totp_secret()
        staff = [officer] + [accounts.create_user(name=f"Officer {n}", email=f"officer{n}@example.org",
                                                  role="officer", password=BENCH_PASSWORD, actor=None, now=now)
                             for n in range(6)]
        db.session.commit()
        staff_ids = [user.id for user in staff]
        topics = list(db.session.scalars(select(Topic.id)))
        db.session.execute(insert(Organisation), [{"id": n + 1, "name": f"Organisation {n}", "kind": "ngo",
                                                    "created_at": now} for n in range(400)])
        contacts = max(size // 3, 1)
        batch = 5000
        started = time.perf_counter()
        if db.session.get_bind().dialect.name == "postgresql":
            seed_set_based(size, contacts, topics, staff_ids, now)
            size = contacts = 0  # done: the loops below have nothing left to insert
        for start in range(0, contacts, batch):
            db.session.execute(insert(Contact), [
                {"id": n + 1, "email": f"person{n}@example{n % 97}.org", "name": f"Person {n}",
                 "language": "fr" if n % 3 == 0 else "en", "created_at": now}
                for n in range(start, min(start + batch, contacts))])
        db.session.commit()
        span = timedelta(days=120).total_seconds()
        for start in range(0, size, batch):
            rows = []
            for n in range(start, min(start + batch, size)):
                received = now - timedelta(seconds=span * (size - n) / size)
                priority = rng.choice(PRIORITIES)
                answered = received + timedelta(minutes=rng.randint(10, 4000)) if rng.random() < 0.9 else None
                resolved = (answered + timedelta(minutes=rng.randint(10, 20000))
                            if answered is not None and rng.random() < 0.75 else None)
                if resolved is not None and resolved > now:
                    resolved = None
                if answered is not None and answered > now:
                    answered = None
                status = "resolved" if resolved else rng.choice(["new", "open", "waiting"])
                rows.append({
                    "id": n + 1, "reference": f"INQ-{received.year}-{n + 1:07d}", "subject": f"Question {n}",
                    "topic_id": topics[n % len(topics)], "status": status, "priority": priority,
                    "priority_rank": PRIORITY_RANK[priority], "language": "fr" if n % 3 == 0 else "en",
                    "channel": rng.choice(CHANNELS), "contact_id": n % contacts + 1,
                    "organisation_id": n % 400 + 1 if n % 2 else None, "organisation_kind": rng.choice(KINDS),
                    "trusted_partner": n % 20 == 0,
                    "assignee_id": None if status == "new" else staff_ids[n % len(staff_ids)],
                    "received_at": received, "updated_at": received, "first_response_at": answered,
                    "resolved_at": resolved, "first_response_due_at": received + timedelta(days=1),
                    "resolution_due_at": received + timedelta(days=7),
                    "due_at": None if resolved else received + timedelta(days=7), "targets_version": 1,
                    "target_notices": "", "version": 1, "restricted": n % 10 == 3,
                })
            db.session.execute(insert(Inquiry), rows)
            db.session.commit()
        send = MailSend(key="bulletin:bench", status="done", from_address="desk@example.org", content={},
                        extra_headers={}, left_out_suppressed=0, left_out_duplicate=0, created_at=now,
                        started_at=now - timedelta(days=3))
        db.session.add(send)
        db.session.flush()
        db.session.execute(insert(Delivery), [
            {"send_id": send.id, "address": f"s{n}@example.org", "address_key": f"s{n}@example.org",
             "language": "en", "status": "sent" if n % 50 else "failed", "attempts": 1,
             "next_attempt_at": now, "accepted_at": now - timedelta(days=3) if n % 50 else None}
            for n in range(2000)])
        db.session.commit()
        dialect = db.session.get_bind().dialect.name
        if dialect == "postgresql":
            for table in ("contacts", "inquiries", "organisations"):
                db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                                        f"(SELECT max(id) FROM {table}))"))
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        print(f"# seeded {args_size:,} inquiries in {time.perf_counter() - started:.1f} s ({dialect})", flush=True)
        if roll_up:
            roll_up_days(now)
        return str(officer.totp_secret)


def seed_set_based(size: int, contacts: int, topics: list[int], staff_ids: list[int], now: datetime) -> None:
    """PostgreSQL: the same inquiries as the Python loop (same shares, spread over 120 days), by
    ``INSERT … SELECT generate_series`` in the database: a million in minutes, not hours."""
    from sqlalchemy import text

    from inquiry_desk.core.extensions import db

    rank = " ".join(f"WHEN '{name}' THEN {value}" for name, value in PRIORITY_RANK.items())
    quoted = ", ".join(f"'{value}'" if value else "NULL" for value in KINDS)
    db.session.execute(text("SELECT setseed(0.18)"))
    db.session.execute(text(
        "INSERT INTO contacts (id, email, name, language, created_at) "
        "SELECT n, 'person' || (n - 1) || '@example' || ((n - 1) % 97) || '.org', 'Person ' || (n - 1), "
        "CASE WHEN (n - 1) % 3 = 0 THEN 'fr' ELSE 'en' END, :now FROM generate_series(1, :contacts) AS n"),
        {"now": now, "contacts": contacts})
    db.session.execute(text(f"""
        WITH base AS (
            SELECT n, CAST(:now AS timestamptz) - make_interval(secs => 120 * 86400.0 * (:size - n + 1) / :size)
                       AS received,
                   (ARRAY['low', 'normal', 'normal', 'normal', 'high', 'urgent'])[1 + floor(random() * 6)::int]
                       AS priority,
                   (ARRAY['web', 'web', 'web', 'email', 'email', 'phone', 'manual'])[1 + floor(random() * 7)::int]
                       AS channel,
                   (ARRAY[{quoted}])[1 + floor(random() * {len(KINDS)})::int] AS kind,
                   random() AS a1, random() AS a2, random() AS r1, random() AS r2, random() AS s
            FROM generate_series(1, :size) AS n),
        answered AS (
            SELECT *, CASE WHEN a1 < 0.9 THEN received + make_interval(mins => 10 + floor(a2 * 3991)::int) END
                       AS answered0 FROM base),
        resolved AS (
            SELECT *, CASE WHEN answered0 IS NOT NULL AND r1 < 0.75
                           THEN answered0 + make_interval(mins => 10 + floor(r2 * 19991)::int) END AS resolved0
            FROM answered),
        final AS (
            SELECT *, CASE WHEN resolved0 <= :now THEN resolved0 END AS resolved_at,
                   CASE WHEN answered0 <= :now THEN answered0 END AS answered_at,
                   CASE WHEN resolved0 <= :now THEN 'resolved'
                        ELSE (ARRAY['new', 'open', 'waiting'])[1 + floor(s * 3)::int] END AS status
            FROM resolved)
        INSERT INTO inquiries (id, reference, subject, topic_id, status, priority, priority_rank, language, channel,
                               contact_id, organisation_id, organisation_kind, trusted_partner, assignee_id,
                               received_at, updated_at, first_response_at, resolved_at, first_response_due_at,
                               resolution_due_at, due_at, targets_version, target_notices, version, restricted)
        SELECT n, 'INQ-' || extract(year FROM received)::int || '-' || lpad(n::text, 7, '0'), 'Question ' || (n - 1),
               (CAST(:topics AS int[]))[1 + (n - 1) % cardinality(CAST(:topics AS int[]))], status, priority,
               CASE priority {rank} END, CASE WHEN (n - 1) % 3 = 0 THEN 'fr' ELSE 'en' END, channel,
               (n - 1) % :contacts + 1, CASE WHEN (n - 1) % 2 = 1 THEN (n - 1) % 400 + 1 END, kind,
               (n - 1) % 20 = 0,
               CASE WHEN status = 'new' THEN NULL
                    ELSE (CAST(:staff AS int[]))[1 + (n - 1) % cardinality(CAST(:staff AS int[]))] END,
               received, received, answered_at, resolved_at, received + interval '1 day', received + interval '7 days',
               CASE WHEN resolved_at IS NULL THEN received + interval '7 days' END, 1, '', 1, (n - 1) % 10 = 3
        FROM final"""), {"now": now, "size": size, "contacts": contacts, "topics": topics,  # noqa: S608
                          "staff": staff_ids})
    db.session.commit()


def roll_up_days(now: datetime) -> None:
    """What ``flask reports rollup`` and the job keep: every complete day since the first inquiry."""
    from sqlalchemy import text

    from inquiry_desk.core.clock import team_timezone
    from inquiry_desk.core.extensions import db
    from inquiry_desk.reports import rollup

    started = time.perf_counter()
    today = now.astimezone(team_timezone()).date()
    rows = rollup.rebuild(today - timedelta(days=125), today, now)
    db.session.commit()
    summary = rollup.refresh(now)
    if db.session.get_bind().dialect.name == "postgresql":  # as autovacuum would after millions of new rows
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    print(f"# roll-up: {rows:,} rows for 125 days in {time.perf_counter() - started:.1f} s; job: {summary}",
          flush=True)


PAGES = {
    "dashboard": "/staff/dashboard/",
    "dashboard_quarter": "/staff/dashboard/?period=quarter",
    "dashboard_filtered": "/staff/dashboard/?period=4weeks&language=fr&kind=ngo",
    "dashboard_csv": "/staff/dashboard/received.csv?period=quarter",
}


def timed(client, url: str) -> tuple[float, float]:
    """Wall and CPU time of one request, in ms (CPU time of this process: the one that serves)."""
    wall, cpu = time.perf_counter(), time.process_time()
    response = client.get(url)
    response.get_data()  # a streamed CSV is drawn while it is read
    cpu, wall = (time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    return wall, cpu


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def profile(client, url: str, path: Path) -> None:
    """One request under cProfile: the 30 costliest functions by cumulative time, into ``path``."""
    profiler = cProfile.Profile()
    profiler.enable()
    client.get(url).get_data()
    profiler.disable()
    with path.open("w") as out:
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(60)
    print(f"# profile of {url} in {path}", flush=True)


def slowest_statements(app, client, url: str, shown: int = 12) -> None:
    """The statements of one request, slowest first (wall time in the database driver)."""
    from sqlalchemy import event

    from inquiry_desk.core.extensions import db

    with app.app_context():
        engine = db.engine
    found: list[tuple[float, str]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        context._bench_started = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        found.append(((time.perf_counter() - context._bench_started) * 1000, " ".join(statement.split())[:160]))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    client.get(url).get_data()
    event.remove(engine, "before_cursor_execute", before)
    event.remove(engine, "after_cursor_execute", after)
    print(f"# {len(found)} statements, {sum(ms for ms, _ in found):.1f} ms in all; the slowest:")
    for ms, statement in sorted(found, reverse=True)[:shown]:
        print(f"#   {ms:7.1f} ms  {statement}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("size", type=int)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--profile", type=Path, help="write a cProfile of one dashboard request there")
    parser.add_argument("--live", action="store_true", help="no roll-up: every figure from the live query")
    parser.add_argument("--keep", type=Path, help="keep the seeded database (SQLite: in this folder; PostgreSQL: "
                        "the database --pg-name, not dropped) and reuse it on the next run with this folder")
    parser.add_argument("--pg-name", default="bench_dashboard", help="PostgreSQL: the bench's private database")
    parser.add_argument("--seed-only", action="store_true", help="seed (and roll up unless --live), then stop")
    parser.add_argument("--queries", action="store_true", help="print the slowest statements of one request")
    parser.add_argument("--pages", default=",".join(PAGES), help="which pages to measure (comma-separated)")
    args = parser.parse_args(argv)
    pages = {name: PAGES[name] for name in args.pages.split(",")}
    with contextlib.ExitStack() as stack:
        if args.keep:
            folder = str(args.keep)
            args.keep.mkdir(parents=True, exist_ok=True)
        else:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-dashboard-"))
        url = stack.enter_context(throwaway_database(args.database, args.postgres_url, Path(folder),
                                                    keep=args.keep is not None, name=args.pg_name))
        app = build_app(url, Path(folder))
        secret_file = Path(folder) / "secret"
        if not secret_file.exists():
            migrate(app)
            secret_file.write_text(seed(app, args.size, random.Random(args.size), roll_up=not args.live))
        elif args.live:  # a kept database: forget which days are rolled up, so that every figure is live
            with app.app_context():
                from sqlalchemy import delete

                from inquiry_desk.core.extensions import db
                from inquiry_desk.reports.models import RolledDay

                db.session.execute(delete(RolledDay))
                db.session.commit()
        if args.seed_only:
            return 0
        client = sign_in(app, secret_file.read_text())
        if args.queries:
            slowest_statements(app, client, PAGES["dashboard"])
        if args.profile:
            timed(client, PAGES["dashboard"])
            profile(client, PAGES["dashboard"], args.profile)
        times: dict[str, list[tuple[float, float]]] = {"floor": [], **{name: [] for name in pages}}
        for _ in range(2):
            timed(client, "/staff/")
            for page in pages.values():
                timed(client, page)
        print(f"# load before: {load()}", flush=True)
        for _ in range(args.requests):
            for name, page in pages.items():
                times["floor"].append(timed(client, "/staff/"))
                times[name].append(timed(client, page))
        print(f"# load after: {load()}")
        floor = statistics.median(wall for wall, _cpu in times["floor"])
        floor_cpu = statistics.median(cpu for _wall, cpu in times["floor"])
        print(f"# size {args.size:,} on {args.database}: {args.requests} requests per page")
        line("floor_median", floor, "ms", 1.0)
        line("floor_cpu_median", floor_cpu, "ms", 1.0)
        for name in pages:
            walls = [wall for wall, _cpu in times[name]]
            cpus = [cpu for _wall, cpu in times[name]]
            median = statistics.median(walls)
            line(f"{name}_median", median, "ms", median / floor)
            line(f"{name}_p95", percentile(walls, 0.95), "ms", percentile(walls, 0.95) / floor)
            line(f"{name}_cpu_median", statistics.median(cpus), "ms", statistics.median(cpus) / floor_cpu)
        with app.app_context():
            from inquiry_desk.core.extensions import db

            db.session.remove()
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
