"""The daily roll-up agrees with the live query, for every reader, filter and day (DST included)."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from flask import Flask
from sqlalchemy import func, select

from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.access import Reader
from inquiry_desk.reports import periods, rollup
from inquiry_desk.reports import services as reports
from inquiry_desk.reports.models import DailyRollup
from inquiry_desk.reports.services import Filters, Scope

from . import dataset
from .dataset import FIRST, LAST, NOW, TORONTO


def test_rollup_and_live_query_agree(app: Flask) -> None:
    with time_machine.travel(NOW, tick=False):
        data = dataset.build()
    first_day = FIRST - timedelta(days=40)
    written = rollup.rebuild(first_day, LAST + timedelta(days=1))
    db.session.commit()
    assert written > 0
    # Rebuilding again gives the same rows (the span is deleted first).
    assert rollup.rebuild(first_day, LAST + timedelta(days=1)) == written
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(DailyRollup)) == written
    assert db.session.scalar(select(func.sum(DailyRollup.received))) == 9

    for period in (periods.resolve("custom", today=NOW.date(), zone=TORONTO, first=FIRST, last=LAST),
                   periods.resolve("custom", today=NOW.date(), zone=TORONTO, first=FIRST, last=LAST).previous(),
                   periods.resolve("4weeks", today=NOW.date(), zone=TORONTO)):
        for user in (data.lead, data.officer, data.bob):
            for filters in (Filters(), Filters(topic_id=data.t2), Filters(language="fr"),
                            Filters(assignee_id=data.alice.id), Filters(trusted=True)):
                scope = Scope(Reader(user), filters)
                live, rolled = reports.received(period, scope), rollup.received(period, scope)
                assert live.rows == rolled.rows, (period, user, filters)
    # D is Bob's: he reads it in the roll-up too; the officer sees it restricted, as live.
    fortnight = periods.resolve("custom", today=NOW.date(), zone=TORONTO, first=FIRST, last=LAST)
    officer = rollup.received(fortnight, Scope(Reader(data.officer)))
    assert sum(officer.rows["restricted"]) == 1
    # Targets met per priority agree with the live times.
    lead = Scope(Reader(data.lead))
    first = reports.first_response_times(fortnight, lead)
    resolution = reports.resolution_times(fortnight, lead)
    live_targets = {priority: (first.by_priority[priority].count, first.by_priority[priority].met,
                               resolution.by_priority[priority].count if priority in resolution.by_priority else 0,
                               resolution.by_priority[priority].met if priority in resolution.by_priority else 0)
                    for priority in first.by_priority}
    assert rollup.targets_met(fortnight, lead) == live_targets == {"normal": (4, 4, 3, 2), "high": (1, 0, 0, 0)}


def test_the_job_rebuilds_yesterday_and_today(app: Flask) -> None:
    with time_machine.travel(NOW, tick=False):
        dataset.build()
    from inquiry_desk.jobs.registry import report_rollup

    assert "2 days" in report_rollup(NOW)
    days = set(db.session.scalars(select(DailyRollup.day)))
    assert days == {NOW.date()}  # F was received, answered and resolved on 4 November; nothing on the 3rd


def test_rebuild_on_demand_from_the_command_line(app: Flask) -> None:
    with time_machine.travel(NOW, tick=False):
        dataset.build()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reports", "rollup", "--from", "2026-10-01", "--to", "2026-11-08"])
    assert result.exit_code == 0, result.output
    assert "rolled up 39 days" in result.output
    assert db.session.scalar(select(func.sum(DailyRollup.received))) == 9
    assert runner.invoke(args=["reports", "rollup", "--from", "2026-11-08", "--to", "2026-10-01"]).exit_code != 0
