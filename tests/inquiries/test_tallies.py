"""Queue counts from the tally rows the database keeps (issue 19): right after every kind of change.

Each step compares ``queue_counts`` with each queue counted the slow way, over its own list query.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, text, update

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import protection, queues, tallies, triage
from inquiry_desk.inquiries.models import Inquiry

from ..conftest import is_postgres
from ..helpers import edit, make_inquiry, make_user


def _counted_slowly(actor, now) -> dict[str, int]:
    return {queue: queues._capped_count(queues._base_query(queue, queues.Filters(), "received", actor, now))
            for queue in queues.QUEUES}


def _check(actor, now=None) -> dict[str, int]:
    now = now or utcnow()
    counts = queues.queue_counts(actor, now)
    assert counts == _counted_slowly(actor, now)
    return counts


def test_counts_follow_every_change_that_moves_an_inquiry(app) -> None:
    officer, lead = make_user(role="officer"), make_user(role="lead")
    now = utcnow()
    made = [make_inquiry(email=f"t{min(n, 4)}@example.org", now=now - timedelta(hours=n)) for n in range(6)]
    assert _check(officer)["new"] == 6
    triage.assign(made[0], officer, actor=officer, now=now)
    triage.assign(made[1], lead, actor=lead, now=now)
    db.session.commit()
    assert _check(officer)["mine"] == 1 and _check(lead)["mine"] == 1
    triage.set_status(made[2], "waiting", actor=officer, now=now)
    triage.set_status(made[3], "resolved", actor=officer, now=now)
    db.session.commit()
    counts = _check(officer)
    assert counts["waiting"] == 1 and counts["resolved"] == 1
    triage.assign(made[0], None, actor=officer, now=now)  # back to the queue
    protection.restrict(made[4], "Safety of the family", actor=officer, now=now)  # moves nothing
    db.session.commit()
    assert _check(officer)["mine"] == 0
    triage.merge(made[5], made[4], actor=lead, now=now)  # the duplicate is closed
    db.session.commit()
    assert _check(officer)["all"] == 6
    edit(made[2], due_at=now - timedelta(hours=1))
    edit(made[1], due_at=now + timedelta(minutes=20))
    db.session.commit()
    counts = _check(officer, now)
    assert counts["overdue"] >= 1 and counts["due_soon"] >= 1
    assert _check(officer, now + timedelta(days=30))["due_soon"] == 0  # the clock moves the due queues
    # Bulk statements and deletes bypass the ORM: the triggers still see them.
    db.session.execute(update(Inquiry).where(Inquiry.id == made[3].id).values(status="closed", assignee_id=lead.id))
    db.session.delete(made[0])
    db.session.commit()
    assert _check(lead)["all"] == 5


def test_a_rolled_back_change_leaves_the_counts_as_they_were(app) -> None:
    officer = make_user(role="officer")
    inquiry = make_inquiry()
    triage.set_status(inquiry, "waiting", actor=officer, now=utcnow())
    db.session.flush()
    db.session.rollback()
    assert _check(officer)["waiting"] == 0


def test_compact_and_recount_keep_the_figures(app) -> None:
    officer = make_user(role="officer")
    made = [make_inquiry(email=f"c{n}@example.org") for n in range(4)]
    triage.assign(made[0], officer, actor=officer, now=utcnow())
    triage.set_status(made[1], "resolved", actor=officer, now=utcnow())
    db.session.commit()
    before = _check(officer)
    rows = db.session.scalar(select(func.count()).select_from(tallies.QueueTally))
    assert tallies.compact() == rows
    db.session.commit()
    assert _check(officer) == before
    assert db.session.scalar(select(func.count()).select_from(tallies.QueueTally)) == 3  # one row per cell
    db.session.execute(text("DELETE FROM queue_tallies"))  # as after a restore with the triggers off
    tallies.recount()
    db.session.commit()
    assert _check(officer) == before


def test_counts_are_capped(app, monkeypatch) -> None:
    officer = make_user(role="officer")
    for n in range(5):
        make_inquiry(email=f"p{n}@example.org")
    monkeypatch.setattr(queues, "COUNT_CAP", 3)
    counts = queues.queue_counts(officer, utcnow())
    assert counts["all"] == 4 and counts["new"] == 4  # shown as "3+"


@pytest.mark.skipif(not is_postgres(), reason="row locks are PostgreSQL's")
def test_writers_never_wait_on_each_other_for_the_counts(app) -> None:
    """Two transactions that move two inquiries between the same queues both go through at once."""
    first, second = make_inquiry(email="w1@example.org"), make_inquiry(email="w2@example.org")
    engine = create_engine(db.engine.url)
    try:
        with engine.connect() as one, engine.connect() as two:
            for connection, inquiry in ((one, first), (two, second)):
                connection.execute(text("SET lock_timeout = '2s'"))
                connection.execute(update(Inquiry).where(Inquiry.id == inquiry.id).values(status="waiting"))
            one.commit()
            two.commit()
    finally:
        engine.dispose()
    db.session.expire_all()
    assert _check(make_user(role="officer"))["waiting"] == 2
