"""Importing organisations and contacts from CSV: check every row, preview, then all or nothing.

``check`` reads the file and validates every row (syntax of each field, known kind, status and
language, duplicates within the file, and what already exists in the database) and returns a
``Plan``: the errors per line, and what would be created, updated or left as it is. Nothing is
written. ``apply`` checks again (the database may have changed since the preview) and writes
the plan in the caller's transaction, reporting progress as it goes; the caller commits once,
so an import is all or nothing. New contacts are written by bulk INSERT, in batches; updated
rows go through the ORM, so that a renamed contact's inquiries are re-indexed at commit.

Rules: one email address is one contact (compared in lower case); an organisation is
matched by its name (case-blind). A contact's ``organisation`` must name an organisation of
the directory; left empty, a verified domain of an organisation links it. An import may set
prospective, active or inactive, but never gives or takes trusted referral partner status:
that needs a lead and a reason, on the organisation's page. Verified domains are not part of
the file for the same reason.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import OperationalError

from inquiry_desk.audit import services as audit
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.domain import InvalidInput
from inquiry_desk.core.extensions import db
from inquiry_desk.directory import csv_io
from inquiry_desk.directory.models import (
    Contact,
    DirectoryImport,
    ImportStatus,
    Organisation,
    OrganisationDomain,
    OrganisationStatusChange,
    OrganisationTag,
    PartnershipStatus,
)
from inquiry_desk.directory.rules import (
    CONTACT_PARSERS,
    ORGANISATION_PARSERS,
    Actor,
    parse_status,
)

BATCH = 1_000
Progress = Callable[[int, int], None]
SUBJECTS = ("organisations", "contacts")


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str


@dataclass
class Plan:
    subject: str
    total: int = 0
    errors: list[RowError] = field(default_factory=list)
    creates: list[dict[str, Any]] = field(default_factory=list)
    updates: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (id, changed values)
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def error_lines(self) -> int:
        return len({error.line for error in self.errors})


def _parse_row(line: int, row: dict[str, str], parsers: dict[str, Any], plan: Plan) -> dict[str, Any] | None:
    values: dict[str, Any] = {}
    failed = False
    if "__extra__" in row:
        plan.errors.append(RowError(line, "", str(_l("This line has more cells than there are columns."))))
        failed = True
    for name, parse in parsers.items():
        if name not in row and name not in ("name", "kind", "email"):
            continue  # a column the file leaves out is left as it is
        try:
            if len(row.get(name, "")) > csv_io.MAX_CELL:
                raise InvalidInput(_l("This cell is too long."))
            values[name] = parse(row.get(name, ""))
        except InvalidInput as exc:
            plan.errors.append(RowError(line, name, exc.message))
            failed = True
    return None if failed else values


def _organisation_ids_by_name() -> dict[str, int]:
    rows = db.session.execute(select(Organisation.name, Organisation.id).where(Organisation.merged_into_id.is_(None))
                              .order_by(Organisation.id.desc())).all()
    return {name.casefold(): organisation_id for name, organisation_id in rows}


def check(text: str, subject: str, *, progress: Progress | None = None) -> Plan:
    """Validate every row and plan the import; writes nothing. Raises csv_io errors for an unreadable file.

    ``progress(checked, rows)`` is called every ``BATCH`` rows checked, and once at the end.
    """
    plan = Plan(subject)
    rows = list(csv_io.read_rows(text, subject))
    plan.total = len(rows)

    def checked(count: int) -> None:
        if progress is not None and (count % BATCH == 0 or count == len(rows)):
            progress(count, len(rows))

    if subject == "contacts":
        _check_contacts(rows, plan, checked)
    else:
        _check_organisations(rows, plan, checked)
    plan.errors.sort(key=lambda error: error.line)
    return plan


def _check_contacts(rows: Sequence[tuple[int, dict[str, str]]], plan: Plan, checked: Callable[[int], None]) -> None:
    # Every name of the directory, but only when the file names organisations at all.
    organisations = _organisation_ids_by_name() if any(row.get("organisation", "").strip() for _, row in rows) \
        else {}
    seen: dict[str, int] = {}
    parsed: list[tuple[int, dict[str, Any]]] = []
    parsers = CONTACT_PARSERS
    for number, (line, row) in enumerate(rows, 1):
        checked(number)
        values = _parse_row(line, row, parsers, plan)
        organisation_name = row.get("organisation", "").strip()
        organisation_id = None
        if organisation_name:
            organisation_id = organisations.get(organisation_name.casefold())
            if organisation_id is None:
                plan.errors.append(RowError(line, "organisation", str(_l(
                    "No organisation of the directory has this name: add it first, or leave the cell empty."))))
                values = None
        if values is None:
            continue
        email = values["email"]
        if email in seen:
            plan.errors.append(RowError(line, "email", str(_l(
                "This address is already on line %(line)d: one address is one contact.", line=seen[email]))))
            continue
        seen[email] = line
        if "organisation" in row:
            values["organisation_id"] = organisation_id
        parsed.append((line, values))
    if plan.errors:
        return
    existing = _existing_contacts([values["email"] for _, values in parsed])
    domains = _verified_domains()
    for _, values in parsed:
        current = existing.get(values["email"])
        if current is None:
            if values.get("organisation_id") is None:
                values["organisation_id"] = _organisation_for(values["email"], domains)
            plan.creates.append(values)
            continue
        changed = {name: value for name, value in values.items() if getattr(current, name) != value}
        if changed:
            plan.updates.append((current.id, changed))
        else:
            plan.unchanged += 1


def _existing_contacts(emails: Sequence[str]) -> dict[str, Contact]:
    found: dict[str, Contact] = {}
    for start in range(0, len(emails), BATCH):
        for contact in db.session.scalars(select(Contact).where(Contact.email.in_(emails[start:start + BATCH]))):
            found[contact.email] = contact
    return found


def _verified_domains() -> dict[str, tuple[int, bool]]:
    rows = db.session.execute(
        select(OrganisationDomain.domain, OrganisationDomain.organisation_id, OrganisationDomain.include_subdomains)
        .join(Organisation).where(OrganisationDomain.verified_at.is_not(None), Organisation.active.is_(True))).all()
    return {domain: (organisation_id, subdomains) for domain, organisation_id, subdomains in rows}


def _organisation_for(email: str, domains: dict[str, tuple[int, bool]]) -> int | None:
    if not domains:
        return None
    labels = email.rsplit("@", 1)[-1].split(".")
    for index in range(len(labels) - 1):
        entry = domains.get(".".join(labels[index:]))
        if entry is not None and (index == 0 or entry[1]):
            return entry[0]
    return None


def _check_organisations(rows: Sequence[tuple[int, dict[str, str]]], plan: Plan,
                         checked: Callable[[int], None]) -> None:
    parsers = {**ORGANISATION_PARSERS, "status": lambda value: parse_status(value or "prospective")}
    seen: dict[str, int] = {}
    parsed: list[tuple[int, dict[str, Any]]] = []
    for number, (line, row) in enumerate(rows, 1):
        checked(number)
        values = _parse_row(line, row, parsers, plan)
        if values is None:
            continue
        key = values["name"].casefold()
        if key in seen:
            plan.errors.append(RowError(line, "name", str(_l(
                "This organisation is already on line %(line)d.", line=seen[key]))))
            continue
        seen[key] = line
        parsed.append((line, values))
    existing_ids = _organisation_ids_by_name()
    existing = {organisation.id: organisation for organisation in db.session.scalars(
        select(Organisation).where(Organisation.id.in_([existing_ids[v["name"].casefold()] for _, v in parsed
                                                         if v["name"].casefold() in existing_ids] or [-1])))}
    trusted = PartnershipStatus.TRUSTED.value
    for line, values in parsed:
        organisation_id = existing_ids.get(values["name"].casefold())
        current = existing.get(organisation_id) if organisation_id else None
        status = values.get("status")
        before = current.status if current else None
        if status is not None and status != before and trusted in (status, before):
            plan.errors.append(RowError(line, "status", str(_l(
                "Trusted referral partner status is given or taken on the organisation's page, by a lead, "
                "with a reason; not by an import."))))
            continue
        if current is None:
            plan.creates.append(values)
            continue
        changed = {name: value for name, value in values.items()
                   if (current.tags if name == "tags" else getattr(current, name)) != value}
        if changed:
            plan.updates.append((current.id, changed))
        else:
            plan.unchanged += 1


# ------------------------------------------------------------------------------ writing


def apply(plan: Plan, *, actor: Actor | None, now: datetime, progress: Progress | None = None) -> None:
    """Write a checked plan in the caller's transaction (one commit by the caller: all or nothing)."""
    if not plan.ok:
        raise InvalidInput(_l("The file has errors: nothing was imported."))
    steps = len(plan.creates) + len(plan.updates)
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress(done, steps)

    if plan.subject == "contacts":
        _apply_contacts(plan, now, advance)
    else:
        _apply_organisations(plan, actor, now, advance)
    db.session.flush()
    audit.record("directory.imported", actor_id=actor.id if actor else None, subject_type=f"{plan.subject}_import",
                 details={"created": len(plan.creates), "updated": len(plan.updates), "unchanged": plan.unchanged},
                 now=now)


