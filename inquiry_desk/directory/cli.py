"""`flask directory import FILE` and `flask directory export`: the same checks and rules as the pages."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.domain import DomainError
from inquiry_desk.core.extensions import db
from inquiry_desk.directory import csv_io, imports

directory_cli = AppGroup("directory", help="Import and export the organisation directory as CSV.")
SUBJECT = click.Choice(list(imports.SUBJECTS))


def _guess_subject(text: str) -> str:
    header = text.lstrip("\ufeff").split("\n", 1)[0].lower()
    return "contacts" if "email" in header else "organisations"


@directory_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--subject", type=SUBJECT, default=None, help="What the file holds (guessed from its columns).")
@click.option("--check-only", is_flag=True, help="Check every row and report; write nothing.")
def import_command(file: Path, subject: str | None, check_only: bool) -> None:
    """Check every row of FILE, then import it in one transaction (all rows or none), with a progress bar."""
    try:
        text = csv_io.decode(file.read_bytes())
        subject = subject or _guess_subject(text)
        plan = imports.check(text, subject)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    for error in plan.errors:
        click.echo(f"line {error.line}: {error.column or '-'}: {error.message}", err=True)
    if plan.errors:
        raise click.ClickException(f"{plan.error_lines} of {plan.total} rows have errors: nothing was imported.")
    click.echo(f"{plan.total} {subject} rows checked: {len(plan.creates)} to add, {len(plan.updates)} to update, "
               f"{plan.unchanged} unchanged.")
    if check_only or not (plan.creates or plan.updates):
        return
    steps = len(plan.creates) + len(plan.updates)
    with click.progressbar(length=steps, label="Importing", file=sys.stderr) as bar:
        shown = 0

        def progress(done: int, total: int) -> None:
            nonlocal shown
            bar.update(done - shown)
            shown = done

        imports.apply(plan, actor=None, now=utcnow(), progress=progress)
        db.session.commit()
    click.echo(f"Imported: {len(plan.creates)} added, {len(plan.updates)} updated.")


@directory_cli.command("export")
@click.argument("subject", type=SUBJECT)
@click.option("--output", "-o", type=click.File("w", encoding="utf-8-sig", lazy=True), default="-",
              help="Where to write (standard output by default).")
def export_command(subject: str, output: Any) -> None:
    """Write every organisation or contact as CSV (UTF-8 with a byte-order mark, for Excel)."""
    for chunk in csv_io.write_rows(csv_io.export_rows(subject, actor_id=None, now=utcnow())):
        output.write(chunk)


def init_app(app: Flask) -> None:
    app.cli.add_command(directory_cli)
