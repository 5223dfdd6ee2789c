"""P1, P2 and P3 of ../shared/docs/QUALITY.md: the staff inbox and search at size.

    .venv/bin/python bench/inbox.py SIZE [SIZE ...] [--database sqlite|postgres] [--requests 30]

For each SIZE, a throwaway database (a SQLite file, or a PostgreSQL database
``bench_inbox`` that is dropped at the end; never the test suite's ``test``)
is built by the migrations and filled by bulk insert with SIZE inquiries
(contacts, one or two messages each, tags, due times, search documents). Then,
in one process, through the app's own WSGI stack (Flask test client, signed in
as an officer with password and TOTP), each page is requested ``--requests``
times after two unmeasured warm-ups, and its median and 95th percentile
server time are printed against the floor: a trivial signed-in page of the
same app (``/staff/``), measured in the same run, interleaved with the others
so that a change in the machine's load falls on both.

Pages: the first page of each queue, a filtered page (four filters), a deep
keyset page (the page that starts half-way through the whole list), and
searches for a word, a phrase, a reference number and an email address.
With several sizes, P3 lines give each page's median at the largest size
divided by its median at the smallest.

``--restricted 10`` restricts that percentage of the inquiries (need-to-know, issue 12): the
officer holds or is named on about half of them and sees only the metadata of the others, so
lists mask rows and a search must skip matches it may not read.

Each figure is printed twice: the wall time (``_median``, ``_p95``) and the CPU time of this
process per request (``_cpu_median``: ``time.process_time`` around the request; the app is
served in-process, so that is the serving process's CPU), each with its ratio to the floor's.
On a shared machine the wall time grows with the load and the CPU time much less: judge by
the CPU ratios. The load (``os.getloadavg``) is printed before and after each size.

``inbox_new_cold`` is the first page of "New" with the queue counts' cache dropped before each
request (``queues.forget_counts``): with counts read from the tally table (issue 19) there is no
cache left to drop, and the figure shows that a first visitor pays what every visitor pays.

``--keep DIR`` keeps the seeded databases (``DIR/inbox-SIZE.sqlite3``, or PostgreSQL
``bench_inbox_SIZE``) and reuses them on the next run with the same size: seeding 100,000 takes
minutes. ``--only NAME[,NAME]`` measures only those pages. ``--profile N`` prints a cProfile of N
requests of the first page (of ``--only``'s, if given) instead of the figures; ``--renders N`` only
requests that page N times (for ``valgrind --tool=callgrind`` or ``perf stat``: run with N and with 0, subtract).

Output: ``name: value unit (ratio x floor)``; lines starting with ``#`` are context.
"""

from __future__ import annotations

import argparse
import contextlib
import os
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

WORDS = (
    "sponsorship", "application", "family", "travel", "documents", "arrival", "housing", "referral",
    "eligibility", "medical", "interview", "visa", "status", "permanent", "residence", "settlement",
    "community", "funding", "partner", "orientation", "language", "school", "employment", "airport", "hotel",
    "transfer", "report", "delay", "question",
)
FRENCH = (
    "parrainage", "demande", "famille", "voyage", "documents", "arrivée", "logement", "recommandation",
    "admissibilité", "médical", "entrevue", "statut", "résidence", "établissement", "communauté",
    "financement", "partenaire", "réunion", "école", "emploi", "aéroport", "hôtel", "transfert", "rapport",
    "retard", "question",
)
STATUSES = ["new"] * 2 + ["open"] * 3 + ["waiting"] * 2 + ["resolved"] * 2 + ["closed"] * 6
PRIORITIES = ["low", "normal", "normal", "normal", "high", "urgent"]
BENCH_PASSWORD = "bench-password-" + "x" * 8  # a throwaway account in a throwaway database
PRIORITY_RANK = {"low": 1, "normal": 2, "high": 3, "urgent": 4}