def _apply_contacts(plan: Plan, now: datetime, advance: Callable[[int], None]) -> None:
    defaults = {"phone": None, "title": None, "notes": None, "language": "en", "organisation_id": None,
                "active": True, "created_at": now, "updated_at": now}
    for start in range(0, len(plan.creates), BATCH):
        batch = [{**defaults, **values} for values in plan.creates[start:start + BATCH]]
        db.session.execute(insert(Contact), batch)
        advance(len(batch))
    for start in range(0, len(plan.updates), BATCH):
        updates = plan.updates[start:start + BATCH]
        contacts = {contact.id: contact for contact in db.session.scalars(
            select(Contact).where(Contact.id.in_([contact_id for contact_id, _ in updates])))}
        for contact_id, changed in updates:
            contact = contacts[contact_id]
            for name, value in changed.items():
                setattr(contact, name, value)
            contact.updated_at = now
        db.session.flush()
        advance(len(updates))


def _apply_organisations(plan: Plan, actor: Actor | None, now: datetime, advance: Callable[[int], None]) -> None:
    actor_id = actor.id if actor else None
    for start in range(0, len(plan.creates), BATCH):
        batch = plan.creates[start:start + BATCH]
        for values in batch:
            organisation = Organisation(**{name: value for name, value in values.items() if name != "tags"},
                                        status_changed_at=now, created_at=now, updated_at=now)
            organisation.status = values.get("status") or PartnershipStatus.PROSPECTIVE.value
            organisation.tag_rows = [OrganisationTag(tag=tag) for tag in values.get("tags", [])]
            db.session.add(organisation)
            db.session.flush()
            db.session.add(OrganisationStatusChange(organisation_id=organisation.id, status_before=None,
                                                    status_after=organisation.status, actor_id=actor_id, at=now,
                                                    reason="CSV import"))
        db.session.flush()
        advance(len(batch))
    for organisation_id, changed in plan.updates:
        current = db.session.get(Organisation, organisation_id)
        assert current is not None
        for name, value in changed.items():
            if name == "tags":
                current.tag_rows = [OrganisationTag(tag=tag) for tag in value]
            elif name == "status":
                db.session.add(OrganisationStatusChange(organisation_id=current.id,
                                                        status_before=current.status, status_after=value,
                                                        actor_id=actor_id, at=now, reason="CSV import"))
                current.status = value
                current.status_changed_at = now
            else:
                setattr(current, name, value)
        current.updated_at = now
        advance(1)


