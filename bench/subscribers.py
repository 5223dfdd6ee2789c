"""Issue 14's figures: a CSV import of N subscribers, and a list's members page at size.

    .venv/bin/python bench/subscribers.py N [--database sqlite|postgres] [--requests 30]

In a throwaway database (a SQLite file, or a PostgreSQL database
``bench_subscribers`` dropped at the end), built by the migrations:

- ``subscriber_import``: N subscribers imported through the staff pages, as a
  lead does it (upload the CSV, which is checked and previewed, then accept the
  preview and follow the import, which runs in the background, to its end), in
  rows per second, against its floor: a bare bulk insert (Core
  executemany, batches of 1,000) of the same rows, contacts, subscriptions and
  consent records, into another list, with no check at all. Goal ≥ 0.3 x floor.
- ``members_page_median``: the first page of the list's members with N members,
  median server time over ``--requests`` requests, against the trivial staff page
  (``/staff/``) measured interleaved in the same run. Goal ≤ 3 x floor. A filtered
  page (status) and a deep keyset page are printed too, for context.

Output: ``name: value unit (ratio x floor)``; lines starting with ``#`` are context.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from bench.inbox import build_app, line, migrate, percentile  # noqa: E402

BENCH_PASSWORD = "bench-password-" + "x" * 8  # a throwaway account in a throwaway database


@contextlib.contextmanager
def throwaway_database(kind: str, postgres_url: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'subscribers.sqlite3'}"
        return
    from sqlalchemy import create_engine, text

    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS bench_subscribers WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE bench_subscribers"))
    try:
        yield postgres_url.rsplit("/", 1)[0] + "/bench_subscribers"
    finally:
        with admin.connect() as connection:
            connection.execute(text("DROP DATABASE IF EXISTS bench_subscribers WITH (FORCE)"))
        admin.dispose()


def csv_text(size: int, prefix: str) -> str:
    rows = ["email,name,language"]
    rows.extend(f"{prefix}{n}@example{n % 97}.org,Subscriber {n},{'fr' if n % 3 == 0 else 'en'}"
                for n in range(size))
    return "\n".join(rows) + "\n"


def setup(app) -> tuple[str, int, int]:
    """A lead with a second factor, and two lists: one for the floor, one for the import."""
    from inquiry_desk.accounts import second_factor
    from inquiry_desk.accounts import services as accounts
    from inquiry_desk.core.extensions import db
    from inquiry_desk.mailing import services

    now = datetime.now(UTC)
    with app.app_context():
        lead = accounts.create_user(name="Bench Lead", email="lead@example.org", role="lead",
                                    password=BENCH_PASSWORD, actor=None, now=now)
        lead.totp_secret = second_factor.new_totp_secret()
        floor_list = services.save_list(None, services.ListFields("Floor", "Plancher"), actor=None, now=now)
        real_list = services.save_list(None, services.ListFields("News", "Nouvelles"), actor=None, now=now)
        db.session.commit()
        return str(lead.totp_secret), floor_list.id, real_list.id


def bare_insert(app, list_id: int, size: int) -> float:
    """The floor: the same rows (contacts, subscriptions, consent records) by Core executemany with
    ids given, in batches of 1,000, one commit, nothing read and nothing checked; seconds."""
    from sqlalchemy import func, insert, select

    from inquiry_desk.core.extensions import db
    from inquiry_desk.directory.models import Contact
    from inquiry_desk.mailing.models import ConsentRecord, Subscription

    now = datetime.now(UTC)
    with app.app_context():
        base = {model: (db.session.scalar(select(func.max(model.id))) or 0) + 1_000_000
                for model in (Contact, Subscription, ConsentRecord)}
        started = time.perf_counter()
        for start in range(0, size, 1000):
            numbers = range(start, min(size, start + 1000))
            db.session.execute(insert(Contact), [
                {"id": base[Contact] + n, "email": f"floor{n}@example{n % 97}.org", "name": f"Subscriber {n}",
                 "language": "en", "created_at": now} for n in numbers])
            db.session.execute(insert(Subscription), [
                {"id": base[Subscription] + n, "list_id": list_id, "contact_id": base[Contact] + n,
                 "status": "subscribed", "language": "en", "created_at": now, "updated_at": now} for n in numbers])
            db.session.execute(insert(ConsentRecord), [
                {"id": base[ConsentRecord] + n, "subscription_id": base[Subscription] + n, "given": True,
                 "method": "import", "at": now, "language": "en", "note": "floor"} for n in numbers])
        db.session.commit()
        return time.perf_counter() - started


def sign_in(app, secret: str):
    import pyotp

    client = app.test_client()
    client.post("/auth/login", data={"email": "lead@example.org", "password": BENCH_PASSWORD})
    client.post("/auth/second-factor", data={"code": pyotp.TOTP(secret).now()})
    assert client.get("/staff/").status_code == 200, "could not sign in"
    return client


def import_through_pages(client, list_id: int, size: int) -> float:
    import io

    content = csv_text(size, "sub").encode()
    started = time.perf_counter()
    response = client.post(f"/staff/mailing-lists/{list_id}/import",
                           data={"file": (io.BytesIO(content), "people.csv"), "consent_source": "bench"},
                           content_type="multipart/form-data")
    assert response.status_code == 302, f"preview answered {response.status_code}"
    preview_url = response.headers["Location"]
    checked = time.perf_counter()
    response = client.post(preview_url)
    assert response.status_code == 302, f"import answered {response.status_code}"
    while True:  # the import runs in the background: follow its status as the page does
        state = client.get(preview_url + "/status").get_json()
        if state["status"] in ("done", "failed"):
            break
        time.sleep(0.25)  # the page asks every 0.5 s
    assert state["status"] == "done" and state["created"] == size, state
    elapsed = time.perf_counter() - started
    print(f"# import of {size:,}: preview {checked - started:.2f} s, import {elapsed - (checked - started):.2f} s")
    return elapsed


def timed(client, url: str) -> float:
    start = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    return elapsed


def deep_cursor(app, list_id: int, size: int) -> int:
    from sqlalchemy import select

    from inquiry_desk.core.extensions import db
    from inquiry_desk.mailing.models import Subscription

    with app.app_context():
        return int(db.session.scalar(select(Subscription.id).where(Subscription.list_id == list_id)
                                     .order_by(Subscription.id.desc()).offset(size // 2).limit(1)) or 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("size", type=int)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL",
                                                                 "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args(argv)
    size = args.size

    with tempfile.TemporaryDirectory(prefix="bench-subscribers-") as folder, \
            throwaway_database(args.database, args.postgres_url, Path(folder)) as url:
        app = build_app(url, Path(folder))
        migrate(app)
        secret, floor_list, real_list = setup(app)
        floor_seconds = bare_insert(app, floor_list, size)
        client = sign_in(app, secret)
        import_seconds = import_through_pages(client, real_list, size)
        floor_rate, import_rate = size / floor_seconds, size / import_seconds
        print(f"# {size:,} subscribers on {args.database}")
        line("subscriber_import_floor", floor_rate, "rows/s", 1.0)
        line("subscriber_import", import_rate, "rows/s", import_rate / floor_rate)

        urls = {
            "members_page": f"/staff/mailing-lists/{real_list}/members",
            "members_page_subscribed": f"/staff/mailing-lists/{real_list}/members?status=subscribed",
            "members_page_deep": f"/staff/mailing-lists/{real_list}/members?before={deep_cursor(app, real_list, size)}",
        }
        times: dict[str, list[float]] = {"floor": [], **{name: [] for name in urls}}
        for _ in range(2):
            timed(client, "/staff/")
            for page_url in urls.values():
                timed(client, page_url)
        for _ in range(args.requests):
            for name, page_url in urls.items():
                times["floor"].append(timed(client, "/staff/"))
                times[name].append(timed(client, page_url))
        floor = statistics.median(times["floor"])
        line("members_floor_median", floor, "ms", 1.0)
        for name in urls:
            median = statistics.median(times[name])
            line(f"{name}_median", median, "ms", median / floor)
            line(f"{name}_p95", percentile(times[name], 0.95), "ms", percentile(times[name], 0.95) / floor)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