def line(name: str, value: float | str, unit: str = "", ratio: float | None = None) -> None:
    shown = f"{value:.2f}" if isinstance(value, float) else str(value)
    suffix = f" ({ratio:.2f} x floor)" if ratio is not None else ""
    print(f"{name}: {shown} {unit}{suffix}".rstrip(), flush=True)


@contextlib.contextmanager
def throwaway_database(kind: str, postgres_url: str, workdir: Path, size: int,
                       keep: Path | None = None) -> Iterator[tuple[str, bool]]:
    """The database URL, and whether it already holds a seeded database of this size (``keep``)."""
    if kind == "sqlite":
        path = (keep or workdir) / f"inbox-{size}.sqlite3"
        seeded = keep is not None and (keep / f"inbox-{size}.seeded").exists()
        if keep is not None and not seeded:
            path.unlink(missing_ok=True)
        yield f"sqlite:///{path}", seeded
        return
    from sqlalchemy import create_engine, text

    name = f"bench_inbox_{size}" if keep is not None else "bench_inbox"
    seeded = keep is not None and (keep / f"{name}.seeded").exists()
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    if not seeded:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield postgres_url.rsplit("/", 1)[0] + f"/{name}", seeded
    finally:
        if keep is None:
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def seeded_marker(kind: str, size: int, keep: Path) -> Path:
    return keep / (f"inbox-{size}.seeded" if kind == "sqlite" else f"bench_inbox_{size}.seeded")


def build_app(database_url: str, workdir: Path):
    os.environ.update({"DATABASE_URL": database_url, "SECRET_KEY": "bench-secret", "INSTANCE_PATH": str(workdir),
                       "MAIL_BACKEND": "memory", "RATELIMIT_ENABLED": "0", "LOG_LEVEL": "WARNING",
                       "BASE_URL": "http://127.0.0.1"})
    from config import ProductionConfig
    from inquiry_desk import create_app

    config = ProductionConfig()
    config.MAIL_BACKEND = "memory"
    config.SESSION_COOKIE_SECURE = False
    config.WTF_CSRF_ENABLED = False  # the bench only signs in by POST; every measured page is a GET
    return create_app(config)


def migrate(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=str(PROJECT_DIR / "migrations"))


def fold(text: str) -> str:
    from inquiry_desk.inquiries.search import fold as search_fold

    return search_fold(text)


