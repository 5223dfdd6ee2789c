"""P5 and P6 of ../shared/docs/QUALITY.md: a bulk send through a local SMTP sink, against a bare smtplib loop.

    .venv/bin/python bench/send.py [N] [--database sqlite|postgres] [--memory [--memory-sizes 1000,100000]]

What runs, in order:

1. An SMTP sink in a process of its own (``bench/smtp_sink.py``, aiosmtpd) that
   accepts everything and counts each recipient.
2. A throwaway database (a SQLite file in a temporary folder, or the PostgreSQL
   database ``bench_send``, dropped at the end) built by the migrations, and a send of N
   deliveries (``mail.sending``: content once per language, two languages).
3. ``--rounds`` (3) alternating rounds, each with a send of N / rounds deliveries:
   the floor, a bare ``smtplib`` loop sending prebuilt messages of the same size as the
   engine's over one reused connection to the same sink (at most 5000), then the engine,
   a worker process (``mail.worker.Sender``, one connection, as ``flask mail worker``
   runs it) sending the round's deliveries, timed from its first claim to its last mark
   inside that process. Rates are the totals over the rounds.
4. Checks: the sink received each of the N addresses exactly once.

With ``--memory``: for each size of ``--memory-sizes`` a new send of that size is sent
by a new worker process, which reports its peak RSS; ``rss_growth`` is the difference
between the largest and the smallest size (P6: ≤ 20 MB).

Output, one line per figure, as ``bench/inbox.py``: ``send_rate: X msg/s (R x floor)``
(P5: R ≥ 0.7). Exit status 1 when a message is missing or doubled.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))


def line(name: str, value: float | str, unit: str = "", ratio: float | None = None) -> None:
    shown = f"{value:.2f}" if isinstance(value, float) else str(value)
    suffix = f" ({ratio:.2f} x floor)" if ratio is not None else ""
    print(f"{name}: {shown} {unit}{suffix}".rstrip(), flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def sink_process(workdir: Path) -> Iterator[tuple[int, Path]]:
    port, counts = free_port(), workdir / "sink.json"
    process = subprocess.Popen([sys.executable, "-m", "bench.smtp_sink", str(port), str(counts)], cwd=PROJECT_DIR,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        raise RuntimeError("the SMTP sink did not start")
    try:
        yield port, counts
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


@contextlib.contextmanager
def throwaway_database(kind: str, postgres_url: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'send.sqlite3'}"
        return
    from sqlalchemy import create_engine, text

    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS bench_send WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE bench_send"))
    try:
        yield postgres_url.rsplit("/", 1)[0] + "/bench_send"
    finally:
        with admin.connect() as connection:
            connection.execute(text("DROP DATABASE IF EXISTS bench_send WITH (FORCE)"))
        admin.dispose()


def environment(database_url: str, port: int, workdir: Path) -> dict[str, str]:
    return {"DATABASE_URL": database_url, "SECRET_KEY": "bench-secret", "INSTANCE_PATH": str(workdir),
            "MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_SECURITY": "none",
            "SMTP_TIMEOUT": "30", "LOG_LEVEL": "WARNING", "RATELIMIT_ENABLED": "0",
            "MAIL_FROM": "Bulletins <bulletins@example.org>", "BASE_URL": "http://127.0.0.1"}


def build_app(env: dict[str, str]):  # type: ignore[no-untyped-def]
    os.environ.update(env)
    from config import ProductionConfig
    from inquiry_desk import create_app

    return create_app(ProductionConfig())


def content():  # type: ignore[no-untyped-def]
    from inquiry_desk.mail.rendering import RenderedEmail

    paragraph = "Des nouvelles du programme, des dates et des liens utiles pour la saison qui vient. " * 12
    return {
        "en": RenderedEmail("Bulletin: the spring update",
                            "Hello,\n\n" + paragraph + "\n\nUnsubscribe: %%UNSUBSCRIBE_URL%%\n",
                            "<p>" + paragraph + "</p><p><a href=\"%%UNSUBSCRIBE_URL%%\">Unsubscribe</a></p>"),
        "fr": RenderedEmail("Bulletin : les nouvelles du printemps", "Bonjour,\n\n" + paragraph
                            + "\n\nDésabonnement : %%UNSUBSCRIBE_URL%%\n",
                            "<p>" + paragraph + "</p><p><a href=\"%%UNSUBSCRIBE_URL%%\">Désabonnement</a></p>"),
    }


def register_links() -> None:
    from inquiry_desk.mail import composer

    composer.register_link_maker("bench", lambda r: {"unsubscribe_url": f"https://desk.example/u/{r.delivery_id}"})


def prepare(app, key: str, size: int) -> bytes:  # type: ignore[no-untyped-def]
    """A running send of ``size`` deliveries; returns one of its messages, as the engine builds it."""
    from inquiry_desk.core.clock import utcnow
    from inquiry_desk.core.extensions import db
    from inquiry_desk.mail import composer, sending

    now = utcnow()
    with app.app_context():
        send = sending.create_send(key, content(), now=now)
        recipients = (sending.Recipient(f"{key.replace(':', '-')}-{n}@example.net", "fr" if n % 2 else "en")
                      for n in range(size))
        sending.add_recipients(send, recipients, now=now)
        sending.start_send(send, now=now)
        db.session.commit()
        register_links()
        sample = composer.Composer(send_id=send.id, from_address=send.from_address, reply_to=send.reply_to,
                                   content=send.content["fr"], language="fr", date=now, extra_headers={})
        recipient = composer.BulkRecipient(1, send.id, key, f"{key}-1@example.net", "fr", None)
        return sample.build(recipient, composer.links_for(recipient))


def floor(port: int, sample: bytes, count: int, run: int) -> float:
    """Messages per second of a bare smtplib loop over one connection, prebuilt messages of the same size."""
    messages = [(f"floor{run}-{n}@example.net", sample) for n in range(count)]
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as connection:
        began, cpu = time.perf_counter(), time.process_time()
        for address, data in messages:
            connection.sendmail("bulletins@example.org", [address], data)
        FLOOR_CPU.append((time.process_time() - cpu) / count)
        return count / (time.perf_counter() - began)


FLOOR_CPU: list[float] = []  # CPU seconds per message of the floor's loop, per round


def run_worker_child(env: dict[str, str]) -> dict[str, float]:
    result = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child"], cwd=PROJECT_DIR,
                            env={**os.environ, **env}, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"the worker failed:\n{result.stderr[-3000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def child() -> int:
    """The worker process: send everything that is due, then report time, count and peak RSS."""
    from inquiry_desk.mail.worker import Sender, Settings

    app = build_app({})
    register_links()
    sender = Sender(app, Settings.from_config(app.config))
    sent = 0
    with app.app_context():
        began, cpu = time.perf_counter(), _process_cpu()
        while True:
            result = sender.run_once()
            sent += result.sent
            if not result.worked:
                break
        seconds, cpu = time.perf_counter() - began, _process_cpu() - cpu
        sender.close()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"sent": sent, "seconds": seconds, "cpu": cpu, "rss_mb": peak_kb / 1024}))
    return 0


def _process_cpu() -> float:
    """CPU seconds of this process, every thread (the worker's marker thread included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def check(counts: dict[str, int], prefix: str, size: int) -> list[str]:
    mine = {address: n for address, n in counts.items() if address.startswith(prefix)}
    problems = []
    missing = size - len(mine)
    doubled = sum(1 for n in mine.values() if n > 1)
    if missing:
        problems.append(f"{missing} of {size} addresses never received the message")
    if doubled:
        problems.append(f"{doubled} addresses received it more than once")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("size", nargs="?", type=int, default=2000, help="deliveries in the measured send")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--rounds", type=int, default=3, help="alternating floor and engine rounds")
    parser.add_argument("--memory", action="store_true", help="also measure the worker's peak RSS (P6)")
    parser.add_argument("--memory-sizes", default="1000,100000")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child()

    from flask_migrate import upgrade

    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-send-") as folder:
        workdir = Path(folder)
        with sink_process(workdir) as (port, counts_file), \
                throwaway_database(args.database, args.postgres_url, workdir) as database_url:
            env = environment(database_url, port, workdir)
            app = build_app(env)
            with app.app_context():
                upgrade(directory=str(PROJECT_DIR / "migrations"))
            print(f"# P5 send: {args.size} deliveries, {args.database}; one worker process, one SMTP connection; "
                  f"sink: aiosmtpd in its own process; these 2-core machines are shared, figures are noisy",
                  flush=True)
            # Alternating rounds (floor, engine, floor, engine…) so that a change in the machine's other
            # load falls on both sides; the figures are the totals of all rounds.
            share = -(-args.size // args.rounds)
            floor_count = min(share, 5000)
            floor_sent = floor_seconds = engine_sent = engine_seconds = engine_cpu = 0.0
            for number in range(args.rounds):
                sample = prepare(app, f"bench:rate{number}", share)
                floor_rate = floor(port, sample, floor_count, number)
                engine = run_worker_child(env)
                floor_sent, floor_seconds = floor_sent + floor_count, floor_seconds + floor_count / floor_rate
                engine_sent, engine_seconds = engine_sent + engine["sent"], engine_seconds + engine["seconds"]
                engine_cpu += engine.get("cpu", 0.0)
                round_rate = engine["sent"] / engine["seconds"]
                line(f"# round_{number + 1}", f"floor {floor_rate:.0f} msg/s, engine {round_rate:.0f} msg/s "
                     f"({round_rate / floor_rate:.2f} x floor)")
            floor_rate = floor_sent / floor_seconds
            rate = engine_sent / engine_seconds
            line("# message_size", str(len(sample)), "bytes")
            line("# floor_rate", floor_rate, "msg/s")
            # CPU per message, the least noisy figure on a shared machine (the sink's CPU not counted).
            line("# floor_cpu_per_message", 1000 * sum(FLOOR_CPU) / len(FLOOR_CPU), "ms")
            line("# engine_cpu_per_message", 1000 * engine_cpu / max(engine_sent, 1), "ms")
            line("send_rate", rate, "msg/s", rate / floor_rate)
            sizes = [int(value) for value in args.memory_sizes.split(",")] if args.memory else []
            rss: dict[int, float] = {}
            for size in sizes:
                prepare(app, f"bench:memory{size}", size)
                result = run_worker_child(env)
                rss[size] = result["rss_mb"]
                line(f"rss_at_{size}", result["rss_mb"], "MB")
            if len(rss) > 1:
                line("rss_growth", rss[max(rss)] - rss[min(rss)], "MB")
            with app.app_context():
                from inquiry_desk.core.extensions import db

                db.engine.dispose()
        counts = json.loads(counts_file.read_text())["counts"]
        for number in range(args.rounds):
            problems += check(counts, f"bench-rate{number}-", share) + check(counts, f"floor{number}-", floor_count)
        for size in sizes:
            problems += check(counts, f"bench-memory{size}-", size)
    for problem in problems:
        print(f"# ERROR: {problem}", flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
