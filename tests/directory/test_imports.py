"""CSV import and export of organisations and contacts: every row checked, nothing written on an error,
all or nothing, round trips that change nothing, UTF-8 with or without BOM, Excel quoting, accents."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.directory import csv_io, imports, rules
from inquiry_desk.directory import services as directory
from inquiry_desk.directory.models import Contact, Organisation

from ..helpers import make_user


def _csv(header: list[str], rows: list[list[str]], bom: bool = False) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" if bom else "") + buffer.getvalue()


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _import(text: str, subject: str, actor=None) -> imports.Plan:
    plan = imports.check(text, subject)
    imports.apply(plan, actor=actor, now=utcnow())
    db.session.commit()
    return plan


def _export(subject: str) -> str:
    return "".join(csv_io.write_rows(csv_io.export_rows(subject, actor_id=None, now=utcnow())))


BAD_KINDS = [
    ("email", "not-an-address"),
    ("email", "two@@example.org"),
    ("name", ""),
    ("language", "de"),
    ("organisation", "No Such Organisation"),
]


def test_ten_thousand_contacts_with_fifty_bad_rows_write_nothing_and_report_every_bad_row(app) -> None:
    directory.add_organisation(name="Aman Lara", kind="ngo", now=utcnow())
    db.session.commit()
    rows, bad = [], {}
    for number in range(10_000):
        row = [f"person{number}@example.org", f"Person {number}", "", "", "Aman Lara" if number % 3 else "", "fr", ""]
        if number % 200 == 7:  # 50 bad rows, of five kinds (and one duplicate within the file per kind)
            column, value = BAD_KINDS[(number // 200) % len(BAD_KINDS)]
            row[csv_io.CONTACT_COLUMNS.index(column)] = value
            bad[number + 2] = column
        rows.append(row)
    rows[9_999][0] = rows[0][0]  # a duplicate of line 2
    bad[10_001] = "email"
    before = _count(Contact)
    plan = imports.check(_csv(list(csv_io.CONTACT_COLUMNS), rows), "contacts")
    assert plan.total == 10_000 and not plan.ok
    assert {error.line: error.column for error in plan.errors} == bad
    assert len(bad) == 51
    assert all(error.message for error in plan.errors)
    with pytest.raises(rules.InvalidInput):
        imports.apply(plan, actor=None, now=utcnow())
    db.session.rollback()
    assert _count(Contact) == before


def test_an_import_is_all_or_nothing(app, monkeypatch) -> None:
    text = _csv(["email", "name"], [[f"p{n}@example.org", f"P {n}"] for n in range(2_500)])
    plan = imports.check(text, "contacts")
    calls = []

    def fail_half_way(done: int, total: int) -> None:
        calls.append(done)
        if done >= 2_000:
            raise RuntimeError("the process died")

    with pytest.raises(RuntimeError):
        imports.apply(plan, actor=None, now=utcnow(), progress=fail_half_way)
    db.session.rollback()
    assert _count(Contact) == 0 and calls == [1_000, 2_000]


def test_contacts_round_trip_changes_nothing(app) -> None:
    lead = make_user(role="lead")
    directory.add_organisation(name="Société d'accueil « Les Érables »", kind="settlement_partner", now=utcnow())
    db.session.commit()
    text = _csv(list(csv_io.CONTACT_COLUMNS), [
        ["élodie.brûlé@example.ca", "Élodie Brûlé", "+1 514 555 0101", "Coordonnatrice, accueil",
         "Société d'accueil « Les Érables »", "fr", 'Notes with "quotes", commas\nand a second line'],
        ["=cmd@example.org", "=1+2 formula-looking name", "", "", "", "en", "@SUM(A1)"],
        ["plain@example.org", "Plain Person", "", "", "", "en", ""],
    ], bom=True)
    plan = _import(text, "contacts", lead)
    assert len(plan.creates) == 3
    exported = _export("contacts")
    assert "Élodie Brûlé" in exported and "'=1+2" in exported
    contact = db.session.scalar(select(Contact).where(Contact.email == "élodie.brûlé@example.ca"))
    assert contact.notes == 'Notes with "quotes", commas\nand a second line'
    formula = db.session.scalar(select(Contact.name).where(Contact.email == "=cmd@example.org"))
    assert formula == "=1+2 formula-looking name"
    again = imports.check(exported, "contacts")
    assert again.ok and again.creates == [] and again.updates == [] and again.unchanged == 3
    # Exported as bytes with a BOM (as Excel saves it), it reads the same.
    assert imports.check(csv_io.decode(("\ufeff" + exported).encode()), "contacts").unchanged == 3


def test_organisations_round_trip_changes_nothing(app) -> None:
    lead = make_user(role="lead")
    text = _csv(list(csv_io.ORGANISATION_COLUMNS), [
        ["Aman Lara", "Aman Lara", "AL", "ngo", "active", "https://amanlara.org", "Canada", "kabul, health", ""],
        ["Comité régional d'accueil", "Comité régional d'accueil", "", "settlement_partner", "prospective", "",
         "Canada", "Québec", "Réunions le mardi"],
    ])
    plan = _import(text, "organisations", lead)
    assert len(plan.creates) == 2
    organisation = directory.find_organisation_by_name("Aman Lara")
    assert organisation.tags == ["health", "kabul"] and organisation.status == "active"
    exported = _export("organisations")
    again = imports.check(exported, "organisations")
    assert again.ok and again.unchanged == 2 and not again.creates and not again.updates
    # A change is an update, not a new organisation.
    changed = exported.replace("Réunions le mardi", "Réunions le jeudi")
    plan = _import(changed, "organisations", lead)
    assert len(plan.updates) == 1 and _count(Organisation) == 2


def test_an_import_never_gives_trusted_status(app) -> None:
    text = _csv(["name", "kind", "status"], [["New Partner", "ngo", "trusted_referral_partner"],
                                             ["Other", "unknown_kind", "active"], ["Third", "ngo", "weird"]])
    plan = imports.check(text, "organisations")
    assert [(error.line, error.column) for error in plan.errors] == [(2, "status"), (3, "kind"), (4, "status")]


def test_existing_contacts_are_updated_by_address_in_any_case(app) -> None:
    _import(_csv(["email", "name"], [["Farida@Example.NET", "Farida"]]), "contacts")
    plan = _import(_csv(["email", "name", "phone"], [["farida@example.net", "Farida Rahimi", "555"]]), "contacts")
    assert len(plan.updates) == 1 and _count(Contact) == 1
    assert db.session.scalar(select(Contact.name)) == "Farida Rahimi"


@pytest.mark.parametrize("text", ["email,name,shoe_size\r\na@b.org,A,42\r\n", "name\r\nA\r\n", ""])
def test_wrong_columns_are_refused_before_any_row(app, text: str) -> None:
    with pytest.raises(rules.InvalidInput):
        imports.check(text, "contacts")


def test_a_file_that_is_not_utf8_is_refused(app) -> None:
    with pytest.raises(csv_io.UnreadableFile):
        csv_io.decode("email,name\r\né@example.org,Élodie\r\n".encode("latin-1"))


def test_progress_is_on_the_row_for_every_process_while_the_import_runs(app, monkeypatch) -> None:
    """Before, progress lived in the memory of the process running the import: another process saw 0.
    Now each step is committed on the import's row beside the import's own (open) transaction."""
    from inquiry_desk.directory.models import DirectoryImport

    size = 2_500
    text = _csv(["email", "name"], [[f"p{n}@example.org", f"Person {n}"] for n in range(size)])
    row = imports.record_upload("contacts", "people.csv", text, actor=None, now=utcnow())
    db.session.commit()
    seen: list[tuple[bool, int, int, int]] = []
    write = imports.ProgressRecorder.write

    def every_step(self, done: int, total: int, *, force: bool = False) -> bool:
        written = write(self, done, total, force=True)
        with db.engine.connect() as other:  # what another process reads: committed rows only
            shown = other.execute(select(DirectoryImport.progress_done, DirectoryImport.progress_total)
                                  .where(DirectoryImport.id == row.id)).one()
            contacts = other.execute(select(func.count()).select_from(Contact)).scalar_one()
        seen.append((written, shown.progress_done, shown.progress_total, contacts))
        return written

    monkeypatch.setattr(imports.ProgressRecorder, "write", every_step)
    imports.run(row, actor=None, now=utcnow())
    db.session.commit()
    checking = [step for step in seen[:3]]
    assert checking == [(True, 1_000, 2 * size, 0), (True, 2_000, 2 * size, 0), (True, size, 2 * size, 0)]
    written = [(done, total) for ok, done, total, contacts in seen[3:] if ok]
    assert all(contacts == 0 for *_, contacts in seen)  # nothing of the import is seen before its commit
    if db.engine.dialect.name == "postgresql":
        assert written == [(size + 1_000, 2 * size), (size + 2_000, 2 * size), (2 * size, 2 * size)]
    else:  # SQLite's one write lock is the import's until it commits: those steps are skipped, not waited for
        assert written == []
    db.session.expire_all()
    finished = db.session.get(DirectoryImport, row.id)
    assert (finished.status, finished.progress_done, finished.progress_total) == ("done", 2 * size, 2 * size)
    assert _count(Contact) == size
