"""An upload of the same bytes racing the erasure of that file never ends with a row whose file is gone.

Each test puts the two steps in the order that lost the file before the file's lock (see
``inquiries.attachments``): the upload commits between the erasure's commit and its unlink; the
upload is still open when the erasure looks; the upload comes while the erasure holds the lock.
Threads stand for the other process; a short wait only gives a thread the time to reach its
lock, the outcome does not depend on it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from inquiry_desk.core import file_store
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import attachments, triage
from inquiry_desk.inquiries.attachments import Upload
from inquiry_desk.inquiries.models import Attachment, Message, Status
from inquiry_desk.inquiries.retention import purge_closed_inquiries

from ..attachment_files import PDF
from ..helpers import make_inquiry, make_user


@pytest.fixture
def app(app_factory: Callable[..., Flask], tmp_path: Path) -> Iterator[Flask]:
    app = app_factory(ATTACHMENTS_DIR=str(tmp_path / "files"), RETENTION_MONTHS=24)
    with app.app_context():
        yield app


def _message_with(data: bytes, *, email: str, received: datetime | None = None) -> int:
    inquiry = make_inquiry(email=email, now=received or utcnow())
    attachments.attach(inquiry.messages[0], [Upload("form.pdf", data)], now=received or utcnow())
    db.session.commit()
    return inquiry.messages[0].id


def _upload_in_thread(app: Flask, message_id: int, *, uploaded: threading.Event | None = None,
                      commit_after: float = 0.0) -> threading.Thread:
    """Another process's upload of PDF to the message: attached (its lock held), then committed."""
    def run() -> None:
        with app.app_context():
            attachments.attach(db.session.get_one(Message, message_id), [Upload("same.pdf", PDF)], now=utcnow())
            if uploaded is not None:
                uploaded.set()
            threading.Event().wait(commit_after)
            db.session.commit()
            db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _before_the_unlink(action: Callable[[], None]) -> Callable[[], None]:
    """Run ``action`` once, right after the next commit that erased files, before anything unlinks them."""
    def hook(session: Session) -> None:
        if session.info.get("attachments_to_unlink") and not done:
            done.append(True)
            action()

    done: list[bool] = []
    event.listen(Session, "after_commit", hook, insert=True)
    return lambda: event.remove(Session, "after_commit", hook)


def _kept_with_its_file(message_id: int) -> None:
    [row] = db.session.scalars(select(Attachment).where(Attachment.message_id == message_id)).all()
    assert row.sha256 == file_store.digest(PDF)
    assert file_store.read(row.sha256) == PDF


def test_an_upload_committed_between_the_purges_commit_and_its_unlink_keeps_its_file(app: Flask) -> None:
    long_ago = datetime(2023, 1, 10, tzinfo=UTC)
    old_message = _message_with(PDF, email="old@example.net", received=long_ago)
    old = db.session.get_one(Message, old_message).inquiry
    triage.set_status(old, Status.CLOSED, actor=make_user(), now=long_ago + timedelta(days=1))
    new_message = make_inquiry(email="new@example.net").messages[0].id
    db.session.commit()

    remove = _before_the_unlink(lambda: _upload_in_thread(app, new_message).join())
    try:
        assert purge_closed_inquiries(utcnow()) == 1
    finally:
        remove()

    assert db.session.scalars(select(Attachment).where(Attachment.message_id == old_message)).all() == []
    _kept_with_its_file(new_message)


def test_the_erasure_waits_for_an_upload_of_the_same_file_that_has_not_committed(app: Flask) -> None:
    erased = _message_with(PDF, email="erased@example.net")
    other = make_inquiry(email="other@example.net").messages[0].id
    db.session.commit()
    uploaded = threading.Event()
    threads: list[threading.Thread] = []

    def upload_left_open() -> None:
        threads.append(_upload_in_thread(app, other, uploaded=uploaded, commit_after=0.3))
        assert uploaded.wait(10)  # its rows are written and its lock held; it commits in a moment

    remove = _before_the_unlink(upload_left_open)
    try:
        attachments.erase_where(Attachment.message_id == erased, now=utcnow())
        db.session.commit()
    finally:
        remove()
        for thread in threads:
            thread.join()

    _kept_with_its_file(other)


def test_an_upload_while_the_erasure_holds_the_lock_writes_the_file_again(app: Flask) -> None:
    erased = _message_with(PDF, email="erased@example.net")
    other = make_inquiry(email="other@example.net").messages[0].id
    sha256 = file_store.digest(PDF)
    attachments.erase_where(Attachment.message_id == erased, now=utcnow())
    db.session.info.pop("attachments_to_unlink")  # this test unlinks by hand, as unlink_unless_kept does
    db.session.commit()

    with db.engine.connect() as connection, connection.begin():
        attachments._hold_exclusive(connection, sha256)
        upload = _upload_in_thread(app, other)  # finds the file still there, unless it waits for the lock
        upload.join(0.3)
        file_store.unlink(sha256)
    upload.join()

    _kept_with_its_file(other)


def test_a_file_no_row_names_is_unlinked_and_one_still_named_is_kept(app: Flask) -> None:
    first = _message_with(PDF, email="first@example.net")
    second = _message_with(PDF, email="second@example.net")
    attachments.erase_where(Attachment.message_id == first, now=utcnow())
    db.session.commit()
    assert file_store.exists(file_store.digest(PDF))
    attachments.erase_where(Attachment.message_id == second, now=utcnow())
    db.session.commit()
    assert not file_store.exists(file_store.digest(PDF))
