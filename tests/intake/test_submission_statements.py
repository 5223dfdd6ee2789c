"""A public form's submission writes its rows whole (issue 19, P4): no row is inserted and then
updated in the same request, and the outbox row and the contact come back from their INSERT. What
every submission reads alike (its topic, the trusted partners' domains, the spared networks) is
kept per process: a warm submission reads none of it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import event, select

from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Contact
from inquiry_desk.inquiries import search
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


def _written(statements: list[str]) -> list[str]:
    """What the request sent before its commit (the test app then delivers the confirmation at once)."""
    return list(statements)[:next(n for n, text in enumerate(statements) if "INTO fts_inquiries" in text)]


def _head(statement: str) -> str:
    """``INSERT INTO t``, ``UPDATE t``, ``SELECT … FROM t`` or the function a SELECT calls."""
    if statement.startswith(("INSERT", "UPDATE")):
        return statement.split(" (")[0].split(" SET ")[0]
    table = re.search(r" FROM (\w+)", statement)
    return f"SELECT {table.group(1)}" if table else statement.split("(")[0]


def test_a_submission_inserts_its_rows_whole(app: Flask, client, statements: list[str]) -> None:
    assert client.get("/en/inquiry").status_code == 200
    warm = client.post("/en/inquiry", data=inquiry_form_data(email="first@example.net"))  # reads what is kept
    assert warm.status_code == 302
    statements.clear()
    response = client.post("/en/inquiry", data=inquiry_form_data(phone="+1 902 555 0100"))
    assert response.status_code == 302
    written = _written(statements)
    updated = {match.group(1) for text in written if (match := re.match(r"UPDATE (\w+)", text))}
    if is_postgres():
        # Only the form's claim is completed by an UPDATE (it is inserted first, to settle a double post);
        # the inquiry's id comes from the sequence in the claim's RETURNING, and the inquiry goes out whole,
        # reference and due times. The calendar's version is read (another process's change to it counts at
        # once); topics, partners' domains and spared networks are not, nor is the contact looked up first.
        assert "RETURNING form_submissions.id, CAST(nextval(pg_get_serial_sequence(" in written[0], written
        assert [_head(text) for text in written] == [
            "INSERT INTO form_submissions", "INSERT INTO contacts", "SELECT team_calendar",
            "INSERT INTO audit_events", "INSERT INTO inquiries", "INSERT INTO messages", "INSERT INTO portal_links",
            "INSERT INTO outgoing_emails", "SELECT pg_notify",
            "UPDATE form_submissions"], written
        assert written[-1] == ("UPDATE form_submissions SET inquiry_id=%(made_inquiry_id)s::INTEGER "
                               "WHERE form_submissions.id = %(claim_id)s::INTEGER")
    else:  # SQLite allocates the id by inserting: the reference and due times follow in UPDATEs
        assert updated == {"form_submissions", "inquiries"}, written
        heads = [_head(text) for text in written]
        assert not {"SELECT topics", "SELECT contacts", "SELECT organisations", "SELECT organisation_domains",
                    "SELECT rate_limit_exempt_networks"} & set(heads), written
    contact = db.session.scalars(select(Contact).where(Contact.email == "farida@example.net")).one()
    inquiry = db.session.scalars(select(Inquiry).where(Inquiry.contact_id == contact.id)).one()
    message = db.session.scalars(select(Message).where(Message.inquiry_id == inquiry.id)).one()
    assert re.fullmatch(rf"INQ-\d{{4}}-{inquiry.id:06d}", inquiry.reference)
    assert inquiry.contact_id == contact.id == message.author_contact_id
    assert (contact.phone, contact.organisation_name) == ("+1 902 555 0100", "Community Sponsors of Halifax")
    assert inquiry.topic is not None and inquiry.topic.code == "private_sponsorship"
    assert inquiry.first_response_due_at is not None and inquiry.due_at == inquiry.first_response_due_at
    assert inquiry.resolution_due_at is not None and inquiry.version == 1
    with client.session_transaction() as session:
        assert session["sent_reference"] == inquiry.reference


def test_a_returning_sender_under_the_same_name_costs_one_upsert(app: Flask, client, statements: list[str]) -> None:
    assert client.post("/en/inquiry", data=inquiry_form_data(phone="+1 902 555 0100")).status_code == 302
    statements.clear()
    again = inquiry_form_data(phone="", organisation="", language="fr", subject="Second question")
    assert client.post("/en/inquiry", data=again).status_code == 302
    heads = [_head(text) for text in _written(statements)]
    assert heads.count("INSERT INTO contacts") == 1 and "SELECT contacts" not in heads, heads
    assert "UPDATE contacts" not in heads, heads
    contact = db.session.scalars(select(Contact)).one()
    # What they typed last is kept; what they left blank keeps what they gave before.
    assert (contact.name, contact.language) == ("Farida Rahimi", "fr")
    assert (contact.phone, contact.organisation_name) == ("+1 902 555 0100", "Community Sponsors of Halifax")
    assert len(db.session.scalars(select(Inquiry).where(Inquiry.contact_id == contact.id)).all()) == 2


def test_a_sender_who_gives_a_new_name_is_found_under_it(app: Flask, client, statements: list[str]) -> None:
    assert client.post("/en/inquiry", data=inquiry_form_data()).status_code == 302
    statements.clear()
    assert client.post("/en/inquiry", data=inquiry_form_data(name="Farida Noorzai")).status_code == 302
    heads = [_head(text) for text in statements]
    assert "SELECT contacts" in heads and "UPDATE contacts" in heads, heads  # the flush sees the rename
    contact = db.session.scalars(select(Contact)).one()
    assert contact.name == "Farida Noorzai"
    # Both inquiries' search documents follow the new name (the recorder re-indexes a renamed contact's).
    assert len(search.search_ids("Noorzai", limit=10)) == 2
    assert search.search_ids("Rahimi", limit=10) == []