def seed(app, size: int, rng: random.Random, restricted_percent: int = 0) -> dict[str, object]:
    """Bulk insert: Core executemany in batches (COPY-like speed without ORM objects)."""
    from sqlalchemy import insert, select, text

    from inquiry_desk.accounts import second_factor
    from inquiry_desk.accounts import services as accounts
    from inquiry_desk.core.extensions import db
    from inquiry_desk.directory.models import Contact
    from inquiry_desk.inquiries.models import Inquiry, Message, NamedStaff, Tag, Topic, inquiry_tags

    now = datetime.now(UTC)
    with app.app_context():
        officer = accounts.create_user(name="Bench Officer", email="bench@example.org", role="officer",
                                       password=BENCH_PASSWORD, actor=None, now=now)
        officer.totp_secret = second_factor.new_totp_secret()
        staff = [officer] + [accounts.create_user(name=f"Officer {n}", email=f"officer{n}@example.org",
                                                  role="officer", password=BENCH_PASSWORD, actor=None,
                                                  now=now) for n in range(4)]
        db.session.commit()
        staff_ids = [user.id for user in staff]
        topics = [row for row in db.session.execute(select(Topic.id, Topic.code))]
        tags = []
        for name in ("media", "urgent-travel", "follow-up", "ukraine", "sudan"):
            tag = Tag(name=name)
            db.session.add(tag)
            tags.append(tag)
        db.session.commit()
        tag_ids = [tag.id for tag in tags]
        secret = officer.totp_secret

        contacts = max(size // 3, 1)
        batch = 5000
        started = time.perf_counter()
        for start in range(0, contacts, batch):
            db.session.execute(insert(Contact), [
                {"id": n + 1, "email": f"person{n}@example{n % 97}.org", "name": f"Person {n}",
                 "language": "fr" if n % 3 == 0 else "en", "created_at": now}
                for n in range(start, min(start + batch, contacts))])
        db.session.commit()
        dialect = db.session.get_bind().dialect.name
        sample = {}
        every = round(100 / restricted_percent) if restricted_percent else 0
        for start in range(0, size, batch):
            inquiries, messages, tagged, documents, named = [], [], [], [], []
            for n in range(start, min(start + batch, size)):
                inquiry_id = n + 1
                received = now - timedelta(minutes=(size - n) * 3)
                status = rng.choice(STATUSES)
                priority = rng.choice(PRIORITIES)
                language = "fr" if n % 3 == 0 else "en"
                vocabulary = FRENCH if language == "fr" else WORDS
                subject = " ".join(rng.sample(vocabulary, 4)).capitalize()
                body = " ".join(rng.choices(vocabulary, k=40))
                contact_id = n % contacts + 1
                active = status in ("new", "open")
                reference = f"INQ-{received.year}-{inquiry_id:06d}"
                inquiries.append({
                    "id": inquiry_id, "reference": reference, "subject": subject,
                    "topic_id": topics[n % len(topics)][0], "status": status, "priority": priority,
                    "priority_rank": PRIORITY_RANK[priority], "language": language,
                    "channel": "web" if n % 4 else "email", "contact_id": contact_id,
                    "organisation_name": f"Organisation {n % 400}", "organisation_kind": "ngo",
                    "trusted_partner": False,
                    "assignee_id": None if status == "new" or n % 5 == 0 else staff_ids[n % len(staff_ids)],
                    "received_at": received, "updated_at": received + timedelta(hours=1),
                    "due_at": received + timedelta(days=2) if active else None,
                    "first_response_due_at": received + timedelta(days=2),
                    "resolution_due_at": received + timedelta(days=10), "targets_version": 1,
                    "target_notices": "", "version": 1, "restricted": bool(every) and n % every == 3,
                })
                if every and n % every == 3 and n % (2 * every) == 3:  # the officer is named on half of them
                    named.append({"inquiry_id": inquiry_id, "user_id": staff_ids[0], "added_at": now})
                messages.append({"inquiry_id": inquiry_id, "kind": "inbound", "body": body, "channel": "web",
                                 "author_contact_id": contact_id, "created_at": received})
                if status != "new":
                    messages.append({"inquiry_id": inquiry_id, "kind": "reply", "body": "Thank you; noted.",
                                     "channel": "email", "author_user_id": staff_ids[0],
                                     "created_at": received + timedelta(hours=1)})
                if n % 10 == 0:
                    tagged.append({"inquiry_id": inquiry_id, "tag_id": tag_ids[n % len(tag_ids)]})
                document = fold(" ".join([reference, subject, body, f"Person {contact_id - 1}",
                                          f"person{contact_id - 1}@example{(contact_id - 1) % 97}.org",
                                          f"Organisation {n % 400}"]))
                documents.append({"id": inquiry_id, "document": document})
                if n == size // 2:
                    email = f"person{contact_id - 1}@example{(contact_id - 1) % 97}.org"
                    sample = {"reference": reference, "email": email, "word": vocabulary[3],
                              "phrase": " ".join(body.split()[:2])}
            db.session.execute(insert(Inquiry), inquiries)
            db.session.execute(insert(Message), messages)
            if tagged:
                db.session.execute(insert(inquiry_tags), tagged)
            if named:
                db.session.execute(insert(NamedStaff), named)
            if dialect == "postgresql":
                db.session.execute(text("INSERT INTO fts_inquiries (inquiry_id, document) "
                                        "VALUES (:id, to_tsvector('simple', :document))"), documents)
            else:
                db.session.execute(text("INSERT INTO fts_inquiries (rowid, document) VALUES (:id, :document)"),
                                   documents)
            db.session.commit()
        if dialect == "postgresql":
            for table in ("contacts", "inquiries", "messages"):
                db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                                        f"(SELECT max(id) FROM {table}))"))
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        from inquiry_desk.inquiries import tallies

        tallies.recount()  # as the nightly job would: one tally row per cell, not one per inserted inquiry
        db.session.commit()
        print(f"# seeded {size:,} inquiries in {time.perf_counter() - started:.1f} s ({dialect})", flush=True)
        return {"secret": secret, **sample}


