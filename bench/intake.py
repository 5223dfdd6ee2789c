"""P4 of ../shared/docs/QUALITY.md: public inquiry submissions under concurrent load.

    .venv/bin/python bench/intake.py [--seconds 20] [--clients 20] [--database sqlite|postgres]

Bar: accepted submissions per second through gunicorn (2 workers) are at least
50% of a floor measured by this script, in the same run, on the same machine:
a trivial view that inserts one row, served by the same app factory, the same
configuration, the same database and the same gunicorn settings
(``bench/floor_app.py``).

What runs, in order:

1. A throwaway database: a SQLite file in a temporary folder, or a PostgreSQL
   database ``bench_intake`` created on the server named by ``--postgres-url``
   and dropped at the end (the test suite's ``test`` database is never used).
   The schema is built by the migrations (``flask db upgrade``).
2. Two servers with the same environment, each on a free port:
   ``gunicorn -w 2 'bench.floor_app:create_floor_app()'`` (the floor) and
   ``gunicorn -w 2 wsgi:app`` (the app).
3. The same load on each in turn, never both at once: ``--clients`` client
   threads for ``--warmup`` unmeasured seconds, then ``--seconds / --rounds``
   measured seconds, on the floor, then on the app, ``--rounds`` times (2 by
   default). Alternating short rounds, rather than one long run each, keeps a
   drift in the machine's other load (these machines are shared) from falling
   on one side only; each round's ratio is printed as context. Then both
   servers are stopped.
4. Checks in the database: the floor table holds one row per accepted insert;
   the inquiries table holds exactly the accepted submissions, every reference
   number is distinct, and the references the visitors were given (read from
   their signed session cookies) are exactly those stored; one confirmation
   email was queued per inquiry.

Like with like. A visitor's submission is two requests: GET the form (which
sets the session cookie, the CSRF token and the signed ``started`` time), then
POST it (accepted = 302 to the thanks page; the redirect is not followed). So
each floor client also does two requests per cycle: GET a trivial page of the
floor app, then POST the insert (302 back to the page). Only POSTs that
complete inside the measured window count in the rates; the GETs are load
that both sides pay. Each cycle is a new visitor (empty cookie jar); even
clients use the English form, odd clients the French one; every submission
has its own email address (``--emails N`` makes them share N addresses, as
returning senders do).

Mail, as in production: MAIL_BACKEND=smtp to an SMTP sink of the bench's own
(``bench/smtp_sink.py``, aiosmtpd in a process of its own, accepting everything)
and one ``flask mail worker`` process; the web processes only commit the outbox
row and wake the worker (NOTIFY on PostgreSQL; it polls every 0.25 s on
SQLite). After the load, the bench waits for the worker to send every
confirmation and prints the time from each submission's commit (its
confirmation's queue time, in the same transaction) to the sink's acceptance
(``confirmation_latency_p50``/``p95``, P8: p95 ≤ 2 s), when every submission has
its own address.

Environment of both servers: APP_ENV=production with a random SECRET_KEY and
the bench DATABASE_URL; the mail settings above;
RATELIMIT_ENABLED=0, because the public form is limited to a few posts per
minute per address and every client here comes from 127.0.0.1;
INTAKE_MIN_FILL_SECONDS=0, so the signed ``started`` token from the GET is
accepted at once (it is still checked, and the honeypot is sent empty);
SESSION_COOKIE_SECURE=0, since the bench speaks plain HTTP. gunicorn's default
sync workers close the connection after each response, so there is no
keep-alive; the clients reconnect for every request (http.client does so by
itself).

Output: one line per figure, ``name: value unit (ratio x floor)``; lines that
start with ``#`` are context. The CPU lines (Linux only) say how busy the
gunicorn processes (master and workers; not PostgreSQL), the client threads and
the whole machine were during the measured seconds: a machine near 100% per
core while gunicorn is well below it means other work shared the cores, and the
figures are noisier.

Exit status: 0 when all checks pass and the bar is met; 1 on any 5xx,
unexpected answer, request without an answer, lost or duplicated submission;
2 when the checks pass but the submission rate is below the bar; 130 when
interrupted (servers stopped, bench database dropped, temporary folder removed).
"""

from __future__ import annotations

import argparse
import contextlib
import html
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from flask import Flask  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

