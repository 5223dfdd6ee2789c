"""A claim's lease is never outlived: a worker renews it before it runs short, on SQLite and PostgreSQL.

A worker sends a claimed batch only while the lease still has more than a margin left
(``worker.lease_margin``); when it runs short the worker renews the lease of the rows it
still holds, with one UPDATE guarded by its token (the lease's end it wrote), so a row
another worker has already taken over stays with that worker and is not sent here.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.mail import services as mail
from inquiry_desk.mail.claims import claim, release, renew
from inquiry_desk.mail.models import Delivery
from inquiry_desk.mail.worker import Settings

from .send_support import make_send, received_counts, statuses, wait_for, worker
from .smtp_server import SmtpSink
from .support import T0, queue

pytestmark = pytest.mark.allow_smtp


def _claimed() -> int:
    db.session.expire_all()
    count = db.session.scalar(select(func.count()).where(Delivery.status == "sending")) or 0
    db.session.commit()
    return count


def test_a_batch_that_outlasts_its_lease_is_never_sent_twice(app_factory, smtp_sink: SmtpSink) -> None:
    """A slow server (0.2 s a message) and a 2 s lease: the first worker spends most of its lease on the
    outbox before it claims the bulk rows, then needs 1.2 s more for them; a second worker stands by to
    take over any lease that ends. Every address gets one copy."""
    smtp_sink.data_delay = 0.2
    app = app_factory(**smtp_sink.app_config(SMTP_TIMEOUT=0.5, MAIL_WORKER_LEASE_SECONDS=2))
    with app.app_context():
        for n in range(8):
            queue(f"inquiry:{n}:confirmation", to=f"reader{n}@example.net")
        db.session.commit()
        send = make_send([f"person{n}@example.net" for n in range(6)])
        first, second = worker(app), worker(app)
        threads = [threading.Thread(target=sender.run, daemon=True) for sender in (first, second)]
        threads[0].start()
        try:
            assert wait_for(lambda: _claimed() > 0, 10), "the first worker never claimed the bulk rows"
            threads[1].start()
            assert wait_for(lambda: statuses(send).get("sent") == 6, 15), statuses(send)
        finally:
            first.stop.set()
            second.stop.set()
            for thread in threads:
                thread.join(10)
    counts = received_counts(smtp_sink)
    assert sorted(counts) == sorted([f"reader{n}@example.net" for n in range(8)]
                                    + [f"person{n}@example.net" for n in range(6)])
    assert {address: count for address, count in counts.items() if count > 1} == {}
    # The first worker renewed its lease and sent the whole batch itself over its one connection.
    assert {item.session for item in smtp_sink.received} == {1}


def test_a_renewal_keeps_only_the_rows_still_held(app_factory) -> None:
    app = app_factory()
    with app.app_context():
        make_send([f"person{n}@example.net" for n in range(4)])
        with db.engine.connect() as first, db.engine.connect() as second:
            mine = claim(first, T0, 4, 60)
            first.commit()
            token = T0 + timedelta(seconds=60)
            ids = {row.id for row in mine}
            assert renew(first, mine, token, T0 + timedelta(seconds=90)) == ids
            assert renew(first, mine, token, T0 + timedelta(seconds=99)) == set()  # the old token holds nothing
            first.commit()
            # No renewal in time: when the lease ends a second worker takes two rows over.
            theirs = {row.id for row in claim(second, T0 + timedelta(seconds=91), 2, 60)}
            second.commit()
            token = T0 + timedelta(seconds=90)
            assert renew(first, mine, token, T0 + timedelta(seconds=120)) == ids - theirs
            token = T0 + timedelta(seconds=120)
            assert release(first, mine, T0 + timedelta(seconds=100), token) == 4
            first.commit()
        db.session.expire_all()
        rows = {row.id: (row.status, row.next_attempt_at) for row in db.session.scalars(select(Delivery))}
    assert {rows[row_id] for row_id in theirs} == {("sending", T0 + timedelta(seconds=151))}  # untouched
    assert {rows[row_id] for row_id in ids - theirs} == {("queued", T0 + timedelta(seconds=100))}


def test_the_worker_refuses_to_start_when_the_smtp_timeout_does_not_fit_its_lease(app_factory) -> None:
    app = app_factory(MAIL_BACKEND="smtp", SMTP_TIMEOUT=30, MAIL_WORKER_LEASE_SECONDS=60)
    result = app.test_cli_runner().invoke(args=["mail", "worker"])
    assert result.exit_code == 1
    assert "MAIL_WORKER_LEASE_SECONDS (60 s) must be at least 4 times SMTP_TIMEOUT (30 s)" in result.output
    app = app_factory(MAIL_BACKEND="smtp", SMTP_TIMEOUT=120, MAIL_WORKER_LEASE_SECONDS=600)
    with pytest.raises(ValueError, match="the outbox's lease"):
        Settings.from_config(app.config)


def test_an_outbox_batch_that_outlasts_its_lease_is_never_sent_twice(app_factory, smtp_sink: SmtpSink,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The outbox's lease (5 minutes) shortened to 2 s: twelve emails at 0.2 s each outlast it; a sweeper
    running meanwhile finds nothing to take over."""
    monkeypatch.setattr(mail, "LEASE", timedelta(seconds=2))
    smtp_sink.data_delay = 0.2
    app = app_factory(**smtp_sink.app_config(SMTP_TIMEOUT=0.5))
    addresses = [f"reader{n}@example.net" for n in range(12)]
    with app.app_context():
        for n, address in enumerate(addresses):
            queue(f"inquiry:{n}:confirmation", to=address)
        db.session.commit()

    def deliver() -> None:
        with app.app_context():
            mail.deliver_due(utcnow(), limit=50)

    first = threading.Thread(target=deliver, daemon=True)
    first.start()
    while first.is_alive():  # the sweeper: looks every 0.1 s for an email whose lease has ended
        deliver()
        time.sleep(0.1)
    counts = received_counts(smtp_sink)
    assert sorted(counts) == sorted(addresses) and set(counts.values()) == {1}