def sign_in(app, secret: str):
    import pyotp

    client = app.test_client()
    client.post("/auth/login", data={"email": "bench@example.org", "password": BENCH_PASSWORD})
    client.post("/auth/second-factor", data={"code": pyotp.TOTP(secret).now()})
    assert client.get("/staff/").status_code == 200, "could not sign in"
    return client


def deep_cursor(app, size: int) -> str:
    """The keyset cursor of the row half-way down the "all" list (newest first)."""
    from sqlalchemy import select

    from inquiry_desk.core.extensions import db
    from inquiry_desk.inquiries.models import Inquiry
    from inquiry_desk.inquiries.queues import encode_cursor

    with app.app_context():
        row = db.session.execute(select(Inquiry.received_at, Inquiry.id)
                                 .order_by(Inquiry.received_at.desc(), Inquiry.id.desc())
                                 .offset(size // 2).limit(1)).one()
        return encode_cursor([row.received_at, row.id])


def pages(sample: dict[str, object], cursor: str) -> dict[str, str]:
    queues = ("new", "mine", "unassigned", "due_soon", "overdue", "waiting", "resolved", "all")
    urls = {f"inbox_{queue}": f"/staff/inquiries/?queue={queue}" for queue in queues}
    urls["inbox_filtered"] = "/staff/inquiries/?queue=all&language=fr&priority=normal&status=open&channel=web"
    urls["inbox_deep_keyset"] = f"/staff/inquiries/?queue=all&cursor={cursor}"
    urls["search_word"] = f"/staff/inquiries/?queue=all&q={sample['word']}"
    urls["search_phrase"] = f"/staff/inquiries/?queue=all&q=%22{sample['phrase']}%22"
    urls["search_reference"] = f"/staff/inquiries/?queue=all&q={sample['reference']}"
    urls["search_email"] = f"/staff/inquiries/?queue=all&q={sample['email']}"
    return urls


COLD = "inbox_new_cold"  # the first page with the queue counts' cache dropped before each request


def forget_count_cache() -> None:
    from inquiry_desk.inquiries import queues

    queues.forget_counts()


def timed(client, url: str) -> tuple[float, float]:
    """Wall and CPU milliseconds of one request, served in this process."""
    cpu, start = time.process_time(), time.perf_counter()
    response = client.get(url)
    elapsed, cpu_used = (time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000
    assert response.status_code in (200, 302), f"{url} answered {response.status_code}"
    return elapsed, cpu_used


def measure(client, urls: dict[str, str], requests: int) -> dict[str, tuple[list[float], list[float]]]:
    times: dict[str, tuple[list[float], list[float]]] = {"floor": ([], []), **{name: ([], []) for name in urls}}

    def record(name: str, url: str) -> None:
        if name == COLD:
            forget_count_cache()
        wall, cpu = timed(client, url)
        times[name][0].append(wall)
        times[name][1].append(cpu)

    for _ in range(2):  # warm-up: caches, query plans, templates
        timed(client, "/staff/")
        for url in urls.values():
            timed(client, url)
    for _ in range(requests):
        record("floor", "/staff/")
        for name, url in urls.items():
            record(name, url)
            record("floor", "/staff/")  # interleaved: same load on both
    return times


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def profile(client, url: str, requests: int) -> None:
    import cProfile
    import pstats

    for _ in range(2):
        timed(client, url)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        client.get(url)
    profiler.disable()
    if os.environ.get("BENCH_PROFILE_OUT"):  # for pstats' print_callers
        profiler.dump_stats(os.environ["BENCH_PROFILE_OUT"])
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(60)
    stats.sort_stats("tottime").print_stats(40)


def prepared(app, size: int, args: argparse.Namespace, seeded: bool) -> dict[str, object]:
    """The sample words and the officer's secret: seeded now, or read back from a kept database."""
    import json

    if seeded and args.keep is not None:
        sample: dict[str, object] = json.loads(seeded_marker(args.database, size, args.keep).read_text())
        print(f"# reusing the seeded database of {size:,} inquiries ({args.database})", flush=True)
        return sample
    sample = seed(app, size, random.Random(size), args.restricted)
    if args.keep is not None:
        seeded_marker(args.database, size, args.keep).write_text(json.dumps(sample))
    return sample


def run_size(size: int, args: argparse.Namespace) -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory(prefix="bench-inbox-") as folder, \
            throwaway_database(args.database, args.postgres_url, Path(folder), size, args.keep) as (url, seeded):
        app = build_app(url, Path(folder))
        migrate(app)
        sample = prepared(app, size, args, seeded)
        client = sign_in(app, str(sample["secret"]))
        urls = pages(sample, deep_cursor(app, size))
        urls[COLD] = urls["inbox_new"]
        if args.only:
            urls = {name: url for name, url in urls.items() if name in args.only.split(",")}
        medians: dict[str, tuple[float, float]] = {}
        first = next(iter(urls.values()))  # the first page, or the first of --only
        if args.profile:
            profile(client, first, args.profile)
        elif args.renders is not None:
            for _ in range(args.renders):
                client.get(first)
        else:
            print(f"# size {size:,} on {args.database}: {args.requests} requests per page, "
                  f"{args.restricted} % restricted; {load()}", flush=True)
            medians = report(size, measure(client, urls, args.requests))
            print(f"# {load()}", flush=True)
        with app.app_context():
            from inquiry_desk.core.extensions import db

            db.session.remove()
            db.engine.dispose()
        return medians


def report(size: int, times: dict[str, tuple[list[float], list[float]]]) -> dict[str, tuple[float, float]]:
    """One line per figure: wall median, p95 and CPU median, each against the floor's."""
    floor_wall, floor_cpu = times["floor"]
    floor, floor_p95, floor_cpu_median = (statistics.median(floor_wall), percentile(floor_wall, 0.95),
                                          statistics.median(floor_cpu))
    line(f"floor_median_{size}", floor, "ms", 1.0)
    line(f"floor_cpu_median_{size}", floor_cpu_median, "ms", 1.0)
    medians = {}
    for name, (wall, cpu) in times.items():
        if name == "floor":
            continue
        median, p95, cpu_median = statistics.median(wall), percentile(wall, 0.95), statistics.median(cpu)
        medians[name] = (median, cpu_median)
        line(f"{name}_median_{size}", median, "ms", median / floor)
        line(f"{name}_p95_{size}", p95, "ms", p95 / floor_p95)
        line(f"{name}_cpu_median_{size}", cpu_median, "ms", cpu_median / floor_cpu_median)
    return medians


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="+", type=int)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--restricted", type=int, default=0, help="percentage of inquiries restricted (0-100)")
    parser.add_argument("--keep", type=Path, help="keep the seeded databases here and reuse them")
    parser.add_argument("--only", help="comma-separated page names to measure")
    parser.add_argument("--profile", type=int, help="profile this many first pages instead")
    parser.add_argument("--renders", type=int, help="only request the first page this many times")
    args = parser.parse_args(argv)
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
    results = {size: run_size(size, args) for size in args.sizes}
    if len(args.sizes) > 1 and all(results.values()):
        small, large = min(args.sizes), max(args.sizes)
        for name, (median, cpu) in results[large].items():
            line(f"{name}_growth_{small}_to_{large}", median / results[small][name][0], "x")
            line(f"{name}_cpu_growth_{small}_to_{large}", cpu / results[small][name][1], "x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
