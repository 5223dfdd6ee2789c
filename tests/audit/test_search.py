"""The audit log page's query (issue 12): each filter's first page is read from an index in the
page's order, so it costs the same on a log of any size (no sort of every matching entry)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from inquiry_desk.audit import services as audit
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db

from ..conftest import is_postgres
from ..helpers import make_user

QUERIES = {
    "ix_audit_events_at_id": audit.Query(),
    "ix_audit_events_actor_at": audit.Query(actor_ids=(1,)),
    "ix_audit_events_action_at": audit.Query(actions=("inquiry.viewed",)),
}


def _plan(statement) -> str:
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN" if is_postgres() else "EXPLAIN QUERY PLAN"
    with db.engine.begin() as connection:
        if is_postgres():  # a small table is read whole otherwise: ask which index gives the order
            connection.execute(text("ANALYZE audit_events"))  # this test's rows, not what earlier tests left
            connection.execute(text("SET LOCAL enable_seqscan = off"))
            connection.execute(text("SET LOCAL enable_sort = off"))
        return "\n".join(" ".join(str(cell) for cell in row)
                         for row in connection.execute(text(f"{prefix} {compiled}")))


@pytest.mark.parametrize("index", sorted(QUERIES))
def test_each_filter_reads_its_index_in_the_pages_order(app, index: str) -> None:
    user = make_user()
    for number in range(50):
        audit.record("inquiry.viewed" if number % 2 else "login.succeeded", actor=user, subject_type="inquiry",
                     subject_id=number, now=utcnow() - timedelta(minutes=number))
    db.session.commit()
    query = QUERIES[index]
    if query.actor_ids:
        query = audit.Query(actor_ids=(user.id,))
    before = audit.search(query, limit=10)[-1]
    for statement in (audit.search_statement(query, limit=101), audit.search_statement(query, limit=101,
                                                                                          before=before)):
        plan = _plan(statement)
        assert index in plan, plan
        assert "TEMP B-TREE" not in plan and "Sort " not in plan and "Sort\n" not in plan, plan
