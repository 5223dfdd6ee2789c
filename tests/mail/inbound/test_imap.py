"""The IMAP job against a real Dovecot on loopback (TLS): stored, then moved; a crash between stores nothing twice."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.models import Inquiry
from inquiry_desk.jobs import registry
from inquiry_desk.mail.inbound import imap as imap_job
from inquiry_desk.mail.inbound.models import InboundEmail

from . import dovecot


@pytest.fixture
def imap(app) -> Iterator[dovecot.Imap]:
    with dovecot.running() as server:
        app.config.update(IMAP_HOST=server.host, IMAP_PORT=server.port, IMAP_USER=server.user,
                          IMAP_PASSWORD=server.password, IMAP_CA_FILE=server.ca_file,
                          IMAP_FOLDER="INBOX", IMAP_PROCESSED_FOLDER="Processed")
        yield server


def _client(server: dovecot.Imap):  # type: ignore[no-untyped-def]
    from imapclient import IMAPClient

    client = IMAPClient(server.host, port=server.port, ssl=True,
                        ssl_context=ssl.create_default_context(cafile=server.ca_file), timeout=10)
    client.login(server.user, server.password)
    return client


def _message(number: int) -> bytes:
    return (f"From: Sender {number} <sender{number}@example.com>\r\nTo: inquiries@example.org\r\n"
            f"Subject: Question {number} by IMAP\r\nMessage-ID: <imap-{number}@example.com>\r\n\r\n"
            f"Hello, this is question {number}, sent to the team's mailbox.\r\n").encode()


def _counts(server: dovecot.Imap) -> tuple[int, int]:
    client = _client(server)
    try:
        if not client.folder_exists("Processed"):
            client.create_folder("Processed")
        inbox = client.folder_status("INBOX", ["MESSAGES"])[b"MESSAGES"]
        processed = client.folder_status("Processed", ["MESSAGES"])[b"MESSAGES"]
        return int(inbox), int(processed)
    finally:
        client.logout()


def test_the_job_stores_each_message_then_moves_it(app, imap: dovecot.Imap) -> None:
    client = _client(imap)
    for number in range(3):
        client.append("INBOX", _message(number))
    client.logout()

    assert registry.imap_fetch(utcnow()).startswith("taken 3")
    assert db.session.scalar(select(func.count()).select_from(InboundEmail)) == 3
    assert db.session.scalar(select(func.count()).select_from(Inquiry).where(Inquiry.channel == "email")) == 3
    assert _counts(imap) == (0, 3)


def test_a_crash_after_storing_before_moving_stores_nothing_twice(app, imap: dovecot.Imap,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    client = _client(imap)
    client.append("INBOX", _message(7))
    client.logout()

    def crash(client: object, uid: int, folder: str) -> None:
        raise ConnectionResetError("the process died here")

    monkeypatch.setattr(imap_job, "move", crash)
    with pytest.raises(ConnectionResetError):
        imap_job.fetch(utcnow())
    assert db.session.scalar(select(func.count()).select_from(InboundEmail)) == 1  # committed before the move
    assert _counts(imap) == (1, 0)

    monkeypatch.undo()
    report = imap_job.fetch(utcnow())
    assert (report.taken, report.duplicates) == (0, 1)
    assert db.session.scalar(select(func.count()).select_from(InboundEmail)) == 1
    assert db.session.scalar(select(func.count()).select_from(Inquiry).where(Inquiry.channel == "email")) == 1
    assert _counts(imap) == (0, 1)
