"""Files that come with a message: checked, kept in the file store, listed, served, erased.

Every way in (email in, the public form, the portal, a staff reply) hands ``Upload``s to
``check`` and ``attach``. A file is taken when its content is of an accepted type
(``core.file_types``, whatever its name says), not empty, within ``ATTACHMENTS_MAX_FILE_BYTES``,
and the message's files stay within ``ATTACHMENTS_MAX_FILES`` and ``ATTACHMENTS_MAX_MESSAGE_BYTES``.
A form refuses the whole post with a message per file (``AttachmentsRefused``) so the person
can fix it; email cannot be asked again, so there the files refused are kept as rows without
content, with their reason, shown in the thread (and ``inquiry.attachment_refused`` in the history).

Only rows are deleted in the transaction: the files go after the commit (``after_commit``),
each only when no row names its hash any more (the same file sent to two inquiries stays
while one of them keeps it). A download is audited like an opening (``DOWNLOADED``).

One lock per file keeps an upload of the same bytes and an erasure apart (docs/decisions.md):
an upload holds it, shared, from before it looks for the file in the store until its commit;
the erasure takes it, exclusive, in a transaction of its own after its commit, and unlinks only
when no committed row names the file. On PostgreSQL it is an advisory lock keyed by the hash;
SQLite has one writer, so its write lock serves (an upload has written its rows before it
stores the file; the erasure takes the lock with a write that changes nothing).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, current_app
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Connection, delete, exists, or_, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, SessionTransaction

from inquiry_desk.accounts.models import User
from inquiry_desk.audit import services as audit
from inquiry_desk.core import file_store, file_types
from inquiry_desk.core.domain import InvalidInput
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import access
from inquiry_desk.inquiries.models import Attachment, Inquiry, Message, MessageKind
from inquiry_desk.mail.models import EmailStatus, OutgoingEmail

DOWNLOADED = access.ATTACHMENT_DOWNLOADED
DOWNLOADED_BY_STAKEHOLDER = "inquiry.attachment_downloaded_by_stakeholder"
REFUSED = "inquiry.attachment_refused"
REPLY_NOT_SENT = "inquiry.reply_not_sent_file_erased"
# The outbox's last_error of a reply held back that way (class and reason only, as every last_error).
NOT_SENT_ERROR = "AttachmentErased: a file the reply carries was erased before it left"
_UNLINK_KEY = "attachments_to_unlink"
# pg_advisory_xact_lock(_LOCK_SPACE, <32 bits of the hash>): the two-key form, a key space apart from
# the one-key locks of the scheduler's leader and the audit sealer.
_LOCK_SPACE = 1_717_017
# How long an erasure waits for an upload of the same file to commit before it leaves the file.
LOCK_TIMEOUT_MS = 10_000

log = logging.getLogger(__name__)

# Reason codes (stored in attachments.refused_reason) and what they say.
REFUSALS: dict[str, Any] = {
    "type": _l("This type of file is not accepted. Send a PDF, an image (PNG, JPEG, GIF, WebP), text, CSV, "
               "or a Word, Excel or OpenDocument file without macros."),
    "empty": _l("This file is empty."),
    "too_large": _l("This file is larger than %(limit)s."),
    "too_many": _l("Too many files: at most %(count)s with one message."),
    "message_too_large": _l("The files together are larger than %(limit)s."),
}


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes
    declared_type: str = ""


@dataclass(frozen=True)
class Checked:
    upload: Upload
    name: str  # cleaned, for display
    content_type: str | None  # the type found; None when refused
    reason: str | None  # a code of REFUSALS

    @property
    def message(self) -> str:
        return refusal_message(self.reason) if self.reason else ""


class AttachmentsRefused(InvalidInput):
    code = "attachments_refused"
    default_message = _l("Some files were not accepted.")

    def __init__(self, refused: list[Checked]) -> None:
        super().__init__()
        self.refused = refused


def megabytes(size: int) -> str:
    return _l("%(size)s MB", size=format_decimal(round(size / 1_000_000, 1)))


def file_size(size: int) -> str:
    """A size as people read it: kilobytes below a megabyte (at least 1), else megabytes to one decimal."""
    if size < 1_000_000:
        return str(_l("%(size)s KB", size=format_decimal(max(1, round(size / 1000)))))
    return str(megabytes(size))


def refusal_message(reason: str) -> str:
    config = current_app.config
    text = REFUSALS.get(reason, REFUSALS["type"])
    return str(text) % {"limit": file_size(config["ATTACHMENTS_MAX_FILE_BYTES"] if reason == "too_large"
                                          else config["ATTACHMENTS_MAX_MESSAGE_BYTES"]),
                        "count": config["ATTACHMENTS_MAX_FILES"]}


def check(uploads: Iterable[Upload]) -> list[Checked]:
    """Each file taken or refused with its reason, in order (see the module notes)."""
    config = current_app.config
    results: list[Checked] = []
    taken = total = 0
    for upload in uploads:
        content_type = None
        if taken >= config["ATTACHMENTS_MAX_FILES"]:
            reason: str | None = "too_many"
        elif not upload.data:
            reason = "empty"
        elif len(upload.data) > config["ATTACHMENTS_MAX_FILE_BYTES"]:
            reason = "too_large"
        elif total + len(upload.data) > config["ATTACHMENTS_MAX_MESSAGE_BYTES"]:
            reason = "message_too_large"
        else:
            content_type = file_types.sniff(upload.data, upload.filename)
            reason = None if content_type else "type"
        if reason is None:
            taken += 1
            total += len(upload.data)
        results.append(Checked(upload=upload, name=file_types.clean_name(upload.filename, content_type),
                               content_type=content_type, reason=reason))
    return results


def attach(message: Message, uploads: Sequence[Upload], *, now: datetime,
           keep_refused: bool = False) -> list[Attachment]:
    """Keep the files of ``message``. A form's files (``keep_refused=False``): all or nothing,
    ``AttachmentsRefused`` names each refused one. Email's: refused files kept as rows with
    their reason, and noted in the inquiry's history."""
    if not uploads:
        return []
    checked = check(uploads)
    refused = [item for item in checked if item.reason]
    if refused and not keep_refused:
        raise AttachmentsRefused(refused)
    rows = []
    for item in checked:
        sha256 = file_store.digest(item.upload.data) if item.reason is None else None
        rows.append(Attachment(
            inquiry_id=message.inquiry_id, message_id=message.id, filename=item.name,
            content_type=(item.content_type or item.upload.declared_type or "application/octet-stream")[:100],
            size=len(item.upload.data), sha256=sha256, refused_reason=item.reason, created_at=now))
    db.session.add_all(rows)
    db.session.flush()  # (SQLite) the write lock, held until the commit, before the store is looked at
    _hold_shared(db.session.connection(), {row.sha256 for row in rows if row.sha256})
    for item in checked:
        if item.reason is None:
            file_store.store(item.upload.data)  # written again if an erasure unlinked it a moment ago
    for row in rows:
        if row.refused_reason:
            audit.record(REFUSED, actor_id=None, subject_type="inquiry", subject_id=row.inquiry_id,
                         details={"attachment_id": row.id, "reason": row.refused_reason}, now=now)
    return rows


