"""`flask reports rollup --from DAY --to DAY`: rebuild the daily roll-up for a span of local days, on demand."""

from __future__ import annotations

from datetime import date, timedelta

import click
from flask import Flask
from flask.cli import AppGroup

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.reports import rollup

reports_cli = AppGroup("reports", help="Reports: the dashboard's daily roll-up.")


@reports_cli.command("rollup")
@click.option("--from", "first", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="The first local day (YYYY-MM-DD).")
@click.option("--to", "last", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="The last local day, included.")
def rollup_command(first: object, last: object) -> None:
    """Count the days from --from to --to (included) again; one commit per month of days."""
    start: date = first.date()  # type: ignore[attr-defined]
    end: date = last.date() + timedelta(days=1)  # type: ignore[attr-defined]
    if end <= start:
        raise click.BadParameter("--to is before --from")
    total = 0
    day = start
    while day < end:
        chunk_end = min(day + timedelta(days=rollup.CHUNK_DAYS), end)
        total += rollup.rebuild(day, chunk_end, utcnow())
        db.session.commit()
        day = chunk_end
    click.echo(f"rolled up {(end - start).days} days: {total} rows")


def init_app(app: Flask) -> None:
    app.cli.add_command(reports_cli)
