"""Series: recurring bulletins. Leads create, pause, resume, end and skip; the scheduler does the rest.

The contract (the caller commits, except in the scheduler's two functions, which commit
each occurrence on its own):

- **Each occurrence once.** ``SeriesOccurrence`` is unique per (series, time). The
  scheduler creates an edition by inserting that row first (``INSERT … ON CONFLICT DO
  NOTHING``): a second scheduler's insert waits for the first one's commit and adds
  nothing. At its time the occurrence is decided by one conditional UPDATE of its state
  (``created`` → ``held``), so only one scheduler decides it.
- **Editions** are drafts made from the template ``lead_minutes`` ahead of their time; the
  series' editors are told by email, each in their language. The normal two-person rule
  applies: the template's last writer is the first version's author.
- **At its time** an edition is sent only if approved (its approved version is its
  current one): it becomes scheduled for its time and the bulletins job starts it. An
  unapproved one is **held**: not sent, its editors, the leads and the team address are
  alerted, and it is never sent late unless a lead chooses to (``send_late``, audited).
  A run more than ``LATE_GRACE`` after the time (the scheduler was down) holds it too.
- **Pause** creates no edition and holds any whose time comes; **resume** goes on with
  the next occurrence (none is made up); **end** also cancels the editions not sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from inquiry_desk.accounts.models import Role, User
from inquiry_desk.audit import services as audit
from inquiry_desk.bulletins import recurrence, services
from inquiry_desk.bulletins.models import (
    Bulletin,
    BulletinSeries,
    BulletinStatus,
    BulletinTransition,
    OccurrenceState,
    SeriesOccurrence,
    SeriesRule,
    SeriesStatus,
)
from inquiry_desk.core.clock import team_timezone
from inquiry_desk.core.database import insert_unless_exists, rows_affected
from inquiry_desk.core.domain import InvalidInput, NotFound
from inquiry_desk.core.extensions import db
from inquiry_desk.core.text import parse_line
from inquiry_desk.core.urls import external_url
from inquiry_desk.inquiries.targets.calendar import working_calendar
from inquiry_desk.mail import services as mail
from inquiry_desk.mail.rendering import render_email

LATE_GRACE = timedelta(minutes=15)
LEAD_MINUTES_MAX = 31 * 24 * 60
UPCOMING = 6


class BadRule(InvalidInput):
    code = "bulletin_series_rule"
    default_message = _l("Choose a weekday for a weekly series, or a business day from 1 to 10 for a monthly one.")


class BadLeadTime(InvalidInput):
    code = "bulletin_series_lead"
    default_message = _l("The lead time is from 1 hour to 31 days.")


class NotUpcoming(InvalidInput):
    code = "bulletin_series_not_upcoming"
    default_message = _l("That edition is not one of the series’ next ones.")


class NotHeld(services.WrongStatus):
    code = "bulletin_series_not_held"
    default_message = _l("Only a held edition that is approved can be sent late.")


@dataclass(frozen=True)
class SeriesFields:
    name: str
    rule: str
    at: time
    lead_minutes: int
    template: services.BulletinFields
    weekday: int | None = None
    business_day: int | None = None
    editor_ids: tuple[int, ...] = ()


def _checked(fields: SeriesFields) -> SeriesFields:
    if fields.rule == SeriesRule.WEEKLY.value:
        if fields.weekday not in range(1, 8):
            raise BadRule()
        weekday, business_day = fields.weekday, None
    elif fields.rule == SeriesRule.MONTHLY.value:
        if fields.business_day not in range(1, recurrence.MAX_BUSINESS_DAY + 1):
            raise BadRule()
        weekday, business_day = None, fields.business_day
    else:
        raise BadRule()
    if not 60 <= fields.lead_minutes <= LEAD_MINUTES_MAX:
        raise BadLeadTime()
    editors = tuple(sorted(set(db.session.scalars(select(User.id).where(
        User.id.in_(fields.editor_ids), User.active.is_(True), User.role != Role.VIEWER.value)))))
    return SeriesFields(name=parse_line(fields.name, max_length=200), rule=fields.rule,
                        at=fields.at.replace(second=0, microsecond=0, tzinfo=None),
                        lead_minutes=fields.lead_minutes, template=services.checked_fields(fields.template),
                        weekday=weekday, business_day=business_day, editor_ids=editors)


def _require_lead(actor: User) -> None:
    if not actor.has_role(Role.LEAD):
        raise services.NotLead()


def _columns(fields: SeriesFields) -> dict[str, Any]:
    return {"name": fields.name, "rule": fields.rule, "weekday": fields.weekday,
            "business_day": fields.business_day, "at_minute": fields.at.hour * 60 + fields.at.minute,
            "lead_minutes": fields.lead_minutes, "editor_ids": list(fields.editor_ids)}


def template_of(series: BulletinSeries) -> services.BulletinFields:
    return services.fields_of(series)


def fields_of(series: BulletinSeries) -> SeriesFields:
    return SeriesFields(name=series.name, rule=series.rule, at=time(series.at_minute // 60, series.at_minute % 60),
                        lead_minutes=series.lead_minutes, template=template_of(series), weekday=series.weekday,
                        business_day=series.business_day, editor_ids=tuple(series.editor_ids))


def get(series_id: int) -> BulletinSeries:
    series = db.session.get(BulletinSeries, series_id)
    if series is None:
        raise NotFound()
    return series


def all_series() -> Sequence[BulletinSeries]:
    return db.session.scalars(select(BulletinSeries).order_by(BulletinSeries.status, BulletinSeries.name,
                                                              BulletinSeries.id)).all()


def create(fields: SeriesFields, *, actor: User, now: datetime) -> BulletinSeries:
    _require_lead(actor)
    fields = _checked(fields)
    series = BulletinSeries(status=SeriesStatus.ACTIVE.value, created_by_id=actor.id, template_by_id=actor.id,
                            created_at=now, updated_at=now, **_columns(fields), **fields.template.content())
    if not series.editor_ids:
        series.editor_ids = [actor.id]
    db.session.add(series)
    db.session.flush()
    audit.record("bulletin_series.created", actor=actor, subject_type="bulletin_series", subject_id=series.id,
                 details={"rule": series.rule}, now=now)
    return series


def edit(series: BulletinSeries, fields: SeriesFields, *, actor: User, now: datetime) -> None:
    """A new template or rule: for the editions not yet created (those already made keep theirs)."""
    _require_lead(actor)
    if series.status == SeriesStatus.ENDED.value:
        raise services.WrongStatus()
    fields = _checked(fields)
    if fields.template != template_of(series):
        series.template_by_id = actor.id
    for name, value in {**_columns(fields), **fields.template.content()}.items():
        setattr(series, name, value)
    series.updated_at = now
    audit.record("bulletin_series.edited", actor=actor, subject_type="bulletin_series", subject_id=series.id,
                 now=now)


def _set_status(series: BulletinSeries, to: SeriesStatus, allowed: tuple[SeriesStatus, ...], *, actor: User,
                now: datetime, action: str) -> None:
    _require_lead(actor)
    if series.status not in allowed:
        raise services.WrongStatus()
    series.status = to.value
    series.updated_at = now
    audit.record(action, actor=actor, subject_type="bulletin_series", subject_id=series.id, now=now)


def pause(series: BulletinSeries, *, actor: User, now: datetime) -> None:
    _set_status(series, SeriesStatus.PAUSED, (SeriesStatus.ACTIVE,), actor=actor, now=now,
                action="bulletin_series.paused")


def resume(series: BulletinSeries, *, actor: User, now: datetime) -> None:
    _set_status(series, SeriesStatus.ACTIVE, (SeriesStatus.PAUSED,), actor=actor, now=now,
                action="bulletin_series.resumed")


def end(series: BulletinSeries, *, actor: User, now: datetime) -> int:
    """No more editions; those created and not yet sent are cancelled. Returns how many."""
    _set_status(series, SeriesStatus.ENDED, (SeriesStatus.ACTIVE, SeriesStatus.PAUSED), actor=actor, now=now,
                action="bulletin_series.ended")
    series.ended_at = now
    cancelled = 0
    for occurrence in db.session.scalars(select(SeriesOccurrence).where(
            SeriesOccurrence.series_id == series.id,
            SeriesOccurrence.state.in_((OccurrenceState.CREATED.value, OccurrenceState.HELD.value)))):
        if _cancel_edition(occurrence, actor=actor, now=now):
            cancelled += 1
    return cancelled


def _cancel_edition(occurrence: SeriesOccurrence, *, actor: User, now: datetime) -> bool:
    bulletin = db.session.get(Bulletin, occurrence.bulletin_id) if occurrence.bulletin_id else None
    if bulletin is not None and bulletin.status not in services.EDITABLE:
        return False
    if bulletin is not None:
        services.cancel(bulletin, actor=actor, now=now)
    occurrence.state = OccurrenceState.CANCELLED.value
    occurrence.decided_at = now
    return True


def rule_of(series: BulletinSeries) -> recurrence.Rule:
    return recurrence.Rule(kind=series.rule, at=time(series.at_minute // 60, series.at_minute % 60),
                           weekday=series.weekday, business_day=series.business_day)


def next_times(series: BulletinSeries, *, after: datetime, until: datetime | None = None,
               count: int = UPCOMING) -> list[datetime]:
    calendar = working_calendar() if series.rule == SeriesRule.MONTHLY.value else None
    return recurrence.occurrences(rule_of(series), after=after, zone=team_timezone(), calendar=calendar,
                                  until=until, count=count)


@dataclass(frozen=True)
class Upcoming:
    at: datetime
    occurrence: SeriesOccurrence | None
    bulletin: Bulletin | None


def upcoming(series: BulletinSeries, *, now: datetime, count: int = UPCOMING) -> list[Upcoming]:
    """The next ``count`` occurrences, with their row (edition made, or skipped) when they have one."""
    if series.status == SeriesStatus.ENDED.value:
        return []
    times = next_times(series, after=now, count=count)
    rows = {row.occurs_at: row for row in db.session.scalars(select(SeriesOccurrence).where(
        SeriesOccurrence.series_id == series.id, SeriesOccurrence.occurs_at.in_(times)))} if times else {}
    return [Upcoming(at, rows.get(at), db.session.get(Bulletin, rows[at].bulletin_id)
                     if at in rows and rows[at].bulletin_id else None) for at in times]


def past(series: BulletinSeries, *, now: datetime, limit: int = 50) -> list[tuple[SeriesOccurrence, Bulletin | None]]:
    """The occurrences already made or decided that are not among the upcoming ones, newest first."""
    rows = db.session.scalars(select(SeriesOccurrence).where(SeriesOccurrence.series_id == series.id)
                              .order_by(SeriesOccurrence.occurs_at.desc()).limit(limit)).all()
    return [(row, db.session.get(Bulletin, row.bulletin_id) if row.bulletin_id else None) for row in rows
            if row.occurs_at <= now or row.state != OccurrenceState.CREATED.value]


def occurrence_of(bulletin: Bulletin) -> SeriesOccurrence | None:
    return db.session.scalar(select(SeriesOccurrence).where(SeriesOccurrence.bulletin_id == bulletin.id))


def skip(series: BulletinSeries, at: datetime, *, actor: User, now: datetime) -> None:
    """A lead skips one coming edition (its draft, if made, is cancelled)."""
    _require_lead(actor)
    if series.status == SeriesStatus.ENDED.value or at not in next_times(series, after=now, count=UPCOMING):
        raise NotUpcoming()
    inserted = insert_unless_exists(SeriesOccurrence, {
        "series_id": series.id, "occurs_at": at, "state": OccurrenceState.SKIPPED.value, "created_at": now,
        "decided_at": now, "details": {"by": actor.id}}, ["series_id", "occurs_at"])
    if inserted is None:
        occurrence = db.session.scalar(select(SeriesOccurrence).where(
            SeriesOccurrence.series_id == series.id, SeriesOccurrence.occurs_at == at))
        assert occurrence is not None
        if occurrence.state == OccurrenceState.SKIPPED.value:
            return
        if occurrence.state != OccurrenceState.CREATED.value or not _cancel_edition(occurrence, actor=actor,
                                                                                      now=now):
            raise services.WrongStatus()
        occurrence.state = OccurrenceState.SKIPPED.value
        occurrence.details = {**occurrence.details, "by": actor.id}
    audit.record("bulletin_series.skipped", actor=actor, subject_type="bulletin_series", subject_id=series.id,
                 details={"occurs_at": at.isoformat()}, now=now)


def send_late(bulletin: Bulletin, *, actor: User, now: datetime) -> None:
    """A lead chooses to send a held edition now (it must be approved: the two-person rule holds)."""
    _require_lead(actor)
    occurrence = occurrence_of(bulletin)
    if occurrence is None or occurrence.state != OccurrenceState.HELD.value \
            or bulletin.status != BulletinStatus.APPROVED.value or bulletin.approved_version != bulletin.version:
        raise NotHeld()
    claimed = rows_affected(db.session.execute(
        update(SeriesOccurrence).where(SeriesOccurrence.id == occurrence.id,
                                       SeriesOccurrence.state == OccurrenceState.HELD.value)
        .values(state=OccurrenceState.SENT_LATE.value, decided_at=now,
                details={**occurrence.details, "sent_late_by": actor.id})
        .execution_options(synchronize_session=False)))
    if claimed != 1:
        raise NotHeld()
    services.schedule(bulletin, None, actor=actor, now=now, late=True)
    audit.record("bulletin_series.sent_late", actor=actor, subject_type="bulletin", subject_id=bulletin.id,
                 details={"series": occurrence.series_id, "occurs_at": occurrence.occurs_at.isoformat()}, now=now)


# --- the scheduler ----------------------------------------------------------------------------

def create_due_editions(now: datetime) -> int:
    """Make the editions whose lead time has begun, each once; commits each. Returns how many were made."""
    made = 0
    for series in db.session.scalars(select(BulletinSeries).where(
            BulletinSeries.status == SeriesStatus.ACTIVE.value).order_by(BulletinSeries.id)).all():
        for at in next_times(series, after=now, until=now + timedelta(minutes=series.lead_minutes)):
            if _create_edition(series, at, now=now):
                db.session.commit()
                made += 1
            else:
                db.session.rollback()
    return made


def _create_edition(series: BulletinSeries, at: datetime, *, now: datetime) -> bool:
    occurrence_id = insert_unless_exists(SeriesOccurrence, {
        "series_id": series.id, "occurs_at": at, "state": OccurrenceState.CREATED.value, "created_at": now,
        "details": {}}, ["series_id", "occurs_at"])
    if occurrence_id is None:
        return False  # made already (perhaps by another scheduler this instant), or skipped
    bulletin = services.create_edition(template_of(series), author_id=series.template_by_id, now=now)
    db.session.execute(update(SeriesOccurrence).where(SeriesOccurrence.id == occurrence_id)
                       .values(bulletin_id=bulletin.id).execution_options(synchronize_session=False))
    audit.record("bulletin_series.edition_created", subject_type="bulletin_series", subject_id=series.id,
                 details={"bulletin": bulletin.id, "occurs_at": at.isoformat()}, now=now)
    _tell(series, bulletin, at, "bulletin_edition_ready", f"bulletin_series:{occurrence_id}:ready",
          _editors(series), now=now)
    return True


def decide_due_editions(now: datetime) -> int:
    """Each edition whose time has come: scheduled for its time if approved, else held (and the team alerted).

    Commits each. Returns how many were decided."""
    decided = 0
    due = db.session.scalars(select(SeriesOccurrence.id).where(
        SeriesOccurrence.state == OccurrenceState.CREATED.value, SeriesOccurrence.occurs_at <= now)
        .order_by(SeriesOccurrence.occurs_at, SeriesOccurrence.id)).all()
    for occurrence_id in due:
        if _decide(occurrence_id, now=now):
            db.session.commit()
            decided += 1
        else:
            db.session.rollback()
    return decided


def _decide(occurrence_id: int, *, now: datetime) -> bool:
    # The claim: one scheduler moves it out of "created"; it is held unless sent below.
    claimed = rows_affected(db.session.execute(
        update(SeriesOccurrence).where(SeriesOccurrence.id == occurrence_id,
                                       SeriesOccurrence.state == OccurrenceState.CREATED.value)
        .values(state=OccurrenceState.HELD.value, decided_at=now).execution_options(synchronize_session=False)))
    if claimed != 1:
        return False
    occurrence = db.session.get(SeriesOccurrence, occurrence_id)
    assert occurrence is not None
    db.session.refresh(occurrence)
    series = db.session.get(BulletinSeries, occurrence.series_id)
    assert series is not None
    bulletin = db.session.get(Bulletin, occurrence.bulletin_id) if occurrence.bulletin_id else None
    if bulletin is None or bulletin.status == BulletinStatus.CANCELLED.value:
        occurrence.state = OccurrenceState.CANCELLED.value
        return True
    if bulletin.status in (BulletinStatus.SCHEDULED.value, BulletinStatus.SENDING.value, BulletinStatus.SENT.value):
        occurrence.state = OccurrenceState.SENT.value
        return True
    reason = "paused" if series.status != SeriesStatus.ACTIVE.value else \
        "late" if now - occurrence.occurs_at > LATE_GRACE else None
    if reason is None and _schedule_if_approved(bulletin, occurrence.occurs_at, now=now):
        occurrence.state = OccurrenceState.SENT.value
        return True
    occurrence.details = {**occurrence.details, "reason": reason or "not_approved"}
    audit.record("bulletin_series.edition_held", subject_type="bulletin", subject_id=bulletin.id,
                 details={"series": series.id, "occurs_at": occurrence.occurs_at.isoformat(),
                          "reason": reason or "not_approved", "status": bulletin.status}, now=now)
    _tell(series, bulletin, occurrence.occurs_at, "bulletin_edition_held", f"bulletin_series:{occurrence.id}:held",
          _team(series), now=now, reason=reason or "not_approved")
    return True


def _schedule_if_approved(bulletin: Bulletin, at: datetime, *, now: datetime) -> bool:
    """Approved (its current version): scheduled for its time, by one conditional UPDATE (an approval or an
    edit at this instant is either wholly before it or after it)."""
    scheduled = rows_affected(db.session.execute(
        update(Bulletin).where(Bulletin.id == bulletin.id, Bulletin.status == BulletinStatus.APPROVED.value,
                               Bulletin.approved_version == Bulletin.version)
        .values(status=BulletinStatus.SCHEDULED.value, scheduled_for=at, updated_at=now)
        .execution_options(synchronize_session=False)))
    if scheduled != 1:
        return False
    db.session.refresh(bulletin)
    db.session.add(BulletinTransition(bulletin_id=bulletin.id, from_status=BulletinStatus.APPROVED.value,
                                      to_status=BulletinStatus.SCHEDULED.value, version=bulletin.version,
                                      actor_id=None, at=now, details={"scheduled_for": at.isoformat(),
                                                                      "edition": True}))
    audit.record("bulletin.scheduled", subject_type="bulletin", subject_id=bulletin.id,
                 details={"from": "approved", "to": "scheduled", "version": bulletin.version,
                          "scheduled_for": at.isoformat(), "edition": True}, now=now)
    return True


# --- telling people ---------------------------------------------------------------------------

def _people(ids: Sequence[int]) -> list[tuple[str, str]]:
    users = db.session.scalars(select(User).where(User.id.in_(ids), User.active.is_(True)).order_by(User.id))
    return [(user.email, user.language if user.language in ("en", "fr") else "en") for user in users]


def _editors(series: BulletinSeries) -> list[tuple[str, str]]:
    return _people(series.editor_ids)


def _team(series: BulletinSeries) -> list[tuple[str, str]]:
    """A held edition: its editors, every active lead, and the team address."""
    leads = db.session.scalars(select(User.id).where(User.role.in_((Role.LEAD.value, Role.ADMIN.value)),
                                                     User.active.is_(True))).all()
    people = _people([*series.editor_ids, *leads])
    team_address = current_app.config.get("MAIL_TEAM_ADDRESS")
    if team_address:
        people.append((team_address, current_app.config["MAIL_TEAM_LANGUAGE"]))
    unique: dict[str, tuple[str, str]] = {}
    for address, lang in people:
        unique.setdefault(address.lower(), (address, lang))
    return list(unique.values())


def _tell(series: BulletinSeries, bulletin: Bulletin, at: datetime, template: str, cause: str,
          recipients: Sequence[tuple[str, str]], *, now: datetime, **extra: str) -> None:
    url = external_url("bulletins_staff.show", bulletin_id=bulletin.id)
    for address, language in recipients:
        rendered = render_email(template, language, series=series.name, at=at, url=url, **extra)
        digest = hashlib.sha256(address.lower().encode()).hexdigest()[:24]
        mail.queue_email(cause_key=f"{cause}:{digest}", to=address, rendered=rendered, language=language,
                         automatic=mail.AUTO_GENERATED, now=now)