def of_messages(message_ids: Sequence[int]) -> dict[int, list[Attachment]]:
    """The attachments of these messages (taken and refused), by message, in the order received.
    (``Attachment.inquiry_id`` is where a file came in; a merge moves its message, so the thread
    and downloads go by the message.)"""
    found: dict[int, list[Attachment]] = {}
    if not message_ids:
        return found
    for row in db.session.scalars(select(Attachment).where(Attachment.message_id.in_(message_ids))
                                  .order_by(Attachment.id)):
        found.setdefault(row.message_id, []).append(row)
    return found


def outbox_references(rows: Sequence[Attachment]) -> list[dict[str, str]]:
    """What the outbox keeps of the files a reply carries: references to the file store, not bytes."""
    return [{"sha256": row.sha256, "filename": row.filename, "content_type": row.content_type}
            for row in rows if row.sha256]


# --- downloads --------------------------------------------------------------------------------------

def _downloadable(inquiry: Inquiry, attachment_id: int) -> Attachment | None:
    """The file when its message is in this inquiry now (a merge moves messages, and their files with them)."""
    row = db.session.get(Attachment, attachment_id) if 0 < attachment_id <= 2**31 - 1 else None
    if row is None or row.sha256 is None or not file_store.exists(row.sha256):
        return None
    message = db.session.get(Message, row.message_id)
    return row if message is not None and message.inquiry_id == inquiry.id else None


def for_staff(inquiry: Inquiry, attachment_id: int, *, actor: User, now: datetime) -> Attachment | None:
    """The file, audited as a reading; the caller has checked that the actor may open the inquiry."""
    row = _downloadable(inquiry, attachment_id)
    if row is not None:
        audit.record(DOWNLOADED, actor=actor, subject_type="inquiry", subject_id=inquiry.id,
                     details={"attachment_id": row.id}, now=now)
    return row


def for_stakeholder(inquiry: Inquiry, attachment_id: int, *, visible: Sequence[Message],
                    now: datetime) -> Attachment | None:
    """The file when it belongs to a message of the stakeholder's thread (``visible``: never a note's)."""
    row = _downloadable(inquiry, attachment_id)
    if row is None or row.message_id not in {message.id for message in visible}:
        return None
    audit.record(DOWNLOADED_BY_STAKEHOLDER, actor_id=None, subject_type="inquiry", subject_id=inquiry.id,
                 details={"attachment_id": row.id}, now=now)
    return row


# --- erasure ---------------------------------------------------------------------------------------

def erase_where(condition: ColumnElement[bool], *, now: datetime) -> int:
    """Delete the attachment rows matching ``condition``; their files go after the commit when no
    other row names them (``unlink_unless_kept``). A reply still waiting to leave with one of them
    is held back (``_hold_back_replies``). Returns how many rows."""
    erased = db.session.execute(select(Attachment.message_id, Attachment.sha256)
                                .where(condition, Attachment.sha256.is_not(None))).all()
    result = db.session.execute(delete(Attachment).where(condition).execution_options(synchronize_session=False))
    if erased:
        db.session.info.setdefault(_UNLINK_KEY, set()).update(sha256 for _, sha256 in erased)
        _hold_back_replies({message_id for message_id, _ in erased}, now)
    return int(getattr(result, "rowcount", 0) or 0)


