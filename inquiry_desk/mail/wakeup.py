"""Waking the mail workers at once when mail is committed.

``wake_after_commit(session)`` marks the open transaction: when (and only if) it
commits, the workers are woken, so a web process never waits for anything after its
commit and a rolled-back email wakes no one.

- PostgreSQL: ``pg_notify`` in the transaction; PostgreSQL delivers it at the commit to
  every worker's ``LISTEN``, on any host.
- In the same process (the worker thread of ``make run`` and of SQLite deployments
  that run ``MAIL_WORKER_IN_PROCESS``): an in-process event set by the session's
  ``after_commit`` hook (``mail.init_app``), on any database.
- A worker in another process on SQLite finds the mail when it next polls
  (``MAIL_WORKER_POLL_SECONDS``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, scoped_session

log = logging.getLogger(__name__)

CHANNEL = "inquiry_desk_mail"
WAKE_KEY = "mail_wake"  # in Session.info: this transaction queued mail or started a send
_SLICE = 0.25  # an idle wait looks at its stop event this often

_local = threading.Event()


def wake_after_commit(session: Session | scoped_session[Any]) -> None:
    session.info[WAKE_KEY] = True
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


def committed(session_info: dict[str, Any]) -> None:
    """The session's transaction committed (``after_commit``): wake this process's workers if it asked to."""
    if session_info.pop(WAKE_KEY, False):
        _local.set()


def rolled_back(session_info: dict[str, Any]) -> None:
    session_info.pop(WAKE_KEY, None)


def wake_local() -> None:
    _local.set()


def take_local() -> bool:
    """True once after each in-process wake-up (the worker then looks at the outbox at once)."""
    if _local.is_set():
        _local.clear()
        return True
    return False


class Waiter:
    """Sleeps until woken (in-process event, PostgreSQL NOTIFY), until the poll interval ends, or until stop."""

    def __init__(self, engine: Engine, stop: threading.Event) -> None:
        self.engine, self.stop = engine, stop
        self.listening = engine.dialect.name == "postgresql"
        self._connection: Any = None

    def wait(self, seconds: float) -> bool:
        """True when woken; False after ``seconds`` (or at stop)."""
        if not self.listening:
            return self._wait_local(seconds)
        try:
            connection = self._listen()
            woken = any(True for _ in connection.notifies(timeout=min(seconds, 1.0), stop_after=1))
            if woken:
                self._drain(connection)
            return take_local() or woken  # (the commit that set the event also notified)
        except Exception as exc:  # the database went away: poll until it is back
            log.warning("mail worker: cannot listen for wake-ups (%s); polling", type(exc).__name__)
            self.close()
            return self._wait_local(seconds)

    def _wait_local(self, seconds: float) -> bool:
        end = time.monotonic() + seconds
        while not self.stop.is_set():
            left = end - time.monotonic()
            if left <= 0:
                return False
            if _local.wait(min(left, _SLICE)):
                _local.clear()
                return True
        return False

    def _drain(self, connection: Any) -> None:
        # Many commits may have notified at once: one pass of work answers them all.
        for _ in connection.notifies(timeout=0.001):
            pass

    def _listen(self) -> Any:
        if self._connection is None or self._connection.closed:
            import psycopg

            url = self.engine.url.set(drivername="postgresql")
            self._connection = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True,
                                               connect_timeout=5)
            self._connection.execute(f"LISTEN {CHANNEL}")
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None
