"""Leader election: one scheduler instance dispatches, any other waits as a hot standby.

PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) held on a
connection of its own, outside the pool. The lock lives exactly as long as that
database session, so a leader that dies, even by SIGKILL, releases it when its
connection closes, and a standby gets it at its next try. The ``scheduler_leases``
row is only written so that the jobs page can say who leads.

SQLite (one host, development): a lease row with a heartbeat. It is taken when
missing or expired (one ``INSERT … ON CONFLICT DO UPDATE … WHERE``, atomic), renewed
by its holder with a conditional UPDATE, and lost when another instance took it
after it expired. A dead leader's lease runs out after ``lease_seconds``.

Timings (defaults): lease 25 s, renewed every 8 s, a standby tries every 5 s: a
standby takes over at most 30 s after the leader's last heartbeat (at once on
PostgreSQL, within one try). What must run once is guaranteed by ``JobRun``
occurrences (runner.py), not by the lock: two leaders for a moment (a paused
process whose lease ran out) would still run each occurrence once.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import Connection, Engine, case, create_engine, delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.jobs.models import SchedulerLease
from inquiry_desk.jobs.runner import default_holder

log = logging.getLogger(__name__)

LEASE_SECONDS = 25
RENEW_SECONDS = 8
STANDBY_POLL_SECONDS = 5


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock``, from the lock's name."""
    digest = hashlib.sha256(f"inquiry_desk:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Leader:
    """``try_acquire()`` to become leader, ``renew()`` as a heartbeat (False: leadership lost), ``release()``."""

    def __init__(self, app: Flask, name: str = "scheduler", holder: str | None = None,
                 lease_seconds: float = LEASE_SECONDS) -> None:
        self.name = name
        self.holder = holder or default_holder()
        self.lease = timedelta(seconds=lease_seconds)
        with app.app_context():
            self.engine: Engine = db.engine
        self.dialect = self.engine.dialect.name
        self.key = advisory_key(name)
        self._lock_engine: Engine | None = None
        self._lock_connection: Connection | None = None
        self.held = False

    # Public API ---------------------------------------------------------------------------------

    def try_acquire(self, now: datetime | None = None) -> bool:
        """Become leader if no one else is; True if this instance leads (already or now)."""
        now = now or utcnow()
        if self.dialect == "postgresql":
            self.held = self._pg_try_lock()
            if self.held:
                self._write_row(now)
        else:
            self.held = self._lease_try_take(now)
        return self.held

    def renew(self, now: datetime | None = None) -> bool:
        """The heartbeat: True while this instance still leads."""
        now = now or utcnow()
        if not self.held:
            return False
        if self.dialect == "postgresql":
            self.held = self._pg_still_locked()
            if self.held:
                self._write_row(now)
        else:
            self.held = self._lease_extend(now)
        if not self.held:
            log.warning("scheduler leadership lost (%s)", self.holder)
        return self.held

    def release(self) -> None:
        """Step down (clean shutdown): the lock is freed and the lease row removed at once."""
        self.held = False
        if self._lock_connection is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._lock_connection.execute(text("SELECT pg_advisory_unlock_all()"))
            self._close_lock_connection()
        try:
            with self.engine.begin() as connection:
                connection.execute(delete(SchedulerLease).where(
                    SchedulerLease.name == self.name, SchedulerLease.holder == self.holder))
        except SQLAlchemyError:
            log.warning("could not remove the scheduler lease row", exc_info=True)
        if self._lock_engine is not None:
            self._lock_engine.dispose()
            self._lock_engine = None

    # PostgreSQL -----------------------------------------------------------------------------------

    def _pg_try_lock(self) -> bool:
        if self.held and self._pg_still_locked():
            return True
        try:
            if self._lock_connection is None:
                if self._lock_engine is None:
                    # Its own engine without a pool: closing the connection really ends the session.
                    self._lock_engine = create_engine(self.engine.url, poolclass=NullPool)
                self._lock_connection = self._lock_engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            return bool(self._lock_connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}))
        except SQLAlchemyError:
            log.warning("scheduler lock: database not reachable", exc_info=True)
            self._close_lock_connection()
            return False

    def _pg_still_locked(self) -> bool:
        if self._lock_connection is None:
            return False
        try:
            # A session keeps its advisory lock until it ends: the session being alive is enough.
            self._lock_connection.scalar(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            self._close_lock_connection()
            return False

    def _close_lock_connection(self) -> None:
        if self._lock_connection is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._lock_connection.close()
            self._lock_connection = None

    def _write_row(self, now: datetime) -> None:
        """PostgreSQL: say who holds the lock, for the jobs page (the lock itself decides)."""
        statement = postgresql.insert(SchedulerLease).values(
            name=self.name, holder=self.holder, acquired_at=now, expires_at=now + self.lease)
        acquired_at = case((SchedulerLease.holder == self.holder, SchedulerLease.acquired_at),
                           else_=statement.excluded.acquired_at)
        statement = statement.on_conflict_do_update(
            index_elements=["name"],
            set_={"holder": statement.excluded.holder, "acquired_at": acquired_at,
                  "expires_at": statement.excluded.expires_at})
        try:
            with self.engine.begin() as connection:
                connection.execute(statement)
        except SQLAlchemyError:
            log.warning("could not record the scheduler lease", exc_info=True)

    # SQLite lease ---------------------------------------------------------------------------------

    def _lease_try_take(self, now: datetime) -> bool:
        statement = sqlite.insert(SchedulerLease).values(
            name=self.name, holder=self.holder, acquired_at=now, expires_at=now + self.lease)
        mine = SchedulerLease.holder == self.holder
        statement = statement.on_conflict_do_update(
            index_elements=["name"],
            set_={"holder": statement.excluded.holder,
                  "acquired_at": case((mine, SchedulerLease.acquired_at), else_=statement.excluded.acquired_at),
                  "expires_at": statement.excluded.expires_at},
            where=(SchedulerLease.expires_at <= now) | mine,
        )
        try:
            with self.engine.begin() as connection:
                connection.execute(statement)
                holder = connection.scalar(select(SchedulerLease.holder).where(SchedulerLease.name == self.name))
        except SQLAlchemyError:
            log.warning("scheduler lease: database not available", exc_info=True)
            return False
        return holder == self.holder

    def _lease_extend(self, now: datetime) -> bool:
        try:
            with self.engine.begin() as connection:
                result = connection.execute(
                    update(SchedulerLease)
                    .where(SchedulerLease.name == self.name, SchedulerLease.holder == self.holder)
                    .values(expires_at=now + self.lease))
        except SQLAlchemyError:
            log.warning("scheduler lease: could not renew", exc_info=True)
            return False
        return result.rowcount == 1
