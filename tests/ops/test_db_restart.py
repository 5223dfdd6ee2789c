"""QUALITY.md R6: PostgreSQL restarts while 20 clients submit the public form through gunicorn.

The test makes its own PostgreSQL cluster (initdb on a free port, in a temporary
folder, run as the ``postgres`` user when the test runs as root, since initdb
refuses root), so stopping it disturbs nothing else. Load runs throughout; the
server is stopped (fast shutdown: sessions are cut) for a few seconds, then
started again. Bar: every answer is a 2xx/3xx or a clean 503 page (no traceback,
no other 5xx); submissions are accepted again after the restart, without
restarting gunicorn; no half-written inquiry (each has its reference and its
first message) and every reference a visitor was given is stored.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bench.intake import Visitor, free_port, hidden_fields, submission
from config import ProductionConfig
from inquiry_desk.intake.links import FORM_PATHS, THANKS_PATHS

from ..conftest import is_postgres
from ..processes import die_with_parent
from .load import environment, migrate, references_from_sessions, start_gunicorn, stored

BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
OUTAGE_SECONDS = float(os.environ.get("RESTART_TEST_OUTAGE_SECONDS", "3"))
BEFORE_SECONDS = AFTER_SECONDS = float(os.environ.get("RESTART_TEST_LOAD_SECONDS", "4"))
CLIENTS = 20
CLEAN_503_TITLES = ("<title>Service unavailable", "<title>Service non disponible")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not is_postgres(), reason="R6 runs with PostgreSQL (TEST_DATABASE_URL)"),
    pytest.mark.skipif(not BINARIES, reason="needs PostgreSQL's server binaries (initdb, postgres, pg_isready)"),
]


class Cluster:
    """The server runs in the foreground, a child of pytest that dies with it (``die_with_parent``): ``pg_ctl
    start`` would leave it running detached from us when pytest is killed."""

    def __init__(self, folder: Path, port: int) -> None:
        self.bin = Path(BINARIES[-1]).parent
        self.folder, self.port = folder, port
        self.data = folder / "data"
        self.as_root = os.geteuid() == 0
        self.server: subprocess.Popen[bytes] | None = None

    def run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_root else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=60, preexec_fn=die_with_parent)

    def init(self) -> None:
        if self.as_root:
            shutil.chown(self.folder, "postgres", "postgres")
        self.run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                 "--no-sync")

    def start(self) -> None:
        command = [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.folder),
                   "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]
        # As root, the server is started as postgres (it refuses root); the parent-death signal is asked for
        # after that change (preexec_fn runs last), which would otherwise clear it.
        user = {"user": "postgres", "group": "postgres", "extra_groups": []} if self.as_root else {}
        with (self.folder / "server.log").open("ab") as log:
            self.server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                           preexec_fn=die_with_parent, **user)
        deadline = time.monotonic() + 60
        while subprocess.run([str(self.bin / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
                             preexec_fn=die_with_parent, check=False).returncode != 0:
            if self.server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start: {(self.folder / 'server.log').read_text()[-2000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        """Fast shutdown (SIGINT): sessions are cut, as ``pg_ctl -m fast stop``."""
        if self.server is None:
            return
        self.server.send_signal(signal.SIGINT)
        try:
            self.server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.server.kill()
            self.server.wait(timeout=10)
        self.server = None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    folder = Path(tempfile.mkdtemp(prefix="inquiry-desk-r6-"))
    cluster = Cluster(folder, free_port())
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Answers:
    statuses: list[tuple[float, str, int]] = field(default_factory=list)  # (time, kind, status)
    unclean: list[str] = field(default_factory=list)
    accepted_sessions: list[str] = field(default_factory=list)


def visit(visitor: Visitor, answers: Answers, label: str, session_cookie: str) -> None:
    visitor.new_visit()
    form_path = FORM_PATHS[visitor.language]
    status, _, page, _ = visitor.request("GET", form_path)
    check(answers, "get", status, page)
    hidden = hidden_fields(page) if status == 200 else {}
    if not hidden.get("csrf_token") or not hidden.get("started"):
        time.sleep(0.05)
        return
    status, headers, page, _ = visitor.request("POST", form_path, submission(hidden, visitor.language, label,
                                                                           f"{label}@example.net"))
    check(answers, "post", status, page)
    if status == 302 and urlsplit(headers["location"]).path == THANKS_PATHS[visitor.language]:
        answers.accepted_sessions.append(visitor.cookies.get(session_cookie, ""))
    elif status == 503:
        time.sleep(0.1)


def check(answers: Answers, kind: str, status: int, page: str) -> None:
    answers.statuses.append((time.monotonic(), kind, status))
    if status == 503 and ("Traceback" in page or not any(title in page for title in CLEAN_503_TITLES)):
        answers.unclean.append(f"{kind}: 503 without the clean page: {page[:200]!r}")
    elif status >= 500 and status != 503:
        answers.unclean.append(f"{kind}: status {status}: {page[:200]!r}")
    elif status == 0:
        answers.unclean.append(f"{kind}: no answer")


def _answered(answers: list[Answers], since: float, status: int, kind: str | None = None) -> bool:
    return any(at > since and got == status and kind in (None, what)
               for result in answers for at, what, got in list(result.statuses))


def _last_at_least(seconds: float, done: Callable[[], bool], limit: float = 60.0) -> None:
    """Waits ``seconds``, then on until ``done()`` (at most ``limit`` more seconds; the asserts tell)."""
    time.sleep(seconds)
    deadline = time.monotonic() + limit
    while not done() and time.monotonic() < deadline:
        time.sleep(0.1)


def test_r6_postgres_restart_during_load(tmp_path: Path) -> None:
    with throwaway_cluster() as cluster:
        env = environment(cluster.url, tmp_path)
        migrate(env)
        config = ProductionConfig(env)
        server = start_gunicorn("r6", "wsgi:app", env, tmp_path, workers=2)
        stop = threading.Event()
        answers = [Answers() for _ in range(CLIENTS)]

        def client(number: int) -> None:
            visitor = Visitor(server.port, "en" if number % 2 == 0 else "fr")
            count = 0
            try:
                while not stop.is_set():
                    count += 1
                    visit(visitor, answers[number], f"r6-{number}-{count}", config.SESSION_COOKIE_NAME)
            except Exception as exc:
                answers[number].unclean.append(f"client crashed: {exc!r}")
            finally:
                visitor.close()

        threads = [threading.Thread(target=client, args=(number,), daemon=True) for number in range(CLIENTS)]
        try:
            for thread in threads:
                thread.start()
            time.sleep(BEFORE_SECONDS)
            cluster.stop()
            outage_started = time.monotonic()
            # Each phase lasts its seconds and, on a loaded machine, until what it is there to show has
            # happened (deadlines only): a request met the outage; a submission was accepted after it.
            _last_at_least(OUTAGE_SECONDS, lambda: _answered(answers, outage_started, status=503))
            cluster.start()
            restarted = time.monotonic()
            _last_at_least(AFTER_SECONDS, lambda: _answered(answers, restarted, kind="post", status=302))
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=40)
            server.stop()

        statuses = [entry for result in answers for entry in result.statuses]
        unclean = [problem for result in answers for problem in result.unclean]
        during = [status for at, _, status in statuses if outage_started <= at <= restarted]
        accepted_after = [at for at, kind, status in statuses if kind == "post" and status == 302 and at > restarted]
        print(f"R6: {len(statuses)} answers; during the {OUTAGE_SECONDS:g} s outage: {during.count(503)} x 503 of "
              f"{len(during)}; {len(accepted_after)} accepted after the restart")
        assert not unclean, f"{len(unclean)} unclean answers, e.g. {unclean[:3]}\n{server.first_error()}"
        assert 503 in during, "no request met the outage"
        assert accepted_after, "the app did not recover after PostgreSQL came back"

        result = stored(cluster.url)
        given = set(references_from_sessions([cookie for a in answers for cookie in a.accepted_sessions],
                                             config.SECRET_KEY))
        assert None not in given and given <= result["references"]
        assert result["without_message"] == 0
        assert result["distinct"] == result["with_reference"] == result["count"]
