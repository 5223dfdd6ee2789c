"""The audit log is append-only in the database, and its hash chain shows tampering (issue 12)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from inquiry_desk.audit import chain
from inquiry_desk.audit import services as audit
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db

from ..conftest import is_postgres


def _entries(count: int) -> None:
    for number in range(count):
        audit.record("test.entry", subject_type="inquiry", subject_id=number, details={"n": number})
    db.session.commit()


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET action = 'tampered'", "DELETE FROM audit_events",
                                       "UPDATE audit_seals SET hash = 'x'", "DELETE FROM audit_seals"])
def test_the_database_refuses_to_change_the_log_or_its_seals(app, statement) -> None:
    _entries(2)
    chain.seal(utcnow())
    with db.engine.connect() as connection:
        with pytest.raises(Exception, match="append-only"):
            connection.execute(text(statement))
        connection.rollback()


def test_the_chain_is_intact_then_finds_a_row_changed_or_deleted_behind_its_back(app) -> None:
    _entries(5)
    assert chain.seal(utcnow()) == 5
    assert chain.seal(utcnow()) == 0  # sealed once
    _entries(2)
    assert chain.seal(utcnow(), batch=1) == 2
    assert list(chain.verify()) == []
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "intact" in result.output

    # Behind the application's back: the owner switches the guard off (PostgreSQL's replica mode
    # skips triggers; on SQLite the owner drops them), changes one entry and deletes another.
    with db.engine.begin() as connection:
        if is_postgres():
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            connection.execute(text("DROP TRIGGER audit_events_no_update"))
            connection.execute(text("DROP TRIGGER audit_events_no_delete"))
        connection.execute(text("UPDATE audit_events SET details = '{\"n\": 99}' WHERE id = 3"))
        connection.execute(text("DELETE FROM audit_events WHERE id = 6"))
    db.session.expire_all()
    found = [(found.event_id, found.problem) for found in chain.verify()]
    assert found == [(3, "changed"), (6, "missing")]
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "audit entry 3 changed" in result.output and "audit entry 6 missing" in result.output
