"""Leader election: a second holder waits while the first renews, and takes over when it is gone."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, create_engine, text

from inquiry_desk.core.extensions import db
from inquiry_desk.jobs.leader import Leader
from inquiry_desk.jobs.models import SchedulerLease
from inquiry_desk.jobs.services import current_lease

from ..conftest import is_postgres

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _wait_until_gone(engine: Engine, pid: int, deadline_seconds: float = 30.0) -> None:
    """Wait until the server no longer lists the backend ``pid`` (a loaded machine may take a while)."""
    give_up = time.monotonic() + deadline_seconds
    while True:
        with engine.connect() as connection:
            alive = connection.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid})
        if not alive:
            return
        assert time.monotonic() < give_up, f"backend {pid} still alive {deadline_seconds} s after pg_terminate_backend"
        time.sleep(0.05)


@pytest.mark.skipif(is_postgres(), reason="the SQLite lease; PostgreSQL uses an advisory lock")
def test_sqlite_lease_refuses_a_second_holder_until_it_expires(app) -> None:
    first = Leader(app, holder="first", lease_seconds=30)
    second = Leader(app, holder="second", lease_seconds=30)
    assert first.try_acquire(at(0))
    assert not second.try_acquire(at(10))
    assert first.renew(at(20))  # lease now runs to 50 s
    assert not second.try_acquire(at(45))
    assert first.try_acquire(at(46))  # the holder asking again keeps it
    assert db.session.get(SchedulerLease, "scheduler").acquired_at == at(0)
    # The first stops renewing (it died): the lease runs out at 76 s.
    assert not second.try_acquire(at(75))
    assert second.try_acquire(at(77))
    assert not first.renew(at(78))  # and the first, if it was only paused, knows it lost
    assert not first.try_acquire(at(80))
    lease = db.session.get(SchedulerLease, "scheduler")
    db.session.refresh(lease)
    assert (lease.holder, lease.acquired_at, lease.expires_at) == ("second", at(77), at(107))


@pytest.mark.skipif(is_postgres(), reason="the SQLite lease")
def test_sqlite_release_hands_over_at_once(app) -> None:
    first = Leader(app, holder="first")
    second = Leader(app, holder="second")
    assert first.try_acquire(at(0))
    first.release()
    assert second.try_acquire(at(1))


@pytest.mark.skipif(not is_postgres(), reason="the PostgreSQL advisory lock")
def test_postgres_lock_passes_when_the_leaders_connection_closes(app, database_url) -> None:
    first = Leader(app, holder="first")
    second = Leader(app, holder="second")
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        assert first.renew()
        assert not second.try_acquire()
        assert current_lease(datetime.now(UTC)).holder == "first"
        # The leader's process dies: the server ends its session (as a SIGKILL closes its socket).
        pid = first._lock_connection.scalar(text("SELECT pg_backend_pid()"))
        admin = create_engine(database_url)
        with admin.begin() as connection:
            assert connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        # pg_terminate_backend only signals the backend: its locks go when it has exited.
        _wait_until_gone(admin, pid)
        admin.dispose()
        assert second.try_acquire()
        assert not first.renew()
        assert not first.try_acquire()
        db.session.expire_all()
        assert current_lease(datetime.now(UTC)).holder == "second"
    finally:
        first.release()
        second.release()


@pytest.mark.skipif(not is_postgres(), reason="the PostgreSQL advisory lock")
def test_postgres_release_hands_over_at_once(app) -> None:
    first = Leader(app, holder="first")
    second = Leader(app, holder="second")
    try:
        assert first.try_acquire()
        first.release()
        assert second.try_acquire()
        assert db.session.get(SchedulerLease, "scheduler").holder == "second"
    finally:
        second.release()


def test_the_lease_row_says_who_leads(app) -> None:
    leader = Leader(app, holder="host:123")
    try:
        assert leader.try_acquire()
        lease = current_lease(datetime.now(UTC))
        assert lease is not None and lease.holder == "host:123"
    finally:
        leader.release()
    db.session.expire_all()
    assert current_lease(datetime.now(UTC)) is None