from bench.floor_app import FLOOR_PATH, floor_rows  # noqa: E402
from config import ProductionConfig  # noqa: E402
from inquiry_desk.intake.links import FORM_PATHS, THANKS_PATHS  # noqa: E402

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "bench_intake"
BAR = 0.50  # QUALITY.md P4: accepted submissions per second >= 50% of the floor
REQUEST_TIMEOUT = 30.0
SERVER_START_TIMEOUT = 60.0
INPUT_RE = re.compile(r"<input\b[^>]*>", re.IGNORECASE)
ATTR_RE = re.compile(r'([a-zA-Z_:-]+)="([^"]*)"')


class BenchError(RuntimeError):
    """The benchmark could not run (as opposed to the app failing a check)."""


# --------------------------------------------------------------------------- servers and database


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def first_error(self, lines: int = 90) -> str:
        """The log from its first error on (a traceback, usually), else its last lines."""
        try:
            log = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        for number, log_line in enumerate(log):
            if "ERROR" in log_line or "Traceback" in log_line:
                excerpt = [log_line]
                for following in log[number + 1:number + lines]:
                    if following.startswith(("INFO:", "WARNING:", "[")):  # the next log record
                        break
                    excerpt.append(following)
                return "\n".join(excerpt)
        return "\n".join(log[-lines:])

    def stop(self) -> None:
        """SIGTERM to the gunicorn master we started, then SIGKILL to its process group if anything is left."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        # The master runs in its own session (start_new_session), so its group id is its pid: workers only.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)

    def cpu_seconds(self) -> float | None:
        """CPU time used so far by the master and its workers (Linux /proc), or None where unknown."""
        try:
            ticks = os.sysconf("SC_CLK_TCK")
            pids = [self.process.pid, *(int(pid) for pid in Path(
                f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split())]
            total = 0
            for pid in pids:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
            return total / ticks
        except (OSError, ValueError, IndexError):
            return None


def control_socket_off() -> list[str]:
    """Recent gunicorn opens a control socket in ~/.gunicorn by default: one per user, shared by our two servers."""
    from gunicorn.config import KNOWN_SETTINGS

    return ["--no-control-socket"] if any("--no-control-socket" in (s.cli or []) for s in KNOWN_SETTINGS) else []


def start_gunicorn(name: str, app_spec: str, env: dict[str, str], workdir: Path, workers: int) -> Server:
    port = free_port()
    log_path = workdir / f"gunicorn-{name}.log"
    command = [
        sys.executable, "-m", "gunicorn",
        "--workers", str(workers),
        "--bind", f"127.0.0.1:{port}",
        "--timeout", "60",
        "--graceful-timeout", "10",
        "--error-logfile", "-",
        *control_socket_off(),
        app_spec,
    ]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    server = Server(name, process, port, log_path)
    try:
        wait_until_ready(server, workers)
    except BaseException:
        server.stop()
        raise
    return server


def wait_until_ready(server: Server, workers: int) -> None:
    """Both workers booted and /healthz answers 200."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchError(f"gunicorn ({server.name}) exited with {server.process.returncode}:\n{server.log_tail()}")
        booted = server.log_tail(1000).count("Booting worker with pid")
        if booted >= workers:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
                connection.request("GET", "/healthz")
                status = connection.getresponse().status
                connection.close()
            except OSError:
                status = 0
            if status == 200:
                return
        time.sleep(0.1)
    raise BenchError(f"gunicorn ({server.name}) not ready after {SERVER_START_TIMEOUT:.0f} s:\n{server.log_tail()}")