# ------------------------------------------------------------------------------ the import's record and progress


class ProgressRecorder:
    """Writes a running import's progress on its row, so that every web process can show it.

    The import itself is one transaction that nobody sees until it commits, so the progress
    is written beside it: on a connection of its own, in a short transaction per write, at
    most every ``interval`` seconds (and always the last step of each phase). The import's
    own transaction leaves its row alone until the end (``run``), so these writes never wait
    for it on PostgreSQL. A write that would wait for a lock is skipped, never waited for:
    SQLite has one writer, and the import's transaction holds it from its first insert to its
    commit; there the bar follows the check of every row, then jumps to the end when the
    writes (a fraction of a second per 10,000 rows) are committed.

    Steps: the rows checked, then the rows written; ``total`` is the rows of the file plus the
    rows the check found to create or update (every row, until the check has ended).
    """

    def __init__(self, import_id: int, *, interval: float = 0.2) -> None:
        self.import_id = import_id
        self.interval = interval
        self.checked_rows = 0
        self.last = 0.0

    def checking(self, done: int, rows: int) -> None:
        self.checked_rows = rows
        self.write(done, rows * 2, force=done == rows)

    def writing(self, done: int, steps: int) -> None:
        self.write(self.checked_rows + done, self.checked_rows + steps, force=done == steps)

    def write(self, done: int, total: int, *, force: bool = False) -> bool:
        moment = time.monotonic()
        if not force and moment - self.last < self.interval:
            return False
        self.last = moment
        statement = (update(DirectoryImport).where(DirectoryImport.id == self.import_id)
                     .values(progress_done=done, progress_total=total, progress_at=utcnow()))
        try:
            with db.engine.connect() as connection:
                sqlite = connection.dialect.name == "sqlite"
                if sqlite:
                    connection.exec_driver_sql("PRAGMA busy_timeout=0")
                else:
                    connection.exec_driver_sql("SET LOCAL lock_timeout = '100ms'")
                try:
                    connection.execute(statement)
                    connection.commit()
                finally:
                    if sqlite:
                        connection.rollback()
                        connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        except OperationalError:
            return False  # the database's write lock is the import's: this step is not shown
        return True


