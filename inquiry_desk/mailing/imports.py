"""CSV import of subscribers: checked and previewed first, then written all at once.

``preview`` stores the good lines of the file (``ImportBatch``) and its report: every line that
will be skipped, by number, with why (an invalid address or language, a repeat
within the file, someone already on the list, a suppressed address). Nothing
is a subscriber yet. ``run`` checks the good lines again against what may have
changed since (the suppression list, the list's members) and writes every good line in the caller's one
transaction: the whole file or, if anything fails, none of it. Each subscriber
gets a consent record (method ``import``, the lead who ran it, the consent
source given for the whole file).

Writes are set-based (a few INSERTs per 1,000 lines, never one object per line),
so that an import of 100,000 lines stays within a small factor of a bare bulk
insert (``bench/subscribers.py``).
"""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

from inquiry_desk.audit import services as audit
from inquiry_desk.core.domain import InvalidInput
from inquiry_desk.core.extensions import db
from inquiry_desk.core.i18n import LANGUAGES
from inquiry_desk.core.text import parse_email_key, parse_line
from inquiry_desk.directory.models import Contact
from inquiry_desk.mailing import suppression
from inquiry_desk.mailing.consent import CURRENT_VERSION
from inquiry_desk.mailing.models import (
    ConsentMethod,
    ConsentRecord,
    ImportBatch,
    MailingList,
    Subscription,
    SubscriptionStatus,
)
from inquiry_desk.mailing.services import ConsentSourceRequired

CHUNK = 1000
MAX_BYTES = 20 * 1024 * 1024
PROBLEMS_KEPT = 1000  # lines listed in the report; the counts cover every line


class BadFile(InvalidInput):
    code = "bad_import_file"
    default_message = _l("The file must be a CSV file in UTF-8 with an \"email\" column.")


class AlreadyImported(InvalidInput):
    code = "already_imported"
    default_message = _l("This file has already been imported.")


class Actor(Protocol):
    id: int


Progress = Callable[[int, int], None]

# Progress of the imports running in this process: {batch id: (done, total)}. The batch's
# status (running, done, failed) is in the database, for every process.
_progress: dict[int, tuple[int, int]] = {}
_progress_lock = threading.Lock()


def set_progress(batch_id: int, done: int, total: int) -> None:
    with _progress_lock:
        _progress[batch_id] = (done, total)


def progress_of(batch_id: int) -> tuple[int, int] | None:
    with _progress_lock:
        return _progress.get(batch_id)


@dataclass(frozen=True)
class Row:
    line: int
    email: str
    name: str
    language: str


@dataclass
class Checked:
    good: list[Row] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    lines: int = 0

    def skip(self, line: int, email: str, problem: str) -> None:
        self.counts[problem] = self.counts.get(problem, 0) + 1
        if len(self.problems) < PROBLEMS_KEPT:
            self.problems.append({"line": line, "email": email[:320], "problem": problem})

    def report(self) -> dict[str, Any]:
        return {"lines": self.lines, "good": len(self.good), "skipped": self.counts, "problems": self.problems}


def _read(content: str) -> Iterable[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(content))
    if not reader.fieldnames or "email" not in [name.strip().lower() for name in reader.fieldnames]:
        raise BadFile()
    reader.fieldnames = [name.strip().lower() for name in reader.fieldnames]
    for record in reader:
        yield reader.line_num, {key: (value or "") for key, value in record.items() if isinstance(key, str)}


def check(mailing_list: MailingList, content: str, *, default_language: str = "en") -> Checked:
    """Every line sorted into good or skipped (with why), against the file, the list and the suppressions."""
    checked = Checked()
    seen: set[str] = set()
    candidates: list[Row] = []
    try:
        for line, record in _read(content):
            checked.lines += 1
            raw = record.get("email", "").strip()
            try:
                email = parse_email_key(raw)
                name = parse_line(record.get("name", ""), max_length=200, required=False)
            except InvalidInput:
                checked.skip(line, raw, "invalid")
                continue
            language = (record.get("language") or default_language).strip().lower()
            if language not in LANGUAGES:
                checked.skip(line, raw, "invalid_language")
                continue
            if email in seen:
                checked.skip(line, raw, "duplicate")
                continue
            seen.add(email)
            candidates.append(Row(line, email, name, language))
    except csv.Error as exc:
        raise BadFile() from exc
    _against_the_database(mailing_list, candidates, checked)
    return checked


def _against_the_database(mailing_list: MailingList, candidates: list[Row], checked: Checked) -> None:
    """What may change between the preview and the import: the suppression list and the list's members."""
    suppressed = suppression.suppressed_among(row.email for row in candidates)
    on_list = _already_on_list(mailing_list, [row.email for row in candidates])
    for row in candidates:
        if row.email in suppressed:
            checked.skip(row.line, row.email, "suppressed")
        elif row.email in on_list:
            checked.skip(row.line, row.email, "already_on_list")
        else:
            checked.good.append(row)


