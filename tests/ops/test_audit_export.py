"""The audit log's CSV export through gunicorn (issue 12): streamed in chunks, every entry once, in words,
and the export itself in the audit log. The page is served by the same server."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from inquiry_desk.audit import services as audit
from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db

from ..helpers import PASSWORD, current_code, make_user
from .gunicorn_server import Running, Visitor, serve

ENTRIES = 1_200  # more than two of the export's keyset pages (500)


@pytest.fixture
def server(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Running]:
    env = {"RATELIMIT_ENABLED": "0", "SESSION_COOKIE_SECURE": "0"}
    with serve(database_url, tmp_path, workers=1, env=env) as running:
        yield running


def test_the_export_streams_every_entry_once_and_is_audited(app: Flask, server: Running) -> None:
    admin = make_user(role="admin", name="Ana Lima")
    officer = make_user(role="officer", name="Omar Haddad")
    start = utcnow() - timedelta(hours=2)
    for number in range(ENTRIES):
        audit.record("inquiry.viewed", actor=officer, subject_type="inquiry", subject_id=number + 1,
                     now=start + timedelta(seconds=number // 2))  # pairs share a time: the keyset still holds
    db.session.commit()
    visitor = Visitor(server)
    status, _, _ = visitor.post("/auth/login", {"email": admin.email, "password": PASSWORD}, page_path="/auth/login")
    assert status == 302
    status, _, _ = visitor.post("/auth/second-factor", {"code": current_code(admin)}, page_path="/auth/second-factor")
    assert status == 302
    status, page, _ = visitor.get(f"/staff/admin/audit?actor={officer.id}")
    assert status == 200 and "Omar Haddad" in page and "Opened an inquiry" in page

    connection = server.connection(timeout=30)
    connection.request("GET", f"/staff/admin/audit/export.csv?actor={officer.id}&action=inquiry.viewed",
                       headers={"Cookie": "; ".join(f"{k}={v}" for k, v in visitor.cookies.items())})
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type", "").startswith("text/csv")
    assert response.getheader("Transfer-Encoding") == "chunked"  # streamed, not built in memory
    assert "attachment" in (response.getheader("Content-Disposition") or "")
    body = response.read().decode()
    connection.close()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:4] == ["id", "at", "actor", "action"]
    ids = [int(row[0]) for row in rows[1:]]
    assert len(ids) == ENTRIES and len(set(ids)) == ENTRIES
    assert {(row[2], row[3]) for row in rows[1:]} == {("Omar Haddad", "Opened an inquiry")}
    db.session.rollback()
    exported = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "audit_log.exported")).all()
    assert [(event.actor_id, event.details["filters"]) for event in exported] == [
        (admin.id, {"actor": str(officer.id), "action": "inquiry.viewed"})]
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.actor_id == officer.id)) == ENTRIES
