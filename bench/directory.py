"""Issue 13: the organisation directory at size, and the CSV import of contacts.

    .venv/bin/python bench/directory.py N [--database sqlite|postgres] [--requests 30]

A throwaway database (a SQLite file, or a PostgreSQL database ``bench_directory`` that is
dropped at the end) is built by the migrations and filled by bulk insert with N
organisations (every kind and status, tags on one in five), 10 x N contacts spread over
them, one organisation with 1,000 inquiries (open and past, each with an inbound message
and most with a reply), and N more inquiries spread over the others. The issue asks for
N = 10,000 (so 100,000 contacts).

Pages, through the app's own WSGI stack (Flask test client, signed in as an officer), each
requested ``--requests`` times after two warm-ups, interleaved with the floor (the trivial
signed-in page ``/staff/``): the organisation list's first page, the list filtered (kind and
status, a tag, "has open inquiries"), a keyset page half-way down, and the page of the
organisation with 1,000 inquiries. Goal: medians <= 3 x floor.

Import: N new contacts as a CSV file, checked (every row: syntax, duplicates in the file
and against the 10 x N already there) and imported in one transaction by
``directory.imports``, against a bare bulk insert of the same rows (Core executemany in
batches of 1,000, one commit) into the same table; each run three times, alternating, the
rows deleted between runs. ``contact_import`` is the import's rows per second and its ratio
to the bare insert's. Goal: >= 0.3 x.

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

from bench.inbox import BENCH_PASSWORD, build_app, line, measure, migrate, percentile, sign_in  # noqa: E402

KINDS = ("ngo", "referral_partner", "advocacy_group", "settlement_partner", "private_sponsor", "province_territory",
         "federal_partner", "international", "other")
STATUSES = ("prospective", "active", "active", "active", "trusted_referral_partner", "inactive")
TAGS = ("health", "kabul", "housing", "legal", "urgent", "education")
BIG_INQUIRIES = 1_000
BATCH = 5_000


@contextlib.contextmanager
def throwaway_database(kind: str, postgres_url: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'directory.sqlite3'}"
        return
    from sqlalchemy import create_engine, text

    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS bench_directory WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE bench_directory"))
    try:
        yield postgres_url.rsplit("/", 1)[0] + "/bench_directory"
    finally:
        with admin.connect() as connection:
            connection.execute(text("DROP DATABASE IF EXISTS bench_directory WITH (FORCE)"))
        admin.dispose()


def seed(app, size: int, rng: random.Random) -> dict[str, object]:
    from sqlalchemy import insert, select, text

    from inquiry_desk.accounts import second_factor
    from inquiry_desk.accounts import services as accounts
    from inquiry_desk.core.extensions import db
    from inquiry_desk.directory.models import Contact, Organisation, OrganisationTag
    from inquiry_desk.inquiries.models import Inquiry, Message, Topic

    now = datetime.now(UTC)
    started = time.perf_counter()
    with app.app_context():
        officer = accounts.create_user(name="Bench Officer", email="bench@example.org", role="officer",
                                       password=BENCH_PASSWORD, actor=None, now=now)
        officer.totp_secret = second_factor.new_totp_secret()
        db.session.commit()
        secret, officer_id = officer.totp_secret, officer.id
        topic_id = db.session.scalar(select(Topic.id).limit(1))
        organisations, tags = [], []
        for n in range(size):
            organisations.append({
                "id": n + 1, "name": f"{rng.choice(('Alliance', 'Centre', 'Society', 'Network', 'Fund'))} {n:06d}",
                "name_fr": f"Organisme {n:06d}" if n % 2 else None, "short_name": f"O{n}" if n % 3 else None,
                "kind": KINDS[n % len(KINDS)], "status": STATUSES[n % len(STATUSES)], "status_changed_at": now,
                "active": n % 50 != 0, "country": "Canada", "created_at": now, "updated_at": now})
            if n % 5 == 0:
                tags.append({"organisation_id": n + 1, "tag": TAGS[n % len(TAGS)]})
        for start in range(0, size, BATCH):
            db.session.execute(insert(Organisation), organisations[start:start + BATCH])
        db.session.execute(insert(OrganisationTag), tags)
        big_id = size // 2 + 1
        contacts = size * 10
        for start in range(0, contacts, BATCH):
            db.session.execute(insert(Contact), [
                {"id": n + 1, "email": f"person{n}@org{n % size}.example.org", "name": f"Person {n}",
                 "language": "fr" if n % 3 == 0 else "en", "organisation_id": n % size + 1, "active": True,
                 "created_at": now} for n in range(start, min(start + BATCH, contacts))])
        db.session.commit()
        inquiries, messages = [], []
        total = BIG_INQUIRIES + size
        for n in range(total):
            organisation_id = big_id if n < BIG_INQUIRIES else rng.randrange(1, size + 1)
            contact_id = (organisation_id - 1) + size * rng.randrange(10) + 1
            received = now - timedelta(minutes=(total - n) * 7)
            status = rng.choice(("new", "open", "waiting", "resolved", "closed", "closed", "closed"))
            answered = status != "new"
            inquiries.append({
                "id": n + 1, "reference": f"INQ-{received.year}-{n + 1:06d}", "subject": f"Question {n}",
                "topic_id": topic_id, "status": status, "priority": "normal", "priority_rank": 2,
                "language": "en", "channel": "web", "contact_id": contact_id, "organisation_id": organisation_id,
                "trusted_partner": False, "received_at": received, "updated_at": received,
                "first_response_at": received + timedelta(hours=rng.randrange(1, 72)) if answered else None,
                "resolved_at": received + timedelta(days=rng.randrange(1, 20))
                if status in ("resolved", "closed") else None,
                "targets_version": 1, "target_notices": "", "version": 1})
            messages.append({"inquiry_id": n + 1, "kind": "inbound", "body": "A question.", "channel": "web",
                             "author_contact_id": contact_id, "created_at": received})
            if answered:
                messages.append({"inquiry_id": n + 1, "kind": "reply", "body": "An answer.", "channel": "email",
                                 "author_user_id": officer_id, "created_at": received + timedelta(hours=2)})
        for start in range(0, total, BATCH):
            db.session.execute(insert(Inquiry), inquiries[start:start + BATCH])
        for start in range(0, len(messages), BATCH):
            db.session.execute(insert(Message), messages[start:start + BATCH])
        db.session.commit()
        dialect = db.session.get_bind().dialect.name
        if dialect == "postgresql":
            for table in ("organisations", "contacts", "inquiries", "messages"):
                db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                                        f"(SELECT max(id) FROM {table}))"))
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        middle = db.session.execute(select(Organisation.name, Organisation.id).where(Organisation.active.is_(True))
                                    .order_by(Organisation.name, Organisation.id).offset(size // 2).limit(1)).one()
    print(f"# seeded {size:,} organisations, {contacts:,} contacts, {total:,} inquiries in "
          f"{time.perf_counter() - started:.1f} s ({dialect})", flush=True)
    return {"secret": secret, "big_id": big_id, "middle": (middle.name, middle.id)}


def pages(sample: dict[str, object]) -> dict[str, str]:
    from inquiry_desk.inquiries.stakeholders.listing import encode_cursor

    cursor = encode_cursor(sample["middle"])  # type: ignore[arg-type]
    return {
        "organisation_list": "/staff/directory/",
        "organisation_list_kind_status": "/staff/directory/?kind=ngo&status=active",
        "organisation_list_tag": "/staff/directory/?tag=health",
        "organisation_list_open_inquiries": "/staff/directory/?open_inquiries=yes",
        "organisation_list_search": "/staff/directory/?q=centre+0001",
        "organisation_list_deep_keyset": f"/staff/directory/?cursor={cursor}",
        "organisation_page": f"/staff/directory/organisations/{sample['big_id']}",
    }


def contact_rows(size: int, run: str) -> list[dict[str, object]]:
    return [{"email": f"newcomer{n}@{run}.import.example.ca", "name": f"Hélène Côté {n}", "phone": "+1 613 555 0100",
             "title": "Coordonnatrice", "language": "fr", "notes": 'Notes, "quoted"'} for n in range(size)]


def contact_csv(rows: list[dict[str, object]]) -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["email", "name", "phone", "title", "language", "notes"],
                            lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return "\ufeff" + buffer.getvalue()


def time_import(app, size: int) -> tuple[float, float]:
    """(import seconds, bare insert seconds), each the median of three alternating runs.

    Each run inserts new addresses (a domain per run), so no row is deleted between runs: deleting
    contacts costs a foreign-key check per row in every table that points to them.
    """
    from sqlalchemy import insert

    from inquiry_desk.core.clock import utcnow
    from inquiry_desk.core.extensions import db
    from inquiry_desk.directory import imports
    from inquiry_desk.directory.models import Contact

    imported, bare = [], []
    with app.app_context():
        for run in range(3):
            text = contact_csv(contact_rows(size, f"import{run}"))
            start = time.perf_counter()
            plan = imports.check(text, "contacts")
            assert plan.ok and len(plan.creates) == size, plan.errors[:3]
            imports.apply(plan, actor=None, now=utcnow())
            db.session.commit()
            imported.append(time.perf_counter() - start)

            rows = contact_rows(size, f"bare{run}")
            start = time.perf_counter()
            now = utcnow()
            for first in range(0, size, 1_000):
                db.session.execute(insert(Contact), [{**row, "active": True, "created_at": now, "updated_at": now}
                                                     for row in rows[first:first + 1_000]])
            db.session.commit()
            bare.append(time.perf_counter() - start)
        assert imports.count_contacts() == size * 10 + size * 6
    return statistics.median(imported), statistics.median(bare)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("size", type=int, help="organisations (contacts: 10 x; the import: this many)")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args(argv)
    size = args.size
    with tempfile.TemporaryDirectory(prefix="bench-directory-") as folder, \
            throwaway_database(args.database, args.postgres_url, Path(folder)) as url:
        app = build_app(url, Path(folder))
        migrate(app)
        sample = seed(app, size, random.Random(size))
        client = sign_in(app, str(sample["secret"]))
        times = measure(client, pages(sample), args.requests)
        floor, floor_p95 = statistics.median(times["floor"]), percentile(times["floor"], 0.95)
        print(f"# N = {size:,} on {args.database}: {args.requests} requests per page")
        line("floor_median", floor, "ms", 1.0)
        for name, values in times.items():
            if name == "floor":
                continue
            median, p95 = statistics.median(values), percentile(values, 0.95)
            line(f"{name}_median", median, "ms", median / floor)
            line(f"{name}_p95", p95, "ms", p95 / floor_p95)
        imported, bare = time_import(app, size)
        print(f"# import of {size:,} contacts: {imported:.2f} s; bare bulk insert: {bare:.2f} s")
        line("contact_import", size / imported, "rows/s", (size / imported) / (size / bare))
        with app.app_context():
            from inquiry_desk.core.extensions import db

            db.session.remove()
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