@contextlib.contextmanager
def throwaway_database(kind: str, postgres_url: str, workdir: Path) -> Iterator[str]:
    """Yield a SQLAlchemy URL for an empty database that is removed afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'bench_intake.sqlite3'}"
        return  # the file goes with the temporary folder
    server_url = make_url(postgres_url)
    if server_url.database == BENCH_DATABASE:
        raise BenchError(f"--postgres-url names the server; the bench creates and drops {BENCH_DATABASE} itself")
    admin = create_engine(server_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            # Left over from an interrupted run: ours to drop. If another run is using it, this fails loudly.
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}"')
            connection.exec_driver_sql(f'CREATE DATABASE "{BENCH_DATABASE}"')
        try:
            yield server_url.set(database=BENCH_DATABASE).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
    finally:
        admin.dispose()


def server_environment(database_url: str, workdir: Path, smtp_port: int | None = None) -> dict[str, str]:
    """The servers' environment; mail to the SMTP sink on ``smtp_port``, or written to files when None."""
    env = {name: value for name, value in os.environ.items() if name != "GUNICORN_CMD_ARGS"}
    env.update(
        APP_ENV="production",
        SECRET_KEY=secrets.token_hex(32),
        DATABASE_URL=database_url,
        INSTANCE_PATH=str(workdir / "instance"),
        MAIL_BACKEND="smtp" if smtp_port else "outbox",
        MAIL_OUTBOX_DIR=str(workdir / "outbox"),
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp_port or 25),
        SMTP_SECURITY="none",
        SMTP_TIMEOUT="10",
        MAIL_TEAM_ADDRESS="",
        EMAIL_CHECK_DELIVERABILITY="0",
        RATELIMIT_ENABLED="0",
        INTAKE_MIN_FILL_SECONDS="0",
        SESSION_COOKIE_SECURE="0",
        BASE_URL="http://127.0.0.1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


