"""gunicorn settings for Inquiry Desk: ``gunicorn -c gunicorn.conf.py wsgi:app``.

gunicorn reads this file by itself when started from the project folder. Every
value can be changed by an environment variable (below) or on the command line.

- Workers: ``WEB_CONCURRENCY``, else 2 x cores + 1, at most ``WEB_MAX_WORKERS`` (8).
  Each worker holds its own database pool (``DATABASE_POOL_SIZE`` +
  ``DATABASE_MAX_OVERFLOW`` connections): keep workers x that under PostgreSQL's
  ``max_connections``, leaving room for the scheduler and ``flask`` commands.
- Address: ``BIND`` (e.g. ``unix:/run/inquiry-desk/web.sock``), else
  ``127.0.0.1:$PORT`` (``PORT`` 8000). Serve behind a TLS-terminating proxy.
- ``FORWARDED_ALLOW_IPS``: the proxies whose ``X-Forwarded-For`` and
  ``X-Forwarded-Proto`` are believed (default ``127.0.0.1,::1``: a proxy on the same
  machine). Set it to the proxy's address when it runs elsewhere; never ``*``
  unless only the proxy can reach gunicorn. gunicorn takes the scheme from them; the app
  (``inquiry_desk/core/proxy.py``, same variable) takes the client address the rate limits
  and the audit log use, ``PROXY_COUNT`` (1) entries from the end of ``X-Forwarded-For``.
- Access log: to stdout (``GUNICORN_ACCESS_LOG``: a file, or empty for none), one
  line per request with the path only: no query string, private-link tokens
  replaced by ``[redacted]``, the Referer treated the same, and the request id.
  With ``LOG_FORMAT=json`` the app also writes one JSON line per request (on
  stderr); you may then turn the access log off.
- The control socket of gunicorn 23+ (``~/.gunicorn/gunicorn.ctl``, one per user,
  shared by every gunicorn of that user) is off.
- The web processes never run scheduled jobs: ``wsgi.py`` never starts a
  scheduler; run ``flask scheduler run`` as its own service.
- With ``PROMETHEUS_MULTIPROC_DIR`` set, the folder is emptied at start and a dead
  worker's live gauges are dropped, as prometheus-client's multiprocess mode needs.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from gunicorn import glogging
from gunicorn.config import KNOWN_SETTINGS

sys.path.insert(0, str(Path(__file__).resolve().parent))

from inquiry_desk.core.logs import install_redaction, redact_path, redact_url


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def default_workers(cores: int | None = None, cap: int | None = None) -> int:
    """``WEB_CONCURRENCY`` when set, else 2 x cores + 1, capped."""
    if os.environ.get("WEB_CONCURRENCY", "").strip():
        return max(1, _int_env("WEB_CONCURRENCY", 1))
    cores = cores if cores is not None else (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                                             else os.cpu_count() or 1)
    cap = cap if cap is not None else _int_env("WEB_MAX_WORKERS", 8)
    return max(1, min(2 * cores + 1, cap))


def default_bind() -> list[str]:
    if os.environ.get("BIND", "").strip():
        return [address.strip() for address in os.environ["BIND"].split(",") if address.strip()]
    return [f"127.0.0.1:{_int_env('PORT', 8000)}"]


# --------------------------------------------------------------------------- the access log

# Only these atoms reach the log; "r", "U" and "f" are rebuilt redacted, and no other header,
# cookie or environ value (RAW_URI, QUERY_STRING, HTTP_COOKIE, Authorization) is ever available.
SAFE_ATOMS = ("h", "l", "u", "t", "s", "m", "H", "b", "B", "a", "T", "D", "M", "L", "p",
              "{x-request-id}o", "{x-forwarded-for}i", "{x-forwarded-proto}i", "{user-agent}i")


def redact_atoms(atoms: dict[str, Any]) -> dict[str, Any]:
    """The access-log atoms with the path redacted, the query string and Referer's query dropped."""
    path = redact_path(atoms.get("U") or "")
    safe = {name: atoms[name] for name in SAFE_ATOMS if name in atoms}
    safe["U"] = path
    safe["q"] = ""
    safe["r"] = f"{atoms.get('m') or '-'} {path} {atoms.get('H') or '-'}"
    safe["f"] = redact_url(atoms.get("f") or "-")
    safe["{referer}i"] = safe["f"]
    return safe


class RedactingLogger(glogging.Logger):
    """gunicorn's logger, with the access log's atoms passed through ``redact_atoms``."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        # The error log names the URI of a request that failed: no query string, token or address in it.
        install_redaction(self.error_log)

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        return redact_atoms(super().atoms(resp, req, environ, request_time))


# --------------------------------------------------------------------------- settings

wsgi_app = "wsgi:app"
bind = default_bind()
workers = default_workers()
worker_class = "sync"
timeout = 30  # a worker silent this long is killed and replaced
graceful_timeout = 20  # on SIGTERM/HUP, requests in flight get this long to finish
keepalive = 5  # seconds (kept connections are used by non-sync workers; harmless with sync)
max_requests = _int_env("GUNICORN_MAX_REQUESTS", 2000)  # each worker is replaced after this many requests
max_requests_jitter = _int_env("GUNICORN_MAX_REQUESTS_JITTER", 200)  # ...not all at the same moment
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
logger_class = RedactingLogger
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s" rid=%({x-request-id}o)s'
proc_name = "inquiry-desk-web"

if any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS):
    control_socket_disable = True  # gunicorn 23+: no shared ~/.gunicorn/gunicorn.ctl


def on_starting(server: Any) -> None:
    """Start every run with an empty metrics folder (prometheus-client multiprocess mode)."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        path = Path(folder)
        if path.is_dir():
            for entry in path.iterdir():
                if entry.is_file() and entry.suffix == ".db":
                    entry.unlink()
                elif entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
        path.mkdir(parents=True, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