def _already_on_list(mailing_list: MailingList, emails: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(emails), CHUNK):
        found.update(db.session.scalars(
            select(Contact.email).join(Subscription, Subscription.contact_id == Contact.id)
            .where(Subscription.list_id == mailing_list.id, Contact.email.in_(emails[start:start + CHUNK]))
        ))
    return found


def preview(mailing_list: MailingList, content: bytes, *, consent_source: str, actor: Actor | None,
            now: datetime) -> ImportBatch:
    """Check the file and keep it with its report; nothing else is written."""
    note = parse_line(consent_source, max_length=500, required=False)
    if not note:
        raise ConsentSourceRequired()
    if len(content) > MAX_BYTES:
        raise BadFile()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadFile() from exc
    if "\x00" in text:
        raise BadFile()
    checked = check(mailing_list, text)
    # Kept: the good lines as checked (JSON), so that the import re-checks only what can change.
    good = json.dumps([[row.line, row.email, row.name, row.language] for row in checked.good], ensure_ascii=False)
    batch = ImportBatch(list_id=mailing_list.id, created_by_id=actor.id if actor else None, created_at=now,
                        consent_note=note, content=good, report=checked.report())
    db.session.add(batch)
    db.session.flush()
    return batch


def start(batch: ImportBatch) -> None:
    """Mark the batch as running (the caller commits, then runs it): a second start is refused."""
    if batch.status != "previewed":
        raise AlreadyImported()
    batch.status = "running"


def run(batch: ImportBatch, *, actor: Actor | None, now: datetime) -> dict[str, Any]:
    """Import the previewed file: every good line (checked again), in the caller's one transaction."""
    if batch.imported_at is not None or batch.status in ("done", "failed"):
        raise AlreadyImported()
    mailing_list = db.session.get_one(MailingList, batch.list_id)
    previewed = batch.report
    checked = Checked(problems=list(previewed.get("problems", [])), counts=dict(previewed.get("skipped", {})),
                      lines=int(previewed.get("lines", 0)))
    _against_the_database(mailing_list, [Row(*values) for values in json.loads(batch.content)], checked)
    batch_id = batch.id
    write(mailing_list, checked.good, consent_note=batch.consent_note, actor=actor, now=now,
          progress=lambda done, total: set_progress(batch_id, done, total))
    batch.report = {**checked.report(), "imported": len(checked.good)}
    batch.imported_at = now
    batch.status = "done"
    batch.content = "[]"  # the lines are subscribers now; the file is not kept
    audit.record("mailing_list.imported", actor=actor, subject_type="mailing_list", subject_id=mailing_list.id,
                 details={"imported": len(checked.good), "skipped": checked.counts}, now=now)
    return batch.report


def write(mailing_list: MailingList, rows: list[Row], *, consent_note: str, actor: Actor | None,
          now: datetime, progress: Progress | None = None) -> None:
    """Contacts (new ones only), subscriptions and consent records for these checked rows, set-based."""
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        emails = [row.email for row in chunk]
        known = set(db.session.scalars(select(Contact.email).where(Contact.email.in_(emails))))
        new = [{"email": row.email, "name": row.name or row.email.split("@", 1)[0], "language": row.language,
                "created_at": now} for row in chunk if row.email not in known]
        if new:
            db.session.execute(insert(Contact), new)
        ids = {email: contact_id for email, contact_id in
               db.session.execute(select(Contact.email, Contact.id).where(Contact.email.in_(emails)))}
        db.session.execute(insert(Subscription), [
            {"list_id": mailing_list.id, "contact_id": ids[row.email], "status": SubscriptionStatus.SUBSCRIBED.value,
             "language": row.language, "created_at": now, "updated_at": now} for row in chunk
        ])
        subscriptions = db.session.execute(
            select(Subscription.id, Subscription.language)
            .where(Subscription.list_id == mailing_list.id,
                   Subscription.contact_id.in_([ids[row.email] for row in chunk]))
        ).all()
        db.session.execute(insert(ConsentRecord), [
            {"subscription_id": subscription_id, "given": True, "method": ConsentMethod.IMPORT.value, "at": now,
             "actor_id": actor.id if actor else None, "consent_version": CURRENT_VERSION, "consent_text": None,
             "language": language, "ip_address": None, "note": consent_note}
            for subscription_id, language in subscriptions
        ])
        if progress is not None:
            progress(start + len(chunk), len(rows))


def mark_failed(batch_id: int, error: str, *, now: datetime) -> None:
    """After a rollback: the batch failed and nothing of it was written."""
    batch = db.session.get(ImportBatch, batch_id)
    if batch is not None:
        batch.status = "failed"
        batch.error = error[:500]
        batch.imported_at = None