def _hold_back_replies(message_ids: set[int], now: datetime) -> None:
    """A reply of these messages not sent yet would leave without the files its writer attached, and
    the stakeholder would be told of a file that is not there: it is marked failed instead, and the
    inquiry's history (and its thread) tells staff, who may send it again. A reply a sender holds at
    this moment is left to it: it has read the files already, or it finds one gone and fails it."""
    held = db.session.execute(
        select(OutgoingEmail.id, Message.id, Message.inquiry_id)
        .join(Message, Message.email_message_id == OutgoingEmail.message_id)
        .where(Message.id.in_(sorted(message_ids)), Message.kind == MessageKind.REPLY.value,
               OutgoingEmail.status == EmailStatus.PENDING.value,
               or_(OutgoingEmail.claimed_until.is_(None), OutgoingEmail.claimed_until < now))).all()
    if not held:
        return
    db.session.execute(update(OutgoingEmail).where(OutgoingEmail.id.in_([row[0] for row in held]))
                       .values(status=EmailStatus.FAILED.value, last_error=NOT_SENT_ERROR, claimed_until=None)
                       .execution_options(synchronize_session=False))
    for _, message_id, inquiry_id in held:
        audit.record(REPLY_NOT_SENT, actor_id=None, subject_type="inquiry", subject_id=inquiry_id,
                     details={"message_id": message_id}, now=now)


def replies_not_sent(events: Iterable[Any]) -> set[int]:
    """The replies of a thread held back because a file was erased, from the inquiry's history."""
    return {int((event.details or {}).get("message_id") or 0) for event in events if event.action == REPLY_NOT_SENT}


def in_inquiries(inquiry_ids: Sequence[int]) -> ColumnElement[bool]:
    """The files of these inquiries' messages: where they came in, or moved to by a merge."""
    return or_(Attachment.inquiry_id.in_(list(inquiry_ids)),
               Attachment.message_id.in_(select(Message.id).where(Message.inquiry_id.in_(list(inquiry_ids)))))


def erase_inquiries(inquiry_ids: Sequence[int], *, now: datetime) -> int:
    return erase_where(in_inquiries(inquiry_ids), now=now) if inquiry_ids else 0


# --- the lock of one file ----------------------------------------------------------------------

def _lock_key(sha256: str) -> int:
    return int(sha256[:8], 16) - 2**31  # a signed 32-bit int; two files sharing it only wait for each other


def _hold_shared(connection: Connection, hashes: set[str]) -> None:
    """An upload's hold on its files until its transaction ends (PostgreSQL; SQLite: its write lock).
    In order, so that two uploads never wait for each other's locks in a circle."""
    if connection.dialect.name != "postgresql":
        return
    for sha256 in sorted(hashes):
        connection.execute(text("SELECT pg_advisory_xact_lock_shared(:space, :key)"),
                           {"space": _LOCK_SPACE, "key": _lock_key(sha256)})


def _hold_exclusive(connection: Connection, sha256: str) -> None:
    """The erasure's hold on one file: it waits for the uploads of it that have not committed."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SET LOCAL lock_timeout = {int(LOCK_TIMEOUT_MS)}"))
        connection.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"),
                           {"space": _LOCK_SPACE, "key": _lock_key(sha256)})
    else:  # SQLite's write lock: a write that changes nothing takes it, as an upload's INSERT does
        connection.execute(delete(Attachment).where(Attachment.id < 0))


def unlink_unless_kept(sha256: str) -> bool:
    """Unlink the file unless a committed row names it, under its lock; True when unlinked.

    Run after the commit that deleted rows (in a transaction of its own): an upload of the same
    bytes that has not committed yet holds the lock, and this waits for it and then sees its row;
    an upload that comes later waits for this one and writes the file again."""
    try:
        with db.engine.connect() as connection, connection.begin():
            _hold_exclusive(connection, sha256)
            if connection.scalar(select(exists().where(Attachment.sha256 == sha256))):
                return False
            file_store.unlink(sha256)
            return True
    except SQLAlchemyError as exc:  # an upload held it too long, or the database is away: better kept than lost
        log.warning("an erased attachment's file was left in the store (%s)", type(exc).__name__)
        return False


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    for sha256 in sorted(session.info.pop(_UNLINK_KEY, set())):
        unlink_unless_kept(sha256)


def _after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_UNLINK_KEY, None)


_listening = False


def init(app: Flask) -> None:
    """The thread's helpers for templates; unlink files after the commit that deleted their last
    row (called by create_app)."""
    global _listening
    app.jinja_env.globals.update(file_size=file_size, attachment_refusal=refusal_message)
    if _listening:
        return
    _listening = True
    from sqlalchemy import event

    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_soft_rollback", _after_rollback)
