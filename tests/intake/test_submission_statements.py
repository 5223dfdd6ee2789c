"""A public form's submission writes its rows whole (issue 19, P4): no row is inserted and then
updated in the same request, and the outbox row and the new contact come back from their INSERT."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import event, select

from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Contact
from inquiry_desk.inquiries.models import Inquiry, Message

from ..conftest import is_postgres
from ..helpers import inquiry_form_data


@pytest.fixture
def statements(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", note)
    yield seen
    event.remove(db.engine, "before_cursor_execute", note)


def test_a_submission_inserts_its_rows_whole(app: Flask, client, statements: list[str]) -> None:
    assert client.get("/en/inquiry").status_code == 200
    statements.clear()
    response = client.post("/en/inquiry", data=inquiry_form_data(phone="+1 902 555 0100"))
    assert response.status_code == 302
    # What the request wrote before its commit (the test app then delivers the confirmation at once).
    written = list(statements)[:next(n for n, text in enumerate(statements) if "INTO fts_inquiries" in text)]
    updated = {match.group(1) for text in written if (match := re.match(r"UPDATE (\w+)", text))}
    if is_postgres():
        # Only the form's claim is completed by an UPDATE (it is inserted first, to settle a double post);
        # the inquiry takes its id from the sequence first and goes out whole, reference and due times.
        assert updated == {"form_submissions"}, written
        assert not [text for text in written if text.startswith("SELECT outgoing_emails")], written
        assert sum(text.startswith("SELECT contacts") for text in written) == 1, written
        writes = [text.split(" (")[0] for text in written if text.startswith(("INSERT", "UPDATE"))]
        assert writes == ["INSERT INTO form_submissions", "INSERT INTO contacts", "INSERT INTO audit_events",
                          "INSERT INTO inquiries", "INSERT INTO messages", "INSERT INTO portal_links",
                          "INSERT INTO outgoing_emails",
                          "UPDATE form_submissions SET inquiry_id=%(inquiry_id)s::INTEGER WHERE form_submissions.id = "
                          "%(id_1)s::INTEGER"], writes
    else:  # SQLite allocates the id by inserting: the reference and due times follow in UPDATEs
        assert updated == {"form_submissions", "inquiries"}, written
    inquiry = db.session.scalars(select(Inquiry)).one()
    contact = db.session.scalars(select(Contact)).one()
    message = db.session.scalars(select(Message)).one()
    assert re.fullmatch(rf"INQ-\d{{4}}-{inquiry.id:06d}", inquiry.reference)
    assert inquiry.contact_id == contact.id == message.author_contact_id
    assert (contact.phone, contact.organisation_name) == ("+1 902 555 0100", "Community Sponsors of Halifax")
    assert inquiry.topic is not None and inquiry.topic.code == "private_sponsorship"
    assert inquiry.first_response_due_at is not None and inquiry.due_at == inquiry.first_response_due_at
    assert inquiry.resolution_due_at is not None and inquiry.version == 1
    with client.session_transaction() as session:
        assert session["sent_reference"] == inquiry.reference
