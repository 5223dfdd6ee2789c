"""Waking the mail workers: PostgreSQL ``NOTIFY`` sent with the commit, ``LISTEN`` in the workers.

``wake_after_commit(session)`` adds ``pg_notify`` to the open transaction: PostgreSQL
delivers it when (and only if) the transaction commits, so a web process never waits
for anything after its commit and a rolled-back email wakes no one. On SQLite it does
nothing: the workers poll (every second by default).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, scoped_session

log = logging.getLogger(__name__)

CHANNEL = "inquiry_desk_mail"


def wake_after_commit(session: Session | scoped_session[Any]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


class Waiter:
    """Sleeps until woken (PostgreSQL) or until the poll interval ends, or until ``stop`` is set."""

    def __init__(self, engine: Engine, stop: threading.Event) -> None:
        self.engine, self.stop = engine, stop
        self.listening = engine.dialect.name == "postgresql"
        self._connection: Any = None

    def wait(self, seconds: float) -> bool:
        """True when a notification came; False after ``seconds`` (or at stop)."""
        if not self.listening:
            self.stop.wait(seconds)
            return False
        try:
            connection = self._listen()
            woken = any(True for _ in connection.notifies(timeout=min(seconds, 1.0), stop_after=1))
            if woken:
                self._drain(connection)
            return woken
        except Exception as exc:  # the database went away: poll until it is back
            log.warning("mail worker: cannot listen for wake-ups (%s); polling", type(exc).__name__)
            self.close()
            self.stop.wait(seconds)
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
