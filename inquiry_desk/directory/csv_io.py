"""CSV files of organisations and contacts: the columns, reading (UTF-8 with or without BOM,
Excel-style quoting) and writing (a cell a spreadsheet would take for a formula is prefixed
with an apostrophe, which reading takes off again, so a round trip changes nothing).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from inquiry_desk.audit import services as audit
from inquiry_desk.core.domain import InvalidInput
from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Contact, Organisation

ORGANISATION_COLUMNS = ("name", "name_fr", "short_name", "kind", "status", "website", "country", "tags", "notes")
CONTACT_COLUMNS = ("email", "name", "phone", "title", "organisation", "language", "notes")
COLUMNS = {"organisations": ORGANISATION_COLUMNS, "contacts": CONTACT_COLUMNS}
REQUIRED = {"organisations": ("name", "kind"), "contacts": ("email", "name")}
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_CELL = 10_000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class UnreadableFile(InvalidInput):
    code = "unreadable_csv"
    default_message = _l("The file could not be read as CSV text in UTF-8.")


class WrongColumns(InvalidInput):
    code = "wrong_columns"

    def __init__(self, missing: Iterable[str], unknown: Iterable[str]) -> None:
        parts = []
        if missing:
            parts.append(str(_l("missing columns: %(names)s", names=", ".join(missing))))
        if unknown:
            parts.append(str(_l("unknown columns: %(names)s", names=", ".join(unknown))))
        super().__init__(str(_l("The first line must name the columns (%(problems)s).",
                                 problems="; ".join(parts))))


def decode(data: bytes) -> str:
    """Bytes of an uploaded file as text: UTF-8, a byte-order mark dropped; anything else refused."""
    if len(data) > MAX_FILE_BYTES:
        raise UnreadableFile(_l("The file is too large (at most 20 MB)."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile() from exc
    if "\x00" in text:
        raise UnreadableFile()
    return text


def read_rows(text: str, subject: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row; the header is checked first. Blank rows are skipped."""
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration as exc:
        raise WrongColumns(REQUIRED[subject], ()) from exc
    except csv.Error as exc:
        raise UnreadableFile() from exc
    header = [name.strip().lower() for name in header]
    missing = [name for name in REQUIRED[subject] if name not in header]
    unknown = [name for name in header if name not in COLUMNS[subject]]
    if missing or unknown or len(set(header)) != len(header):
        raise WrongColumns(missing, unknown)
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise UnreadableFile(_l("Line %(line)d could not be read as CSV.", line=line)) from exc
        if any(cell.strip() for cell in cells):
            row = {name: _untext(cells[index]) if index < len(cells) else "" for index, name in enumerate(header)}
            if len(cells) > len(header):
                row["__extra__"] = "x"
            yield line, row
        line = reader.line_num + 1


def _untext(cell: str) -> str:
    """A cell as written: the apostrophe that kept a formula-like value text is taken off."""
    if len(cell) > 1 and cell[0] == "'" and cell[1] in _FORMULA_START:
        return cell[1:]
    return cell


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in _FORMULA_START else text


def write_rows(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """CSV text, one line per row, with Excel-style quoting and CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def export_rows(subject: str, *, actor_id: int | None, now: datetime, page: int = 1_000) -> Iterator[list[object]]:
    """The header, then every organisation or contact (merged and erased ones left out), by id.

    Read a keyset page at a time in the session of whoever iterates (a streamed response
    outlives its request); audited as the first row leaves, committed on its own, as the
    inbox's export is (inquiries/exports.py).
    """
    audit.record("directory.exported", actor_id=actor_id, subject_type=f"{subject}_export", now=now)
    db.session.commit()
    yield list(COLUMNS[subject])
    after = 0
    while True:
        if subject == "contacts":
            contacts = db.session.scalars(
                select(Contact).where(Contact.id > after, Contact.merged_into_id.is_(None),
                                      Contact.erased_at.is_(None))
                .order_by(Contact.id).limit(page).options(selectinload(Contact.organisation))).all()
            if not contacts:
                return
            for contact in contacts:
                yield [contact.email, contact.name, contact.phone, contact.title,
                       contact.organisation.name if contact.organisation else "", contact.language, contact.notes]
            after = contacts[-1].id
            _forget(contacts)
        else:
            organisations = db.session.scalars(
                select(Organisation).where(Organisation.id > after, Organisation.merged_into_id.is_(None))
                .order_by(Organisation.id).limit(page).options(selectinload(Organisation.tag_rows))).all()
            if not organisations:
                return
            for organisation in organisations:
                yield [organisation.name, organisation.name_fr, organisation.short_name, organisation.kind,
                       organisation.status, organisation.website, organisation.country,
                       ", ".join(organisation.tags), organisation.notes]
            after = organisations[-1].id
            _forget(organisations)


def _forget(rows: Iterable[object]) -> None:
    """Let a page's rows go once written (a long export holds one page in memory)."""
    for row in rows:
        db.session.expunge(row)
