"""Series: each edition made once ahead of its time, sent only if approved, held otherwise; skip, pause,
resume, end; 10:00 Toronto on both sides of the November change; the first business day across a holiday."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.bulletins import dispatch, recurrence, series, services
from inquiry_desk.bulletins.models import Bulletin, BulletinSeries, SeriesOccurrence
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.targets.business_hours import WorkingCalendar, closed_days
from inquiry_desk.mail.models import MailSend, OutgoingEmail

from .series_support import approve, staff, weekly
from .support import at_once, make_list, subscribe

TORONTO = ZoneInfo("America/Toronto")
# Monday 26 October 2026, 10:00 Toronto: the next Thursday 10:00 is exactly three days ahead.
MONDAY = datetime(2026, 10, 26, 14, 0, tzinfo=UTC)
THURSDAY_10 = datetime(2026, 10, 29, 14, 0, tzinfo=UTC)  # 10:00 EDT


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _edition(occurs_at: datetime) -> tuple[SeriesOccurrence, Bulletin]:
    db.session.expire_all()
    occurrence = db.session.scalar(select(SeriesOccurrence).where(SeriesOccurrence.occurs_at == occurs_at))
    assert occurrence is not None and occurrence.bulletin_id is not None
    bulletin = db.session.get(Bulletin, occurrence.bulletin_id)
    assert bulletin is not None
    return occurrence, bulletin


def _subjects() -> list[tuple[str, str]]:
    return sorted((email.to_address, email.subject) for email in db.session.scalars(select(OutgoingEmail)))


def test_ten_o_clock_toronto_before_and_after_the_november_change() -> None:
    rule = recurrence.Rule(kind="weekly", at=time(10, 0), weekday=4)
    times = recurrence.occurrences(rule, after=datetime(2026, 10, 20, tzinfo=UTC), zone=TORONTO, count=3)
    # 29 October is daylight time (UTC−4); 5 November is standard time (UTC−5): 10:00 on the wall both times.
    assert times == [datetime(2026, 10, 22, 14, 0, tzinfo=UTC), THURSDAY_10,
                     datetime(2026, 11, 5, 15, 0, tzinfo=UTC)]
    assert {moment.astimezone(TORONTO).time() for moment in times} == {time(10, 0)}
    # The repeated hour of 1 November (a Sunday series at 01:30) is its first occurrence; the spring gap moves on.
    sunday = recurrence.Rule(kind="weekly", at=time(1, 30), weekday=7)
    assert recurrence.occurrences(sunday, after=datetime(2026, 10, 31, tzinfo=UTC), zone=TORONTO, count=1) == [
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC)]
    spring = recurrence.Rule(kind="weekly", at=time(2, 30), weekday=7)
    assert recurrence.occurrences(spring, after=datetime(2027, 3, 13, tzinfo=UTC), zone=TORONTO, count=1)[0] \
        .astimezone(TORONTO).time() == time(3, 30)


def test_the_first_business_day_comes_after_the_holiday_and_a_closure() -> None:
    calendar = WorkingCalendar(timezone=TORONTO, working_days=frozenset(range(1, 6)), opens=time(8, 30),
                               closes=time(16, 30), closed_days=closed_days("ON", [date(2027, 2, 1)]))
    rule = recurrence.Rule(kind="monthly", at=time(9, 0), business_day=1)
    times = recurrence.occurrences(rule, after=datetime(2026, 11, 15, tzinfo=UTC), zone=TORONTO,
                                   calendar=calendar, count=3)
    # 1 December: a Tuesday. 1 January 2027 is New Year's Day (a Friday): Monday the 4th.
    # 1 February is a Monday the team closed: Tuesday the 2nd.
    assert [moment.astimezone(TORONTO).date() for moment in times] == [
        date(2026, 12, 1), date(2027, 1, 4), date(2027, 2, 2)]
    assert recurrence.nth_business_day(2027, 1, 3, calendar) == date(2027, 1, 6)


def test_an_edition_is_made_once_ahead_and_its_editors_are_told_in_their_language(app: Flask) -> None:
    mailing_list = make_list()
    editor = staff("officer", language="fr")
    weekly((mailing_list.id,), editors=(editor.id,), now=MONDAY - timedelta(days=7))
    too_early = MONDAY - timedelta(minutes=1)  # 3 days and 1 minute before Thursday 10:00
    assert series.create_due_editions(too_early) == 0
    assert series.create_due_editions(MONDAY) == 1
    assert series.create_due_editions(MONDAY + timedelta(minutes=1)) == 0  # once
    occurrence, bulletin = _edition(THURSDAY_10)
    assert occurrence.state == "created" and bulletin.status == "draft" and bulletin.title_en == "November update"
    assert [(address, subject.split(":")[0]) for address, subject in _subjects()] == [
        (editor.email, "Numéro à préparer ")]
    # Its template's writer is its first author: they cannot approve it unchanged (the two-person rule).
    series_row = db.session.scalar(select(BulletinSeries))
    template_writer = db.session.get(type(editor), series_row.template_by_id)
    assert template_writer.id in services.authors(bulletin)
    with pytest.raises(services.EditionHasItsTime):
        approve(bulletin, now=MONDAY)
        services.schedule(bulletin, None, actor=editor, now=MONDAY)


def test_two_schedulers_at_once_make_each_edition_once(app: Flask, app_factory) -> None:
    """Two dispatchers race on their own connections (a barrier starts them together)."""
    mailing_list = make_list()
    for _ in range(3):
        weekly((mailing_list.id,), now=MONDAY - timedelta(days=7))
    other = app_factory()
    made = at_once((app, other), lambda: series.create_due_editions(MONDAY))
    assert sum(made) == 3
    assert _count(SeriesOccurrence) == 3 and _count(Bulletin) == 3
    assert _count(OutgoingEmail) == 3  # one notice per series (each series' creator is its editor)


def test_an_unapproved_edition_is_held_never_sent_and_the_team_is_alerted(app: Flask) -> None:
    app.config["MAIL_TEAM_ADDRESS"] = "team@example.org"
    mailing_list = make_list()
    subscribe(mailing_list, "anna@example.net")
    lead = staff("lead", language="fr")
    weekly((mailing_list.id,), lead=lead, now=MONDAY - timedelta(days=7))
    dispatch.run(MONDAY)
    occurrence, bulletin = _edition(THURSDAY_10)
    services.submit(bulletin, actor=staff("officer"), now=MONDAY)  # submitted, never approved
    db.session.commit()
    before = _count(OutgoingEmail)
    assert dispatch.run(THURSDAY_10 - timedelta(seconds=1)) == "started 0, sent 0"
    assert dispatch.run(THURSDAY_10) == "started 0, sent 0, editions made 0, decided 1"
    assert dispatch.run(THURSDAY_10 + timedelta(seconds=1)) == "started 0, sent 0"
    occurrence, bulletin = _edition(THURSDAY_10)
    assert occurrence.state == "held" and occurrence.details["reason"] == "not_approved"
    assert bulletin.status == "submitted" and _count(MailSend) == 0
    alerts = sorted((email.to_address, email.language) for email in db.session.scalars(
        select(OutgoingEmail).where(OutgoingEmail.subject.like("%tenu%") | OutgoingEmail.subject.like("Held%"))))
    assert len(alerts) == _count(OutgoingEmail) - before
    assert (lead.email, "fr") in alerts and ("team@example.org", "en") in alerts
    # Approved later, it still is not sent by itself…
    approve(bulletin, now=THURSDAY_10 + timedelta(hours=1))
    dispatch.run(THURSDAY_10 + timedelta(hours=2))
    assert _count(MailSend) == 0
    # …only when a lead chooses to: audited.
    with pytest.raises(services.NotLead):
        series.send_late(bulletin, actor=staff("officer"), now=THURSDAY_10 + timedelta(hours=2))
    series.send_late(bulletin, actor=lead, now=THURSDAY_10 + timedelta(hours=2))
    db.session.commit()
    assert dispatch.run(THURSDAY_10 + timedelta(hours=2, seconds=1)) == "started 1, sent 0"
    assert _edition(THURSDAY_10)[0].state == "sent_late"
    assert db.session.scalar(select(AuditEvent.actor_id).where(AuditEvent.action == "bulletin_series.sent_late")) \
        == lead.id


def test_an_approved_edition_is_sent_at_its_time(app: Flask) -> None:
    mailing_list = make_list()
    subscribe(mailing_list, "anna@example.net")
    subscribe(mailing_list, "benoit@example.net", "fr")
    weekly((mailing_list.id,), now=MONDAY - timedelta(days=7))
    dispatch.run(MONDAY)
    _, bulletin = _edition(THURSDAY_10)
    approve(bulletin, now=MONDAY + timedelta(days=1))
    assert dispatch.run(THURSDAY_10 - timedelta(seconds=1)) == "started 0, sent 0"
    assert dispatch.run(THURSDAY_10) == "started 1, sent 0, editions made 0, decided 1"
    assert dispatch.run(THURSDAY_10 + timedelta(seconds=1)) == "started 0, sent 0"
    occurrence, bulletin = _edition(THURSDAY_10)
    assert occurrence.state == "sent" and bulletin.status == "sending"
    assert bulletin.scheduled_for == THURSDAY_10 and _count(MailSend) == 1


def test_a_run_long_after_the_time_holds_the_edition(app: Flask) -> None:
    """A scheduler that was down does not send an approved edition hours late by itself."""
    mailing_list = make_list()
    weekly((mailing_list.id,), now=MONDAY - timedelta(days=7))
    dispatch.run(MONDAY)
    _, bulletin = _edition(THURSDAY_10)
    approve(bulletin, now=MONDAY)
    dispatch.run(THURSDAY_10 + timedelta(hours=3))
    occurrence, bulletin = _edition(THURSDAY_10)
    assert occurrence.state == "held" and occurrence.details["reason"] == "late" and _count(MailSend) == 0


def test_skip_one_edition_before_and_after_it_is_made(app: Flask) -> None:
    mailing_list = make_list()
    lead = staff("lead")
    item = weekly((mailing_list.id,), lead=lead, now=MONDAY - timedelta(days=7))
    next_week = THURSDAY_10 + timedelta(days=7, hours=1)  # 10:00 EST
    with pytest.raises(services.NotLead):
        series.skip(item, next_week, actor=staff("officer"), now=MONDAY)
    with pytest.raises(series.NotUpcoming):
        series.skip(item, next_week + timedelta(minutes=1), actor=lead, now=MONDAY)
    series.skip(item, next_week, actor=lead, now=MONDAY)  # not made yet
    dispatch.run(MONDAY)
    assert _edition(THURSDAY_10)[1].status == "draft"
    series.skip(item, THURSDAY_10, actor=lead, now=MONDAY)  # made: its draft is cancelled
    db.session.commit()
    assert _edition(THURSDAY_10)[1].status == "cancelled"
    assert series.create_due_editions(next_week - timedelta(days=2)) == 0
    states = [(row.occurs_at, row.state) for row in db.session.scalars(
        select(SeriesOccurrence).order_by(SeriesOccurrence.occurs_at))]
    assert states == [(THURSDAY_10, "skipped"), (next_week, "skipped")]
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "bulletin_series.skipped")) == 2
    dispatch.run(THURSDAY_10)
    assert _count(MailSend) == 0
    assert [up.occurrence.state if up.occurrence else None
            for up in series.upcoming(item, now=MONDAY)][:3] == ["skipped", "skipped", None]


def test_pause_resume_and_end(app: Flask) -> None:
    mailing_list = make_list()
    lead = staff("lead")
    item = weekly((mailing_list.id,), lead=lead, now=MONDAY - timedelta(days=7))
    with pytest.raises(services.NotLead):
        series.pause(item, actor=staff("officer"), now=MONDAY)
    series.pause(item, actor=lead, now=MONDAY - timedelta(days=1))
    db.session.commit()
    assert series.create_due_editions(MONDAY) == 0  # paused: nothing made
    series.resume(item, actor=lead, now=MONDAY)
    db.session.commit()
    assert series.create_due_editions(MONDAY) == 1
    _, bulletin = _edition(THURSDAY_10)
    approve(bulletin, now=MONDAY)
    series.pause(item, actor=lead, now=MONDAY)
    db.session.commit()
    dispatch.run(THURSDAY_10)  # paused at its time: held, even approved
    occurrence, _ = _edition(THURSDAY_10)
    assert occurrence.state == "held" and occurrence.details["reason"] == "paused" and _count(MailSend) == 0
    series.resume(item, actor=lead, now=THURSDAY_10 + timedelta(days=3))
    db.session.commit()
    assert series.create_due_editions(THURSDAY_10 + timedelta(days=5)) == 1  # the next Thursday's
    assert series.end(item, actor=lead, now=THURSDAY_10 + timedelta(days=5)) == 2  # the held one and the new one
    db.session.commit()
    assert {b.status for b in db.session.scalars(select(Bulletin))} == {"cancelled"}
    assert series.create_due_editions(THURSDAY_10 + timedelta(days=12)) == 0
    with pytest.raises(services.WrongStatus):
        series.resume(item, actor=lead, now=THURSDAY_10 + timedelta(days=12))
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.subject_type == "bulletin_series")))
    assert {"bulletin_series.paused", "bulletin_series.resumed", "bulletin_series.ended"} <= actions
