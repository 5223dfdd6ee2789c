"""Service targets: due times on creation, topic overrides, pauses, recomputation, and how due times read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, insert, select, update

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import services as inquiries
from inquiry_desk.inquiries import targets
from inquiry_desk.inquiries.models import Inquiry, Status
from inquiry_desk.inquiries.targets.models import ServiceTarget, TeamCalendar

from ...helpers import make_inquiry

TORONTO = ZoneInfo("America/Toronto")
# Tuesday 3 March 2026, 09:00 in Toronto (EST); the clocks go forward on Sunday 8 March.
RECEIVED = datetime(2026, 3, 3, 9, 0, tzinfo=TORONTO).astimezone(UTC)


@pytest.fixture(autouse=True)
def restore_reference_tables(app) -> Iterator[None]:
    """Targets and the calendar are reference data that outlive a test on PostgreSQL: put them back."""
    tables = (ServiceTarget.__table__, TeamCalendar.__table__)
    with db.engine.connect() as connection:
        saved = {table: [row._asdict() for row in connection.execute(select(table))] for table in tables}
    yield
    db.session.rollback()
    with db.engine.begin() as connection:
        for table, rows in saved.items():
            connection.execute(delete(table).where(table.c.id.not_in([row["id"] for row in rows])))
            present = set(connection.scalars(select(table.c.id)))
            for row in rows:
                if row["id"] in present:
                    connection.execute(update(table).where(table.c.id == row["id"]).values(**row))
                else:
                    connection.execute(insert(table).values(**row))


@pytest.fixture(autouse=True)
def _clock_mechanics_unrecorded(app):
    """These tests drive the due-time functions directly, as the recorder does, on hand-set columns."""
    from inquiry_desk.inquiries import recorder

    with recorder.unrecorded():
        yield


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TORONTO).astimezone(UTC)


def new_inquiry(priority: str = "normal", received: datetime = RECEIVED) -> Inquiry:
    inquiry = make_inquiry(now=received)
    inquiry.priority = priority
    targets.apply_targets(inquiry, now=received)
    db.session.commit()
    return inquiry


def change_status(inquiry: Inquiry, status: Status, now: datetime) -> None:
    old = inquiry.status
    inquiry.status = status.value
    targets.on_status_change(inquiry, old, now=now)
    db.session.commit()


# -- on creation


@pytest.mark.parametrize(("priority", "first_due", "resolution_due"), [
    ("urgent", local(2026, 3, 3, 13, 0), local(2026, 3, 5, 9, 0)),  # 4 h, 16 h
    ("high", local(2026, 3, 4, 9, 0), local(2026, 3, 10, 9, 0)),  # 8 h, 40 h (across the change to EDT)
    ("normal", local(2026, 3, 5, 9, 0), local(2026, 3, 17, 9, 0)),  # 16 h, 80 h
    ("low", local(2026, 3, 10, 9, 0), local(2026, 3, 31, 9, 0)),  # 40 h, 160 h
])
def test_due_times_on_creation_for_each_priority(app, priority: str, first_due: datetime,
                                                 resolution_due: datetime) -> None:
    inquiry = new_inquiry(priority)
    assert inquiry.first_response_due_at == first_due
    assert inquiry.resolution_due_at == resolution_due
    assert inquiry.due_at == first_due
    assert inquiry.paused_at is None
    assert inquiry.targets_version == targets.calendar_version()


def test_an_inquiry_received_at_night_counts_from_the_next_opening(app) -> None:
    inquiry = new_inquiry("urgent", received=local(2026, 3, 6, 20, 0))  # a Friday evening
    assert inquiry.first_response_due_at == local(2026, 3, 9, 12, 30)  # Monday 08:30 + 4 h


def test_a_topic_target_comes_before_the_default(app) -> None:
    topic = inquiries.topic_by_code("other")
    db.session.add(ServiceTarget(priority="normal", topic_id=topic.id, first_response_minutes=60,
                                 resolution_minutes=120))
    targets.bump_calendar_version()
    db.session.commit()
    assert targets.target_for("normal", topic.id).first_response_minutes == 60
    assert targets.target_for("normal", None).first_response_minutes == 16 * 60
    assert targets.target_for("high", topic.id).first_response_minutes == 8 * 60
    inquiry = new_inquiry("normal")
    assert inquiry.topic_id == topic.id
    assert inquiry.first_response_due_at == local(2026, 3, 3, 10, 0)
    assert inquiry.resolution_due_at == local(2026, 3, 3, 11, 0)


def test_applying_twice_changes_nothing(app) -> None:
    inquiry = new_inquiry("high")
    before = (inquiry.first_response_due_at, inquiry.resolution_due_at, inquiry.due_at, inquiry.targets_version)
    targets.apply_targets(inquiry, now=RECEIVED + timedelta(days=2))
    targets.on_status_change(inquiry, inquiry.status, now=RECEIVED + timedelta(days=3))
    assert (inquiry.first_response_due_at, inquiry.resolution_due_at, inquiry.due_at,
            inquiry.targets_version) == before


def test_after_the_first_response_the_resolution_is_due(app) -> None:
    inquiry = new_inquiry("normal")
    first_due = inquiry.first_response_due_at
    inquiry.first_response_at = local(2026, 3, 3, 10, 0)
    targets.apply_targets(inquiry, now=inquiry.first_response_at)
    assert inquiry.due_at == inquiry.resolution_due_at == local(2026, 3, 17, 9, 0)
    assert inquiry.first_response_due_at == first_due


def test_a_priority_change_recomputes_from_received(app) -> None:
    inquiry = new_inquiry("low")
    inquiry.priority = "urgent"
    targets.apply_targets(inquiry, now=local(2026, 3, 3, 11, 0))
    assert inquiry.due_at == local(2026, 3, 3, 13, 0)


# -- the clock stops while waiting on the stakeholder


def test_waiting_pauses_and_resuming_pushes_the_due_times(app) -> None:
    inquiry = new_inquiry("normal")
    inquiry.first_response_at = local(2026, 3, 3, 10, 0)
    targets.apply_targets(inquiry, now=inquiry.first_response_at)
    change_status(inquiry, Status.WAITING, local(2026, 3, 3, 11, 0))
    assert inquiry.paused_at == local(2026, 3, 3, 11, 0)
    assert inquiry.due_at is None
    # Asked twice (the reply and the status change both report it): the pause starts once.
    targets.on_status_change(inquiry, Status.OPEN.value, now=local(2026, 3, 3, 15, 0))
    assert inquiry.paused_at == local(2026, 3, 3, 11, 0)

    change_status(inquiry, Status.OPEN, local(2026, 3, 5, 11, 0))  # 16 business hours later
    assert inquiry.paused_at is None
    assert inquiry.resolution_due_at == local(2026, 3, 19, 9, 0)  # 80 h + 16 h
    assert inquiry.due_at == inquiry.resolution_due_at
    targets.on_status_change(inquiry, Status.WAITING.value, now=local(2026, 3, 6, 11, 0))
    assert inquiry.resolution_due_at == local(2026, 3, 19, 9, 0)

    # A later change of priority keeps the time already spent waiting.
    inquiry.priority = "high"
    db.session.flush()
    targets.apply_targets(inquiry, now=local(2026, 3, 6, 11, 0))
    assert inquiry.resolution_due_at == local(2026, 3, 12, 9, 0)  # 40 h + 16 h
    targets.apply_targets(inquiry, now=local(2026, 3, 6, 12, 0))
    assert inquiry.resolution_due_at == local(2026, 3, 12, 9, 0)


def test_a_pause_before_the_first_response_pushes_both_due_times(app) -> None:
    inquiry = new_inquiry("urgent")
    change_status(inquiry, Status.WAITING, local(2026, 3, 3, 10, 0))
    change_status(inquiry, Status.OPEN, local(2026, 3, 4, 10, 0))  # one business day
    assert inquiry.first_response_due_at == local(2026, 3, 4, 13, 0)
    assert inquiry.resolution_due_at == local(2026, 3, 6, 9, 0)
    assert inquiry.due_at == inquiry.first_response_due_at


def test_resolving_clears_the_due_time_and_reopening_does_not_count_the_time_resolved(app) -> None:
    inquiry = new_inquiry("urgent")
    inquiry.first_response_at = local(2026, 3, 3, 9, 30)
    targets.apply_targets(inquiry, now=inquiry.first_response_at)
    change_status(inquiry, Status.WAITING, local(2026, 3, 3, 9, 30))
    change_status(inquiry, Status.RESOLVED, local(2026, 3, 3, 12, 0))
    assert inquiry.due_at is None
    assert inquiry.paused_at == local(2026, 3, 3, 9, 30)  # stopped since it went to waiting
    change_status(inquiry, Status.OPEN, local(2026, 3, 5, 9, 30))  # two business days later
    assert inquiry.due_at == inquiry.resolution_due_at == local(2026, 3, 9, 9, 0)  # 16 h + 16 h


def test_closing_clears_the_due_time(app) -> None:
    inquiry = new_inquiry("high")
    change_status(inquiry, Status.CLOSED, local(2026, 3, 3, 12, 0))
    assert inquiry.due_at is None
    targets.apply_targets(inquiry, now=local(2026, 3, 4, 12, 0))
    assert inquiry.due_at is None


# -- a change of calendar: every open inquiry is recomputed by the job


def test_recompute_stale_after_a_closure_is_added(app) -> None:
    normal, urgent, waiting, resolved = (new_inquiry(p) for p in ("normal", "urgent", "low", "high"))
    change_status(waiting, Status.WAITING, local(2026, 3, 3, 10, 0))
    change_status(resolved, Status.RESOLVED, local(2026, 3, 3, 10, 0))
    old_version = targets.calendar_version()
    targets.add_closure(date(2026, 3, 4), "Team retreat", actor=None, now=local(2026, 3, 3, 10, 0))
    db.session.commit()
    assert targets.calendar_version() == old_version + 1

    assert targets.recompute_stale(local(2026, 3, 3, 11, 0), batch=2) == 3
    for inquiry in (normal, urgent, waiting, resolved):
        db.session.refresh(inquiry)
    assert normal.due_at == local(2026, 3, 6, 9, 0)  # 16 h from Tuesday 09:00, Wednesday closed
    assert urgent.due_at == local(2026, 3, 3, 13, 0)  # before the closure: unchanged
    assert urgent.resolution_due_at == local(2026, 3, 6, 9, 0)
    assert waiting.due_at is None and waiting.paused_at == local(2026, 3, 3, 10, 0)
    assert waiting.first_response_due_at == local(2026, 3, 11, 9, 0)
    assert resolved.targets_version == old_version
    assert {i.targets_version for i in (normal, urgent, waiting)} == {old_version + 1}
    assert targets.recompute_stale(local(2026, 3, 3, 11, 0)) == 0


def test_the_calendar_is_read_again_after_a_change(app) -> None:
    assert targets.working_calendar().is_open_day(date(2026, 6, 24))
    row = targets.team_calendar()
    row.subdivision = "QC"
    targets.bump_calendar_version()
    assert not targets.working_calendar().is_open_day(date(2026, 6, 24))  # Fête nationale


def test_settings_changes_are_audited(app) -> None:
    closure = targets.add_closure(date(2026, 12, 24), "Holiday closure", actor=None, now=RECEIVED)
    with pytest.raises(targets.ClosureExists):
        targets.add_closure(date(2026, 12, 24), "Again", actor=None, now=RECEIVED)
    targets.remove_closure(closure.id, actor=None, now=RECEIVED)
    assert targets.update_calendar(working_days=[1, 2, 3, 4], opens_minute=540, closes_minute=1020,
                                   subdivision="QC", actor=None, now=RECEIVED)
    assert not targets.update_calendar(working_days=[4, 3, 2, 1], opens_minute=540, closes_minute=1020,
                                       subdivision="QC", actor=None, now=RECEIVED)
    with pytest.raises(targets.InvalidCalendar):
        targets.update_calendar(working_days=[], opens_minute=540, closes_minute=1020, subdivision="QC",
                                actor=None, now=RECEIVED)
    db.session.commit()
    actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == ["closure.add", "closure.remove", "calendar.update"]


# -- how a due time reads


@pytest.mark.parametrize(("left", "state", "text"), [
    (timedelta(hours=3, minutes=5), "soon", "due in 3 hr"),
    (timedelta(days=2, hours=1), "ok", "due in 2 days"),
    (timedelta(hours=5), "ok", "due in 5 hr"),
    (timedelta(seconds=20), "soon", "due now"),
    (-timedelta(days=1, hours=1), "overdue", "overdue by 1 day"),
    (-timedelta(minutes=10), "overdue", "overdue by 10 min"),
])
def test_describe_due_in_english(app, left: timedelta, state: str, text: str) -> None:
    with app.test_request_context(), force_locale("en"):
        assert targets.describe_due(RECEIVED + left, RECEIVED) == (state, text)


def test_describe_due_in_french(app) -> None:
    with app.test_request_context(), force_locale("fr"):
        state, text = targets.describe_due(RECEIVED + timedelta(hours=3), RECEIVED)
        assert state == "soon"
        assert text == _("due in %(time)s", time="3\u202fh")
        state, text = targets.describe_due(RECEIVED - timedelta(days=1), RECEIVED)
        assert state == "overdue"
        assert text == _("overdue by %(time)s", time="1\u202fj")
        assert targets.describe_due(RECEIVED - timedelta(days=3), RECEIVED, width="long")[1] == _(
            "overdue by %(time)s", time="3\u00a0jours")


def test_describe_due_without_a_due_time_and_with_another_threshold(app) -> None:
    assert targets.describe_due(None, RECEIVED) == ("none", "")
    app.config["INBOX_DUE_SOON_MINUTES"] = 600
    with app.test_request_context(), force_locale("en"):
        assert targets.describe_due(RECEIVED + timedelta(hours=5), RECEIVED)[0] == "soon"
