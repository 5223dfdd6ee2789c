"""`flask directory import FILE` and `flask directory export`."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Contact


def test_import_checks_then_imports_with_a_progress_bar(app, tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text("\ufeffemail,name,language\r\n" + "".join(f"p{n}@example.org,Zoë {n},fr\r\n" for n in range(1500)),
                    encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["directory", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "1500 contacts rows checked: 1500 to add" in result.output
    assert "Imported: 1500 added, 0 updated." in result.output
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 1500
    exported = tmp_path / "out.csv"
    result = runner.invoke(args=["directory", "export", "contacts", "-o", str(exported)])
    assert result.exit_code == 0, result.output
    assert "Zoë 1499" in exported.read_text(encoding="utf-8-sig")
    result = runner.invoke(args=["directory", "import", str(exported)])
    assert "1500 unchanged" in result.output


def test_import_with_bad_rows_reports_them_and_writes_nothing(app, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("email,name\r\nfine@example.org,Fine\r\nbroken,Broken\r\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["directory", "import", str(path)])
    assert result.exit_code != 0
    assert "line 3: email:" in result.output and "nothing was imported" in result.output
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 0
