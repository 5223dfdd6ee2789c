"""Attachments: the type from the content (names lie), the limits, the file store, and their erasure
with the retention purge and a person's erasure (a file another inquiry keeps stays)."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core import file_store, file_types
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import attachments, correspondence, triage
from inquiry_desk.inquiries.attachments import Upload
from inquiry_desk.inquiries.models import Attachment, Status
from inquiry_desk.inquiries.retention import purge_closed_inquiries
from inquiry_desk.inquiries.stakeholders import person_data
from inquiry_desk.mail.builder import build_message
from inquiry_desk.mail.errors import AttachmentMissing
from inquiry_desk.mail.models import OutgoingEmail

from ..attachment_files import DOCM, DOCX, EXE, HTML, ODT, PDF, PLAIN_ZIP, PNG, SVG, TEXT
from ..helpers import edit, make_inquiry, make_user


@pytest.fixture
def app(app_factory: Callable[..., Flask], tmp_path: Path) -> Iterator[Flask]:
    app = app_factory(ATTACHMENTS_DIR=str(tmp_path / "files"), ATTACHMENTS_MAX_FILE_BYTES=1000,
                      ATTACHMENTS_MAX_MESSAGE_BYTES=1500, ATTACHMENTS_MAX_FILES=3, RETENTION_MONTHS=24)
    with app.app_context():
        yield app


def test_each_test_keeps_its_files_in_its_own_temporary_folder(app_factory: Callable[..., Flask],
                                                                tmp_path: Path) -> None:
    from config import TestingConfig

    assert Path(app_factory().config["ATTACHMENTS_DIR"]).is_relative_to(tmp_path)
    # An app built any other way in the run (or a process a test starts) uses pytest's folder too.
    assert "inquiry-desk-test-attachments" not in TestingConfig().ATTACHMENTS_DIR


@pytest.mark.parametrize(("data", "name", "expected"), [
    (PNG, "photo.png", "image/png"),
    (PNG, "invoice.pdf", "image/png"),  # the name lies: the content decides
    (PDF, "scan.jpg", "application/pdf"),
    (TEXT, "notes.txt", "text/plain"),
    (b"a;b\n1;2\n", "list.csv", "text/csv"),
    (DOCX, "letter.docx", file_types.DOCX),
    (ODT, "letter.docx", file_types.ODT),
    (EXE, "invoice.pdf", None),
    (HTML, "notes.txt", None),
    (SVG, "picture.png", None),
    (DOCM, "letter.docx", None),  # macros
    (PLAIN_ZIP, "letter.docx", None),  # a zip is not a document
    (b"", "empty.txt", None),
    (b"\x00\x01\x02binary", "data.txt", None),
])
def test_the_type_comes_from_the_content(data: bytes, name: str, expected: str | None) -> None:
    assert file_types.sniff(data, name) == expected


def test_names_are_cleaned_for_display_and_never_make_the_path(app: Flask) -> None:
    assert file_types.clean_name("../../etc/passwd", "text/plain") == "passwd.txt"
    assert file_types.clean_name("C:\\Users\\a\\report.pdf", "application/pdf") == "report.pdf"
    assert file_types.clean_name("photo.exe", "image/png") == "photo.exe.png"
    assert file_types.clean_name("\x00\x1b<b>.pdf", "application/pdf") == "b.pdf"
    assert file_types.clean_name("", "image/jpeg") == "attachment.jpg"
    assert len(file_types.clean_name("x" * 500 + ".pdf", "application/pdf")) == file_types.NAME_MAX
    sha256 = file_store.store(PNG)
    assert file_store.path_for(sha256).parent.parent.parent == file_store.root()
    with pytest.raises(ValueError):
        file_store.path_for("../../etc/passwd")


def test_the_store_keeps_one_file_per_content_written_whole(app: Flask) -> None:
    first = file_store.store(PDF)
    second = file_store.store(PDF)
    assert first == second == file_store.digest(PDF)
    folder = file_store.path_for(first).parent
    assert [path.name for path in folder.iterdir()] == [first]  # no temporary file left behind
    assert file_store.read(first) == PDF
    assert oct(os.stat(file_store.path_for(first)).st_mode & 0o777) == "0o640"


def test_limits_per_file_per_message_and_count(app: Flask) -> None:
    checked = attachments.check([
        Upload("a.png", PNG), Upload("big.txt", b"x" * 1001), Upload("b.txt", b"y" * 900),
        Upload("c.txt", b"z" * 700), Upload("e.txt", b""), Upload("d.pdf", PDF), Upload("f.png", PNG),
    ])
    assert [item.reason for item in checked] == [None, "too_large", None, "message_too_large", "empty", None,
                                                 "too_many"]
    assert checked[1].message.endswith("larger than 1 KB.")
    assert checked[3].message.endswith("larger than 2 KB.")
    assert "3" in checked[6].message


def test_email_keeps_refused_files_with_their_reason_and_notes_them(app: Flask) -> None:
    inquiry = make_inquiry()
    message = inquiry.messages[0]
    rows = attachments.attach(message, [Upload("invoice.pdf", EXE, "application/pdf"), Upload("scan.png", PNG)],
                              now=utcnow(), keep_refused=True)
    db.session.commit()
    assert [(row.filename, row.sha256 is None, row.refused_reason) for row in rows] == [
        ("invoice.pdf", True, "type"), ("scan.png", False, None)]
    noted = db.session.scalars(select(AuditEvent).where(AuditEvent.action == attachments.REFUSED)).all()
    assert [event.details for event in noted] == [{"attachment_id": rows[0].id, "reason": "type"}]


def test_a_form_refuses_all_or_nothing(app: Flask) -> None:
    inquiry = make_inquiry()
    with pytest.raises(attachments.AttachmentsRefused) as refused:
        attachments.attach(inquiry.messages[0], [Upload("ok.png", PNG), Upload("page.txt", HTML)], now=utcnow())
    assert [item.name for item in refused.value.refused] == ["page.txt"]
    db.session.rollback()
    assert db.session.scalars(select(Attachment)).all() == []


def test_a_reply_carries_its_files_as_mime_attachments_by_reference(app: Flask) -> None:
    officer = make_user()
    inquiry = make_inquiry()
    message = correspondence.send_reply(inquiry, "Here is the form.", actor=officer, now=utcnow(),
                                        files=[Upload("form.pdf", PDF), Upload("../photo.jpg", PNG)])
    db.session.commit()
    row = db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.message_id == message.email_message_id)).one()
    assert row.attachments == [
        {"sha256": file_store.digest(PDF), "filename": "form.pdf", "content_type": "application/pdf"},
        {"sha256": file_store.digest(PNG), "filename": "photo.jpg.png", "content_type": "image/png"}]
    built = build_message(row)
    parts = [(part.get_filename(), part.get_content_type(), part.get_content()) for part in built.iter_attachments()]
    assert parts == [("form.pdf", "application/pdf", PDF), ("photo.jpg.png", "image/png", PNG)]
    assert built.get_body(("plain",)).get_content().startswith("Here is the form.")


def test_an_email_whose_file_is_no_longer_stored_is_never_built_without_it(app: Flask) -> None:
    message = correspondence.send_reply(make_inquiry(), "Here is the form.", actor=make_user(), now=utcnow(),
                                        files=[Upload("form.pdf", PDF)])
    db.session.commit()
    row = db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.message_id == message.email_message_id)).one()
    file_store.unlink(file_store.digest(PDF))  # gone some other way than an erasure (a disk restored without it)
    with pytest.raises(AttachmentMissing):
        build_message(row)


def _closed_with_files(email: str, files: list[Upload], *, received: datetime) -> int:
    inquiry = make_inquiry(email=email, now=received)
    attachments.attach(inquiry.messages[0], files, now=received)
    officer = make_user()
    triage.set_status(inquiry, Status.CLOSED, actor=officer, now=received + timedelta(days=1))
    db.session.commit()
    return inquiry.id


def test_the_retention_purge_removes_rows_and_files_but_keeps_a_shared_file(app: Flask) -> None:
    long_ago = datetime(2023, 1, 10, tzinfo=UTC)
    old = _closed_with_files("old@example.net", [Upload("a.pdf", PDF), Upload("shared.png", PNG)], received=long_ago)
    kept = make_inquiry(email="kept@example.net")
    attachments.attach(kept.messages[0], [Upload("same.png", PNG)], now=utcnow())
    db.session.commit()

    assert purge_closed_inquiries(utcnow()) == 1

    assert db.session.scalars(select(Attachment).where(Attachment.inquiry_id == old)).all() == []
    assert not file_store.exists(file_store.digest(PDF))
    assert file_store.exists(file_store.digest(PNG))  # the kept inquiry has the same file


def test_a_rolled_back_purge_deletes_no_file(app: Flask) -> None:
    inquiry = make_inquiry()
    attachments.attach(inquiry.messages[0], [Upload("a.pdf", PDF)], now=utcnow())
    db.session.commit()
    attachments.erase_inquiries([inquiry.id], now=utcnow())
    db.session.rollback()
    assert file_store.exists(file_store.digest(PDF))
    db.session.commit()
    assert file_store.exists(file_store.digest(PDF))


def test_a_persons_erasure_removes_their_files(app: Flask) -> None:
    inquiry = make_inquiry(email="leaving@example.net")
    attachments.attach(inquiry.messages[0], [Upload("id.pdf", PDF)], now=utcnow())
    other = make_inquiry(email="other@example.net")
    attachments.attach(other.messages[0], [Upload("other.png", PNG)], now=utcnow())
    edit(inquiry, status=Status.OPEN.value)
    db.session.commit()
    lead = make_user(role="lead")
    archive = zipfile.ZipFile(io.BytesIO(person_data.export_archive(inquiry.contact, actor=lead, now=utcnow())))
    [row] = json.loads(archive.read("person.json"))["attachments"]
    assert row["filename"] == "id.pdf" and archive.read(row["in_archive"]) == PDF  # their files go with their data

    counts = person_data.erase(inquiry.contact, actor=lead, now=utcnow())
    db.session.commit()

    assert counts["attachments"] == 1
    assert not file_store.exists(file_store.digest(PDF))
    assert file_store.exists(file_store.digest(PNG))
    assert [row.inquiry_id for row in db.session.scalars(select(Attachment))] == [other.id]


def test_redacting_a_message_erases_its_files(app: Flask) -> None:
    from inquiry_desk.inquiries import protection

    inquiry = make_inquiry()
    attachments.attach(inquiry.messages[0], [Upload("medical.pdf", PDF)], now=utcnow())
    db.session.commit()
    lead = make_user(role="lead")
    protection.redact_message(inquiry.messages[0], "Health information sent by mistake", actor=lead, now=utcnow())
    db.session.commit()
    assert db.session.scalars(select(Attachment)).all() == []
    assert not file_store.exists(file_store.digest(PDF))