@contextlib.contextmanager
def smtp_sink(workdir: Path) -> Iterator[tuple[int, Path]]:
    """The SMTP sink process; at the end its counts and acceptance times are in the yielded file."""
    port, counts = free_port(), workdir / "sink.json"
    process = subprocess.Popen([sys.executable, "-m", "bench.smtp_sink", str(port), str(counts)], cwd=PROJECT_DIR,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    try:
        if process.stdout.readline().strip() != "ready":
            raise BenchError("the SMTP sink did not start")
        yield port, counts
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


@contextlib.contextmanager
def mail_worker(env: dict[str, str], workdir: Path) -> Iterator[subprocess.Popen[bytes]]:
    log = (workdir / "mail-worker.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "mail", "worker"], cwd=PROJECT_DIR,
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


def wait_for_confirmations(database_url: str, timeout: float = 60.0) -> None:
    """Until the worker has sent every queued email (or ``timeout``)."""
    engine = create_engine(database_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                pending = connection.scalar(text("SELECT count(*) FROM outgoing_emails WHERE status = 'pending'"))
            if not pending:
                return
            time.sleep(0.2)
    finally:
        engine.dispose()


def report_confirmations(database_url: str, counts_file: Path, emails: int) -> list[str]:
    """Latency from each submission's commit to its confirmation's acceptance by the sink (P8)."""
    received = json.loads(counts_file.read_text())
    counts, accepted_at = received["counts"], received["accepted_at"]
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            queued = connection.execute(text(
                "SELECT to_address, created_at FROM outgoing_emails WHERE cause_key LIKE :pattern"
            ).bindparams(pattern="inquiry:%:confirmation")).all()
    finally:
        engine.dispose()
    failures = []
    missing = [address for address, _ in queued if address.lower() not in counts]
    line("intake_confirmations_accepted_by_sink", len(queued) - len(missing), "count")
    if missing:
        failures.append(f"intake: {len(missing)} confirmations never reached the SMTP sink")
    if emails:
        print("# confirmation latency not measured: submissions share addresses (--emails)", flush=True)
        return failures
    doubled = sum(1 for address, _ in queued if counts.get(address.lower(), 0) > 1)
    if doubled:
        failures.append(f"intake: {doubled} confirmations received more than once")
    latencies = []
    for address, created_at in queued:
        when = accepted_at.get(address.lower())
        if when is None:
            continue
        if isinstance(created_at, str):  # SQLite hands the stored text back
            created_at = datetime.fromisoformat(created_at)
        if created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=UTC)
        latencies.append(when - created_at.timestamp())
    if latencies:
        line("confirmation_latency_p50", percentile(latencies, 0.50), "s")
        line("confirmation_latency_p95", percentile(latencies, 0.95), "s")
        line("confirmation_latency_max", max(latencies), "s")
    return failures


def migrate(env: dict[str, str]) -> None:
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=PROJECT_DIR,
                            env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BenchError(f"flask db upgrade failed:\n{result.stdout}\n{result.stderr}")


# --------------------------------------------------------------------------- clients


@dataclass
class Sample:
    kind: str  # "get" or "post"
    ended: float  # time.perf_counter() when the answer was read
    seconds: float
    status: int  # 0: no answer (connection error or timeout)
    accepted: bool = False


@dataclass
class ClientResult:
    samples: list[Sample] = field(default_factory=list)
    accepted_sessions: list[str] = field(default_factory=list)  # session cookie after each accepted submission
    errors: list[str] = field(default_factory=list)


class Visitor:
    """One browser: a cookie jar and one connection, reopened whenever the server closes it."""

    def __init__(self, port: int, language: str) -> None:
        self.port = port
        self.language = language
        self.cookies: dict[str, str] = {}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)

    def new_visit(self) -> None:
        self.cookies.clear()

    def request(self, method: str, path: str, form: dict[str, str] | None = None
                ) -> tuple[int, dict[str, str], str, float]:
        headers = {"User-Agent": "inquiry-desk-bench", "Accept-Language": self.language}
        body = None
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            return 0, {}, "", time.perf_counter() - started
        seconds = time.perf_counter() - started
        for header in response.headers.get_all("Set-Cookie") or []:
            self._store_cookie(header)
        location = response.headers.get("Location", "")
        return response.status, {"location": location}, content.decode("utf-8", "replace"), seconds

    def _store_cookie(self, header: str) -> None:
        pair, _, attributes = header.partition(";")
        name, _, value = pair.strip().partition("=")
        attributes = attributes.lower()
        if not value or "max-age=0" in attributes or "expires=thu, 01 jan 1970" in attributes:
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value

    def close(self) -> None:
        self.connection.close()


def hidden_fields(page: str) -> dict[str, str]:
    fields = {}
    for tag in INPUT_RE.findall(page):
        attributes = dict(ATTR_RE.findall(tag))
        if attributes.get("type") == "hidden" and "name" in attributes:
            fields[attributes["name"]] = html.unescape(attributes.get("value", ""))
    return fields


@dataclass(frozen=True)
class Load:
    """What every client of a run shares."""

    session_cookie: str  # the app's session cookie name
    emails: int = 0  # 0: a new address per submission; N: each submission picks one of N shared addresses

    def email(self, label: str) -> str:
        if self.emails:
            return f"visitor{random.randrange(self.emails)}@example.net"
        return f"{label}@example.net"


def submission(hidden: dict[str, str], language: str, label: str, email: str) -> dict[str, str]:
    """A complete, valid public form submission, as in tests/helpers.py inquiry_form_data."""
    return {
        "csrf_token": hidden.get("csrf_token", ""),
        "started": hidden.get("started", ""),
        "name": "Farida Rahimi",
        "email": email,
        "phone": "",
        "organisation": "Community Sponsors of Halifax",
        "organisation_kind": "private_sponsor",
        "topic": "private_sponsorship",
        "subject": f"Timeline for our sponsorship application ({label})",
        "message": "Hello,\nWe submitted our application in March. When can we expect news?\n" + label,
        "language": language,
        "consent": "y",
        "website": "",
    }


def intake_cycle(visitor: Visitor, result: ClientResult, label: str, load: Load) -> None:
    """A visitor opens the form, then sends it."""
    visitor.new_visit()
    form_path = FORM_PATHS[visitor.language]
    status, _, page, seconds = visitor.request("GET", form_path)
    result.samples.append(Sample("get", time.perf_counter(), seconds, status))
    hidden = hidden_fields(page) if status == 200 else {}
    if not hidden.get("csrf_token") or not hidden.get("started"):
        result.errors.append(f"GET {form_path}: status {status}, csrf_token/started not found")
        time.sleep(0.05)
        return
    form = submission(hidden, visitor.language, label, load.email(label))
    status, headers, page, seconds = visitor.request("POST", form_path, form)
    accepted = status == 302 and urlsplit(headers["location"]).path == THANKS_PATHS[visitor.language]
    result.samples.append(Sample("post", time.perf_counter(), seconds, status, accepted))
    if accepted:
        result.accepted_sessions.append(visitor.cookies.get(load.session_cookie, ""))
    else:
        result.errors.append(f"POST {form_path}: status {status}, location {headers.get('location')!r}, "
                             f"{len(page)} bytes")


def floor_cycle(visitor: Visitor, result: ClientResult, label: str, load: Load) -> None:
    """The floor's visitor: a trivial page, then the one-row insert."""
    visitor.new_visit()
    status, _, _, seconds = visitor.request("GET", FLOOR_PATH)
    result.samples.append(Sample("get", time.perf_counter(), seconds, status))
    if status != 200:
        result.errors.append(f"GET {FLOOR_PATH}: status {status}")
        time.sleep(0.05)
        return
    status, headers, _, seconds = visitor.request("POST", FLOOR_PATH, {"payload": label})
    accepted = status == 302 and urlsplit(headers["location"]).path == FLOOR_PATH
    result.samples.append(Sample("post", time.perf_counter(), seconds, status, accepted))
    if not accepted:
        result.errors.append(f"POST {FLOOR_PATH}: status {status}, location {headers.get('location')!r}")


Cycle = Callable[[Visitor, ClientResult, str, Load], None]


def client_loop(number: int, port: int, cycle: Cycle, stop: threading.Event, result: ClientResult,
                run_tag: str, load: Load) -> None:
    visitor = Visitor(port, "en" if number % 2 == 0 else "fr")
    count = 0
    try:
        while not stop.is_set():  # a cycle once begun is finished, so every POST has a known answer
            count += 1
            cycle(visitor, result, f"bench-{run_tag}-{number}-{count}", load)
    except Exception as exc:  # reported as a failure of the run, never silently lost
        result.errors.append(f"client {number} crashed: {exc!r}")
    finally:
        visitor.close()


@dataclass
class RunResult:
    """One load run against one server: every client's samples and the measured window."""

    name: str
    seconds: float
    window_start: float
    window_end: float
    clients: list[ClientResult]
    client_cpu_seconds: float
    gunicorn_cpu_seconds: float | None
    machine_cpu_seconds: float | None
    hung_clients: int

    def samples(self) -> list[Sample]:
        return [sample for client in self.clients for sample in client.samples]

    def in_window(self, sample: Sample) -> bool:
        return self.window_start <= sample.ended <= self.window_end

    def rate(self) -> float:
        return sum(sample.accepted and self.in_window(sample) for sample in self.samples()) / self.seconds


@dataclass
class Side:
    """All runs against one server (the floor, or the app), measured in alternating rounds."""

    name: str
    runs: list[RunResult] = field(default_factory=list)

    def samples(self) -> list[Sample]:
        return [sample for run in self.runs for sample in run.samples()]

    def measured(self, kind: str, ok: Callable[[Sample], bool]) -> list[Sample]:
        return [sample for run in self.runs for sample in run.samples()
                if sample.kind == kind and run.in_window(sample) and ok(sample)]

    def seconds(self) -> float:
        return sum(run.seconds for run in self.runs)

    def rate(self) -> float:
        return len(self.measured("post", lambda sample: sample.accepted)) / self.seconds()

    def latency_ms(self, kind: str, fraction: float) -> float:
        if kind == "post":
            samples = self.measured("post", lambda sample: sample.accepted)
        else:
            samples = self.measured("get", lambda sample: sample.status == 200)
        return percentile([sample.seconds * 1000 for sample in samples], fraction)

    def cpu_percent(self, what: str) -> float | None:
        used = [getattr(run, f"{what}_cpu_seconds") for run in self.runs]
        if any(value is None for value in used):
            return None
        return 100 * sum(used) / self.seconds()

    def cpu_ms_per_submission(self) -> float | None:
        """The servers' CPU time in the measured windows per submission accepted there (its GET included)."""
        used = [run.gunicorn_cpu_seconds for run in self.runs]
        accepted = len(self.measured("post", lambda sample: sample.accepted))
        if any(value is None for value in used) or not accepted:
            return None
        return 1000 * sum(value or 0.0 for value in used) / accepted

    def accepted_total(self) -> int:
        return sum(sample.accepted for sample in self.samples() if sample.kind == "post")

    def server_errors(self) -> int:
        return sum(sample.status >= 500 for sample in self.samples())

    def no_answer(self) -> int:
        return sum(sample.status == 0 for sample in self.samples())

    def errors(self) -> list[str]:
        return [error for run in self.runs for client in run.clients for error in client.errors]

    def hung_clients(self) -> int:
        return sum(run.hung_clients for run in self.runs)

    def accepted_sessions(self) -> list[str]:
        return [cookie for run in self.runs for client in run.clients for cookie in client.accepted_sessions]


def machine_busy_seconds() -> float | None:
    """CPU time used by every process on the machine so far (Linux /proc/stat), or None."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _delta(end: float | None, start: float | None) -> float | None:
    return None if end is None or start is None else end - start


def drive(server: Server, cycle: Cycle, clients: int, warmup: float, seconds: float,
          load: Load) -> RunResult:
    """Run the load: ``warmup`` seconds unmeasured, then ``seconds`` measured; every started cycle is finished."""
    name, port = server.name, server.port
    stop = threading.Event()
    results = [ClientResult() for _ in range(clients)]
    run_tag = f"{name}{secrets.token_hex(3)}"
    threads = [
        threading.Thread(target=client_loop, args=(number, port, cycle, stop, results[number], run_tag,
                                                    load), name=f"{name}-client-{number}", daemon=True)
        for number in range(clients)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    try:
        window_start = started + warmup
        window_end = window_start + seconds
        time.sleep(max(0.0, window_start - time.perf_counter()))
        cpu_start, server_start, machine_start = time.process_time(), server.cpu_seconds(), machine_busy_seconds()
        time.sleep(max(0.0, window_end - time.perf_counter()))
        cpu_seconds = time.process_time() - cpu_start
        gunicorn_cpu = _delta(server.cpu_seconds(), server_start)
        machine_cpu = _delta(machine_busy_seconds(), machine_start)
    finally:
        stop.set()
        deadline = time.monotonic() + 2 * REQUEST_TIMEOUT + 5
        for thread in threads:
            thread.join(timeout=max(0.1, deadline - time.monotonic()))
    hung = sum(thread.is_alive() for thread in threads)
    return RunResult(name, seconds, window_start, window_end, results, cpu_seconds, gunicorn_cpu, machine_cpu, hung)


# --------------------------------------------------------------------------- figures


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


def line(name: str, value: float | int | str, unit: str = "", ratio: float | None = None) -> None:
    if isinstance(value, float):
        value = f"{value:.1f}"
    text_ = f"{name}: {value}"
    if unit:
        text_ += f" {unit}"
    if ratio is not None:
        text_ += f" ({ratio:.2f} x floor)"
    print(text_, flush=True)


def ratio(value: float, floor: float) -> float:
    return value / floor if floor else float("nan")


def references_from_sessions(cookies: list[str], secret_key: str) -> list[str | None]:
    """The reference number each accepted visitor was given, from their signed session cookie."""
    reader = Flask("bench_session_reader")
    reader.secret_key = secret_key
    serializer = reader.session_interface.get_signing_serializer(reader)
    assert serializer is not None
    references: list[str | None] = []
    for cookie in cookies:
        try:
            references.append(serializer.loads(cookie).get("sent_reference"))
        except Exception:  # a cookie we cannot read counts as a reference we cannot find
            references.append(None)
    return references


# --------------------------------------------------------------------------- main


def measure(args: argparse.Namespace, env: dict[str, str], workdir: Path, load: Load) -> tuple[Side, Side]:
    """Start both servers, then load them in turn: floor, app, floor, app, ... (``--rounds`` each)."""
    floor, intake = Side("floor"), Side("intake")
    plan = ((floor, "bench.floor_app:create_floor_app()", floor_cycle), (intake, "wsgi:app", intake_cycle))
    servers: dict[str, Server] = {}
    try:
        for side, app_spec, _ in plan:
            servers[side.name] = start_gunicorn(side.name, app_spec, env, workdir, args.workers)
        for round_number in range(1, args.rounds + 1):
            for side, _, cycle in plan:
                side.runs.append(drive(servers[side.name], cycle, args.clients, args.warmup,
                                       args.seconds / args.rounds, load))
            floor_rate, intake_rate = floor.runs[-1].rate(), intake.runs[-1].rate()
            print(f"# round {round_number}/{args.rounds}: floor {floor_rate:.1f} req/s, intake {intake_rate:.1f} "
                  f"req/s ({ratio(intake_rate, floor_rate):.2f} x floor)", flush=True)
    finally:
        for side, _, _ in plan:
            server = servers.get(side.name)
            if server is None:
                continue
            server.stop()
            if side.server_errors() or side.errors():
                print(f"# {side.name}: server log from its first error:", flush=True)
                print("\n".join("#   " + log_line for log_line in server.first_error().splitlines()), flush=True)
    return floor, intake


def report_performance(floor: Side, intake: Side) -> bool:
    """Print the figures; return whether the P4 bar is met."""
    line("floor_inserts_per_second", floor.rate(), "req/s", 1.0)
    line("floor_post_latency_p50", floor.latency_ms("post", 0.50), "ms", 1.0)
    line("floor_post_latency_p95", floor.latency_ms("post", 0.95), "ms", 1.0)
    line("floor_get_latency_p50", floor.latency_ms("get", 0.50), "ms", 1.0)
    line("intake_submissions_per_second", intake.rate(), "req/s", ratio(intake.rate(), floor.rate()))
    for kind, fraction, name in (("post", 0.50, "intake_post_latency_p50"), ("post", 0.95, "intake_post_latency_p95"),
                                 ("get", 0.50, "intake_form_get_latency_p50")):
        value = intake.latency_ms(kind, fraction)
        line(name, value, "ms", ratio(value, floor.latency_ms(kind, fraction)))
    # CPU time per submission: what a loaded machine hardly changes (the rates above are wall time).
    floor_cpu, intake_cpu = floor.cpu_ms_per_submission(), intake.cpu_ms_per_submission()
    if floor_cpu and intake_cpu:
        line("floor_cpu_per_submission", floor_cpu, "ms", 1.0)
        line("intake_cpu_per_submission", intake_cpu, "ms", ratio(intake_cpu, floor_cpu))
        print(f"# CPU-bound rate ratio (floor CPU / intake CPU per submission): {floor_cpu / intake_cpu:.2f} x floor; "
              f"wall-time rate ratio {ratio(intake.rate(), floor.rate()):.2f} x floor; load "
              f"{os.getloadavg()[0]:.1f}", flush=True)
    for side in (floor, intake):
        for what in ("gunicorn", "client", "machine"):
            used = side.cpu_percent(what)
            if used is not None:
                line(f"{side.name}_{what}_cpu", used, f"% of one core ({os.cpu_count()} cores)")
    return intake.rate() >= BAR * floor.rate()


def check_correctness(floor: Side, intake: Side, database_url: str, secret_key: str) -> list[str]:
    """Count what the database holds against what the clients were told; return the failures."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            floor_stored = connection.scalar(select(func.count()).select_from(floor_rows))
            stored, distinct, with_reference = connection.execute(text(
                "SELECT count(*), count(DISTINCT reference), count(reference) FROM inquiries")).one()
            stored_references = set(connection.scalars(text("SELECT reference FROM inquiries")))
            queued = connection.scalar(text(
                "SELECT count(*) FROM outgoing_emails WHERE cause_key LIKE :pattern"
            ).bindparams(pattern="inquiry:%:confirmation"))
            sent = connection.scalar(text(
                "SELECT count(*) FROM outgoing_emails WHERE status = :status").bindparams(status="sent"))
    finally:
        engine.dispose()

    failures = []
    for side in (floor, intake):
        line(f"{side.name}_5xx", side.server_errors(), "count")
        line(f"{side.name}_unexpected_answers", len(side.errors()), "count")
        if side.server_errors():
            failures.append(f"{side.name}: {side.server_errors()} answers with status 5xx")
        if side.errors():
            failures.append(f"{side.name}: {len(side.errors())} unexpected answers, e.g. {side.errors()[:3]}")
        if side.no_answer():
            failures.append(f"{side.name}: {side.no_answer()} requests without an answer")
        if side.hung_clients():
            failures.append(f"{side.name}: {side.hung_clients()} clients still waiting at the end")

    floor_accepted = floor.accepted_total()
    line("floor_accepted_total", floor_accepted, "count")
    line("floor_stored_matches_accepted", "yes" if floor_stored == floor_accepted else "no")
    if floor_stored != floor_accepted:
        failures.append(f"floor: {floor_stored} rows stored for {floor_accepted} accepted inserts")

    accepted = intake.accepted_total()
    given = references_from_sessions(intake.accepted_sessions(), secret_key)
    given_set = {reference for reference in given if reference}
    references_distinct = distinct == stored == with_reference and len(given_set) == len(given) == accepted
    line("intake_accepted_total", accepted, "count")
    line("intake_stored_total", stored, "count")
    line("intake_stored_matches_accepted", "yes" if stored == accepted else "no")
    line("intake_references_distinct", "yes" if references_distinct else "no")
    line("intake_references_given_match_stored", "yes" if given_set == stored_references else "no")
    line("intake_confirmations_queued_match", "yes" if queued == stored else "no")
    line("intake_confirmations_sent_by_the_worker", sent, "count")
    if stored != accepted:
        failures.append(f"intake: {stored} inquiries stored for {accepted} accepted submissions")
    if not references_distinct:
        failures.append(f"intake: references not distinct ({distinct} distinct, {with_reference} set, {stored} "
                        f"stored; {len(given_set)} distinct given to {len(given)} visitors)")
    if given_set != stored_references:
        failures.append(f"intake: {len(given_set - stored_references)} references given but not stored, "
                        f"{len(stored_references - given_set)} stored but never given")
    if queued != stored:
        failures.append(f"intake: {queued} confirmations queued for {stored} inquiries")
    return failures


def run(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="bench-intake-"))
    try:
        with throwaway_database(args.database, args.postgres_url, workdir) as database_url:
            with smtp_sink(workdir) as (smtp_port, counts_file):
                env = server_environment(database_url, workdir, smtp_port)
                config = ProductionConfig(env)  # the same reading of the environment as the servers
                migrate(env)
                where = ("a temporary SQLite file" if args.database == "sqlite"
                         else f"PostgreSQL database {BENCH_DATABASE}")
                print(f"# P4 intake under load: {args.database} ({where}); gunicorn {args.workers} sync workers "
                      f"(no keep-alive); {args.clients} clients; {args.seconds:g} s measured per side in "
                      f"{args.rounds} alternating rounds (floor, then app), each after {args.warmup:g} s "
                      f"unmeasured; sender addresses: "
                      f"{f'{args.emails} shared' if args.emails else 'one per submission'}; mail: one "
                      f"`flask mail worker` to a local SMTP sink", flush=True)
                print("# rate limiting is OFF (RATELIMIT_ENABLED=0): the public form allows a few posts per minute "
                      "per address and every client here is 127.0.0.1; INTAKE_MIN_FILL_SECONDS=0", flush=True)
                with mail_worker(env, workdir):
                    floor, intake = measure(args, env, workdir, Load(config.SESSION_COOKIE_NAME, args.emails))
                    wait_for_confirmations(database_url)
                bar_met = report_performance(floor, intake)
                failures = check_correctness(floor, intake, database_url, config.SECRET_KEY)
                line("p4_bar_met", f"{'yes' if bar_met else 'no'} (bar: >= {BAR:.2f} x floor)")
            failures += report_confirmations(database_url, counts_file, args.emails)  # the sink has written them
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    for failure in failures:
        print(f"# FAILED {failure}", file=sys.stderr, flush=True)
    if failures:
        return 1
    return 0 if bar_met else 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="measured seconds per side, split over --rounds (default 20)")
    parser.add_argument("--clients", type=int, default=20, help="concurrent client threads (default 20)")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite",
                        help="sqlite: a temporary file (default); postgres: a database of its own on --postgres-url")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL,
                        help=f"the server to use; the bench creates and drops its own database {BENCH_DATABASE} "
                             f"(default server: {DEFAULT_POSTGRES_URL})")
    parser.add_argument("--rounds", type=int, default=2,
                        help="alternate floor and app this many times, --seconds/--rounds each (default 2)")
    parser.add_argument("--warmup", type=float, default=1.0,
                        help="unmeasured seconds at the start of each round, per side (default 1)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (P4 says 2)")
    parser.add_argument("--emails", type=int, default=0,
                        help="0 (default): every submission has its own address; N: submissions share N addresses, "
                             "as returning senders do (several can be new at the same moment)")
    args = parser.parse_args(argv)
    if min(args.seconds, args.clients, args.workers, args.rounds) <= 0 or min(args.warmup, args.emails) < 0:
        parser.error("--seconds, --clients, --workers and --rounds must be positive, --warmup and --emails not "
                     "negative")

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in the background
    try:
        return run(args)
    except KeyboardInterrupt:
        print("# interrupted; servers stopped and the bench database removed", file=sys.stderr)
        return 130
    except (BenchError, OperationalError) as exc:
        print(f"# bench could not run: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