SQLITE_BUSY_MS = 10_000  # as core.database sets on every SQLite connection


def record_upload(subject: str, filename: str | None, text: str, *, actor: Actor | None,
                  now: datetime) -> DirectoryImport:
    """Keep an uploaded file until it is imported. Files left unimported for a day are forgotten here,
    since they hold personal details nobody uses."""
    if subject not in SUBJECTS:
        raise InvalidInput()
    db.session.execute(delete(DirectoryImport).where(DirectoryImport.status == ImportStatus.PREVIEWED.value,
                                                     DirectoryImport.created_at < now - timedelta(days=1)))
    filename = re.sub(r"[\x00-\x1f\x7f-\x9f]", "", filename or "")[:200] or None  # shown on the page, nothing more
    row = DirectoryImport(subject=subject, filename=filename, content=text,
                          status=ImportStatus.PREVIEWED.value, actor_id=actor.id if actor else None, created_at=now)
    db.session.add(row)
    db.session.flush()
    return row


def run(row: DirectoryImport, *, actor: Actor | None, now: datetime) -> Plan:
    """Check and apply a recorded upload, marking the row done; the caller commits (all or nothing).

    The progress is written on the row as it goes (``ProgressRecorder``), so the row itself is
    changed in this transaction only once every row is written.
    """
    recorder = ProgressRecorder(row.id)
    plan = check(row.content, row.subject, progress=recorder.checking)
    apply(plan, actor=actor, now=now, progress=recorder.writing)
    row.total = len(plan.creates) + len(plan.updates)
    row.status = ImportStatus.DONE.value
    row.created, row.updated = len(plan.creates), len(plan.updates)
    row.progress_done = row.progress_total = plan.total + row.total
    row.content = ""
    row.finished_at = now
    return plan


def mark_failed(import_id: int, error: str, *, now: datetime) -> None:
    row = db.session.get(DirectoryImport, import_id)
    if row is not None:
        row.status = ImportStatus.FAILED.value
        row.content = ""  # nothing was imported; the file is not kept
        row.error = error[:500]
        row.finished_at = now


def count_contacts() -> int:
    return int(db.session.scalar(select(func.count()).select_from(Contact)) or 0)
