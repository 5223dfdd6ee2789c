"""gunicorn as the README starts it (gunicorn.conf.py, the production configuration), for one test.

``serve(database_url, tmp_path, tls=True, env={...})`` yields a ``Running`` server on a free
port, with a throwaway self-signed certificate (made by ``openssl`` at test time) when
``tls`` is set. Its log (access and error, the app's too) is kept in a file the test reads.
"""

from __future__ import annotations

import contextlib
import html
import http.client
import os
import re
import secrets
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from bench.intake import free_port
from tests.processes import die_with_parent

PROJECT_DIR = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, valid one day, and its key."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True, preexec_fn=die_with_parent,
    )
    return cert, key


@dataclass
class Running:
    process: subprocess.Popen[bytes]
    port: int
    tls: bool
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def connection(self, timeout: float = 10) -> http.client.HTTPConnection:
        if self.tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=context)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)


def environment(database_url: str, workdir: Path, **overrides: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name != "GUNICORN_CMD_ARGS"}
    env.update(
        APP_ENV="production", SECRET_KEY=secrets.token_hex(32), DATABASE_URL=database_url,
        INSTANCE_PATH=str(workdir / "instance"), MAIL_BACKEND="outbox", MAIL_OUTBOX_DIR=str(workdir / "outbox"),
        MAIL_TEAM_ADDRESS="", EMAIL_CHECK_DELIVERABILITY="0", INTAKE_MIN_FILL_SECONDS="0",
        BASE_URL="https://127.0.0.1", LOG_FORMAT="text", PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(overrides)
    return env


def _ready(server: Running, workers: int) -> bool:
    if server.log().count("Booting worker with pid") < workers:
        return False
    try:
        connection = server.connection(timeout=5)
        connection.request("GET", "/healthz")
        status = connection.getresponse().status
        connection.close()
    except OSError:
        return False
    return status == 200


@contextlib.contextmanager
def serve(database_url: str, workdir: Path, *, tls: bool = False, workers: int = 2,
          env: dict[str, str] | None = None) -> Iterator[Running]:
    port = free_port()
    arguments = ["--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--error-logfile", "-"]
    if tls:
        cert, key = self_signed_certificate(workdir)
        arguments += ["--certfile", str(cert), "--keyfile", str(key)]
    log_path = workdir / f"gunicorn-{port}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", *arguments, "wsgi:app"],
            cwd=PROJECT_DIR, env=environment(database_url, workdir, **(env or {})), stdout=log_file,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=die_with_parent,
        )
    server = Running(process, port, tls, log_path)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _ready(server, workers):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start:\n{server.log()[-4000:]}")
            time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


@contextlib.contextmanager
def mail_worker(database_url: str, workdir: Path, *, env: dict[str, str] | None = None) -> Iterator[Path]:
    """``flask mail worker`` beside the server, as in production (web processes send no mail);
    yields the path of its log."""
    log_path = workdir / "mail-worker.log"
    settings = {"MAIL_WORKER_POLL_SECONDS": "0.2", **(env or {})}
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "worker"],
            cwd=PROJECT_DIR, env=environment(database_url, workdir, **settings), stdout=log_file,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=die_with_parent,
        )
    try:
        yield log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


_INPUT = re.compile(r"<input\b[^>]*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r'([a-zA-Z_:-]+)="([^"]*)"')


def hidden_fields(page: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for tag in _INPUT.findall(page):
        attributes = dict(_ATTRIBUTE.findall(tag))
        if attributes.get("type") == "hidden" and "name" in attributes:
            fields[attributes["name"]] = html.unescape(attributes.get("value", ""))
    return fields


class Visitor:
    """One person's browser, roughly: a cookie jar, and forms sent with their hidden fields and a Referer."""

    def __init__(self, server: Running, headers: dict[str, str] | None = None) -> None:
        self.server = server
        self.cookies: dict[str, str] = {}
        self.headers = headers or {}
        self.last_page = ""

    def request(self, method: str, path: str, body: str | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, str, str | None]:
        connection = self.server.connection()
        all_headers = {**self.headers, **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        connection.close()
        if response.headers.get("Content-Type", "").startswith("text/html"):
            self.last_page = text
        return response.status, text, response.headers.get("Location")

    def get(self, path: str) -> tuple[int, str, str | None]:
        return self.request("GET", path)

    def post(self, path: str, fields: dict[str, str], *, page_path: str | None = None) -> tuple[int, str, str | None]:
        """POST ``fields`` with the hidden fields of the page at ``page_path`` (GET first), or of the last page."""
        if page_path is not None:
            self.get(page_path)
        body = urlencode({**hidden_fields(self.last_page), **fields})
        return self.request("POST", path, body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"{self.server.base_url}{page_path or path}"})
