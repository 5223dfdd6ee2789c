"""The audit log page (issue 12) on a large log: each filter's first page and a deep keyset page.

    .venv/bin/python bench/audit_log.py SIZE [SIZE ...] [--database sqlite|postgres] [--requests 20]

For each SIZE, a throwaway database (a SQLite file, or the PostgreSQL database ``bench_audit_log``,
dropped at the end; never the test suite's ``test``) is built by the migrations and SIZE audit entries
are bulk-inserted: 40 staff members, the actions the desk writes most (openings, sign-ins,
changes) and a few rare ones, over a year. Then, signed in as an administrator, each page is
requested ``--requests`` times after warm-ups, interleaved with the floor (the trivial signed-in
page ``/staff/``), and its median and 95th percentile are printed against it. With several sizes,
growth lines give each page's median at the largest size over its median at the smallest.

Output: ``name: value unit (ratio x floor)``; lines starting with ``#`` are context.
"""

from __future__ import annotations

import argparse
import contextlib
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

from bench.inbox import (  # noqa: E402  (the path above first)
    BENCH_PASSWORD,
    build_app,
    line,
    measure,
    migrate,
    percentile,
)

COMMON = ["inquiry.viewed"] * 12 + ["login.succeeded"] * 3 + ["logout", "inquiry.status_changed",
                                                               "inquiry.assigned", "inquiry.replied",
                                                               "inquiry.note_added", "inquiry.exported"]
RARE = ["user.second_factor_reset", "topic.restricted", "inquiry.access_justified"]
BATCH = 5_000


@contextlib.contextmanager
def throwaway_database(kind: str, postgres_url: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'audit.sqlite3'}"
        return
    from sqlalchemy import create_engine, text

    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS bench_audit_log WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE bench_audit_log"))
    try:
        yield postgres_url.rsplit("/", 1)[0] + "/bench_audit_log"
    finally:
        with admin.connect() as connection:
            connection.execute(text("DROP DATABASE IF EXISTS bench_audit_log WITH (FORCE)"))
        admin.dispose()


def seed(app, size: int, rng: random.Random) -> dict[str, object]:
    from sqlalchemy import insert, text

    from inquiry_desk.accounts import second_factor
    from inquiry_desk.accounts import services as accounts
    from inquiry_desk.audit.models import AuditEvent
    from inquiry_desk.core.extensions import db

    now = datetime.now(UTC)
    started = time.perf_counter()
    with app.app_context():
        admin = accounts.create_user(name="Bench Admin", email="bench@example.org", role="admin",
                                     password=BENCH_PASSWORD, actor=None, now=now)
        admin.totp_secret = second_factor.new_totp_secret()
        staff = [accounts.create_user(name=f"Officer {n}", email=f"officer{n}@example.org", role="officer",
                                      password=BENCH_PASSWORD, actor=None, now=now) for n in range(40)]
        db.session.commit()
        staff_ids = [user.id for user in staff]
        first = now - timedelta(days=365)
        step = timedelta(days=365) / size
        rows = []
        for number in range(size):
            action = rng.choice(RARE) if rng.random() < 0.0005 else rng.choice(COMMON)
            about_user = action.startswith(("login", "logout", "user"))
            subject_type, subject_id = (("user", rng.choice(staff_ids)) if about_user
                                        else ("inquiry", rng.randint(1, max(1, size // 20))))
            rows.append({"at": first + step * number, "actor_id": rng.choice(staff_ids), "action": action,
                         "subject_type": subject_type, "subject_id": subject_id, "details": {},
                         "ip_address": "192.0.2.1"})
            if len(rows) >= BATCH:
                db.session.execute(insert(AuditEvent), rows)
                db.session.commit()
                rows = []
        if rows:
            db.session.execute(insert(AuditEvent), rows)
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        middle = db.session.execute(text("SELECT id FROM audit_events ORDER BY at DESC, id DESC LIMIT 1 OFFSET :n"),
                                    {"n": size // 2}).scalar_one()
        print(f"# seeded {size:,} audit entries in {time.perf_counter() - started:.1f} s "
              f"({db.engine.dialect.name})", flush=True)
        return {"secret": admin.totp_secret, "actor": staff_ids[3], "middle": middle,
                "month": (now - timedelta(days=200)).date()}


def sign_in(app, secret: str):
    import pyotp

    client = app.test_client()
    client.post("/auth/login", data={"email": "bench@example.org", "password": BENCH_PASSWORD})
    client.post("/auth/second-factor", data={"code": pyotp.TOTP(secret).now()})
    assert client.get("/staff/").status_code == 200, "could not sign in"
    return client


def pages(sample: dict[str, object]) -> dict[str, str]:
    month = sample["month"]
    assert isinstance(month, type(datetime.now().date()))
    until = month + timedelta(days=30)
    base = "/staff/admin/audit"
    return {
        "audit_first_page": base,
        "audit_by_actor": f"{base}?actor={sample['actor']}",
        "audit_by_rare_action": f"{base}?action=user.second_factor_reset",
        "audit_readings_group": f"{base}?action=group:readings",
        "audit_by_subject_user": f"{base}?subject=officer7@example.org",
        "audit_by_period": f"{base}?from={month.isoformat()}&to={until.isoformat()}",
        "audit_actor_and_period": f"{base}?actor={sample['actor']}&from={month.isoformat()}&to={until.isoformat()}",
        "audit_deep_keyset": f"{base}?before={sample['middle']}",
    }


def run_size(size: int, args: argparse.Namespace) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as folder, \
            throwaway_database(args.database, args.postgres_url, Path(folder)) as url:
        app = build_app(url, Path(folder))
        migrate(app)
        sample = seed(app, size, random.Random(size))
        client = sign_in(app, str(sample["secret"]))
        times = measure(client, pages(sample), args.requests)
        floor, floor_p95 = statistics.median(times["floor"]), percentile(times["floor"], 0.95)
        print(f"# size {size:,} on {args.database}: {args.requests} requests per page")
        line(f"floor_median_{size}", floor, "ms", 1.0)
        medians = {}
        for name, values in times.items():
            if name == "floor":
                continue
            median, p95 = statistics.median(values), percentile(values, 0.95)
            medians[name] = median
            line(f"{name}_median_{size}", median, "ms", median / floor)
            line(f"{name}_p95_{size}", p95, "ms", p95 / floor_p95)
        with app.app_context():
            from inquiry_desk.core.extensions import db

            db.session.remove()
            db.engine.dispose()
        return medians


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="+", type=int)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args(argv)
    results = {size: run_size(size, args) for size in args.sizes}
    if len(args.sizes) > 1:
        small, large = min(args.sizes), max(args.sizes)
        for name, median in results[large].items():
            line(f"{name}_growth_{small}_to_{large}", median / results[small][name], "x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
