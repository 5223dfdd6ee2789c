"""Writing and approving bulletins: draft → submitted → approved → scheduled → sending → sent.

The contract, for every function here: the caller commits; each change of status is a
``BulletinTransition`` naming the version it applied to, and an audit event.

- **Versions.** Every save numbers a new ``BulletinVersion`` with its author. A save
  after submission or approval returns the bulletin to draft and voids the approval:
  what was approved is exactly one version's text.
- **The two-person rule.** Only a lead approves, and never one who created the
  bulletin or wrote any of its versions; the approval names the version the approver
  saw (a save in between makes it stale: ``Conflict``), and acknowledges every
  pre-send warning (``checks``). A missing language blocks unless a lead marked the
  bulletin single-language with a reason.
- **Scheduling.** Send now, or at a time entered in the team's time zone: stored in
  UTC; a local time that does not exist (the spring change) or lies in the past is
  refused with a message that says so. The scheduler dispatches it (``dispatch``).
- **Test sends** go through the outbox, to staff addresses, subject marked ``[TEST]``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from inquiry_desk.accounts.models import Role, User
from inquiry_desk.audit import services as audit
from inquiry_desk.bulletins import checks, rendering
from inquiry_desk.bulletins.models import (
    Bulletin,
    BulletinStatus,
    BulletinText,
    BulletinTransition,
    BulletinVersion,
    SeriesOccurrence,
)
from inquiry_desk.core.clock import team_timezone
from inquiry_desk.core.domain import Conflict, InvalidInput, NotAllowed, NotFound
from inquiry_desk.core.extensions import db
from inquiry_desk.core.i18n import LANGUAGES
from inquiry_desk.core.text import parse_email_address, parse_line, parse_text
from inquiry_desk.mail.services import queue_email
from inquiry_desk.mailing.models import MailingList

EDITABLE = (BulletinStatus.DRAFT, BulletinStatus.SUBMITTED, BulletinStatus.APPROVED, BulletinStatus.SCHEDULED)
CANCELLABLE = (*EDITABLE, BulletinStatus.SENDING)
BODY_MAX = 100_000
TEST_RECIPIENTS_MAX = 10


class WrongStatus(NotAllowed):
    code = "bulletin_wrong_status"
    default_message = _l("This bulletin is not at a stage where that can be done.")


class OwnBulletin(NotAllowed):
    code = "bulletin_own"
    default_message = _l("You wrote or edited this bulletin: another lead must approve it.")


class NotLead(NotAllowed):
    code = "bulletin_not_lead"
    default_message = _l("Only a lead can do this.")


class StaleVersion(Conflict):
    code = "bulletin_stale"
    default_message = _l("The bulletin was edited after you opened it. Read the new version before you approve.")


class ChecksNotAcknowledged(InvalidInput):
    code = "bulletin_checks"
    default_message = _l("Acknowledge every warning before you approve.")


class LanguageMissing(InvalidInput):
    code = "bulletin_language_missing"
    default_message = _l("A language is missing: write it, or have a lead mark the bulletin single-language.")


class NoList(InvalidInput):
    code = "bulletin_no_list"
    default_message = _l("Choose at least one mailing list.")


class TimeInPast(InvalidInput):
    code = "bulletin_time_past"
    default_message = _l("That time has already passed. Choose a time in the future, or send now.")


class TimeDoesNotExist(InvalidInput):
    code = "bulletin_time_missing"
    default_message = _l("That time does not exist on that day: the clocks are put forward. Choose another time.")


class TimeMissing(InvalidInput):
    code = "bulletin_time_required"
    default_message = _l("Enter the date and the time, or choose to send now.")


class EditionHasItsTime(NotAllowed):
    code = "bulletin_edition_timed"
    default_message = _l("This edition of a series is sent at its time once approved: it is not scheduled by hand.")


class CommentRequired(InvalidInput):
    code = "bulletin_comment_required"
    default_message = _l("Say what needs to change.")


class ReasonRequired(InvalidInput):
    code = "bulletin_reason_required"
    default_message = _l("Give the reason for sending in one language only.")


@dataclass(frozen=True)
class BulletinFields:
    sender_name: str
    list_ids: tuple[int, ...]
    title_en: str = ""
    title_fr: str = ""
    subject_en: str = ""
    subject_fr: str = ""
    body_en: str = ""
    body_fr: str = ""

    def content(self) -> dict[str, Any]:
        return {"sender_name": self.sender_name, "list_ids": list(self.list_ids),
                "title_en": self.title_en, "title_fr": self.title_fr, "subject_en": self.subject_en,
                "subject_fr": self.subject_fr, "body_en": self.body_en, "body_fr": self.body_fr}


def _checked(fields: BulletinFields) -> BulletinFields:
    list_ids = tuple(sorted({int(list_id) for list_id in fields.list_ids}))
    if not list_ids:
        raise NoList()
    known = set(db.session.scalars(select(MailingList.id).where(MailingList.id.in_(list_ids),
                                                                MailingList.archived_at.is_(None))))
    if known != set(list_ids):
        raise NoList()
    return BulletinFields(
        sender_name=parse_line(fields.sender_name, max_length=200),
        list_ids=list_ids,
        title_en=parse_line(fields.title_en, max_length=200, required=False),
        title_fr=parse_line(fields.title_fr, max_length=200, required=False),
        subject_en=parse_line(fields.subject_en, max_length=200, required=False),
        subject_fr=parse_line(fields.subject_fr, max_length=200, required=False),
        body_en=parse_text(fields.body_en, max_length=BODY_MAX, required=False),
        body_fr=parse_text(fields.body_fr, max_length=BODY_MAX, required=False),
    )


def checked_fields(fields: BulletinFields) -> BulletinFields:
    """The fields as stored: lines and texts parsed, at least one known mailing list (``NoList``)."""
    return _checked(fields)


def get(bulletin_id: int) -> Bulletin:
    bulletin = db.session.get(Bulletin, bulletin_id)
    if bulletin is None:
        raise NotFound()
    return bulletin


def recent(limit: int = 100) -> Sequence[Bulletin]:
    return db.session.scalars(select(Bulletin).order_by(Bulletin.id.desc()).limit(limit)).all()


def fields_of(bulletin: BulletinText) -> BulletinFields:
    """The text of a bulletin, or of a series' template, as fields."""
    return BulletinFields(sender_name=bulletin.sender_name, list_ids=tuple(bulletin.list_ids),
                          title_en=bulletin.title_en, title_fr=bulletin.title_fr, subject_en=bulletin.subject_en,
                          subject_fr=bulletin.subject_fr, body_en=bulletin.body_en, body_fr=bulletin.body_fr)


# --- writing ----------------------------------------------------------------------------------

def create(fields: BulletinFields, *, actor: User, now: datetime) -> Bulletin:
    fields = _checked(fields)
    bulletin = Bulletin(status=BulletinStatus.DRAFT.value, version=1, created_by_id=actor.id, created_at=now,
                        updated_at=now, **fields.content())
    db.session.add(bulletin)
    db.session.flush()
    db.session.add(BulletinVersion(bulletin_id=bulletin.id, number=1, author_id=actor.id, created_at=now,
                                   content=fields.content()))
    audit.record("bulletin.created", actor=actor, subject_type="bulletin", subject_id=bulletin.id,
                 details={"version": 1}, now=now)
    return bulletin


def create_edition(fields: BulletinFields, *, author_id: int | None, now: datetime) -> Bulletin:
    """A series' edition, made by the scheduler from the series' template: a draft like any other.

    Nobody created it; its first version is the template's, so its last writer cannot approve
    the edition unchanged (the two-person rule holds for editions too)."""
    bulletin = Bulletin(status=BulletinStatus.DRAFT.value, version=1, created_by_id=None, created_at=now,
                        updated_at=now, **fields.content())
    db.session.add(bulletin)
    db.session.flush()
    db.session.add(BulletinVersion(bulletin_id=bulletin.id, number=1, author_id=author_id, created_at=now,
                                   content=fields.content()))
    audit.record("bulletin.created", subject_type="bulletin", subject_id=bulletin.id,
                 details={"version": 1, "edition": True}, now=now)
    return bulletin


def edit(bulletin: Bulletin, fields: BulletinFields, *, actor: User, now: datetime) -> Bulletin:
    """A new version. After submission or approval the bulletin goes back to draft (the approval void)."""
    if bulletin.status not in EDITABLE:
        raise WrongStatus()
    fields = _checked(fields)
    if fields == fields_of(bulletin):
        return bulletin
    for name, value in fields.content().items():
        setattr(bulletin, name, value)
    bulletin.version += 1
    bulletin.updated_at = now
    db.session.add(BulletinVersion(bulletin_id=bulletin.id, number=bulletin.version, author_id=actor.id,
                                   created_at=now, content=fields.content()))
    if bulletin.status != BulletinStatus.DRAFT.value:
        voided = bulletin.approved_version is not None
        _void_approval(bulletin)
        _transition(bulletin, BulletinStatus.DRAFT, actor=actor, now=now, action="bulletin.edited_back_to_draft",
                    details={"approval_voided": voided})
    audit.record("bulletin.edited", actor=actor, subject_type="bulletin", subject_id=bulletin.id,
                 details={"version": bulletin.version}, now=now)
    return bulletin


def _void_approval(bulletin: Bulletin) -> None:
    bulletin.approved_by_id = None
    bulletin.approved_at = None
    bulletin.approved_version = None
    bulletin.scheduled_for = None


def _transition(bulletin: Bulletin, to: BulletinStatus, *, actor: User | None, now: datetime, action: str,
                comment: str | None = None, details: dict[str, Any] | None = None) -> BulletinTransition:
    record = BulletinTransition(bulletin_id=bulletin.id, from_status=bulletin.status, to_status=to.value,
                                version=bulletin.version, actor_id=actor.id if actor else None, at=now,
                                comment=comment, details=details or {})
    db.session.add(record)
    audit.record(action, actor=actor, subject_type="bulletin", subject_id=bulletin.id,
                 details={"from": bulletin.status, "to": to.value, "version": bulletin.version,
                          **(details or {})}, now=now)
    bulletin.status = to.value
    bulletin.updated_at = now
    return record


def transitions(bulletin: Bulletin) -> Sequence[BulletinTransition]:
    return db.session.scalars(select(BulletinTransition).where(BulletinTransition.bulletin_id == bulletin.id)
                              .order_by(BulletinTransition.id)).all()


def authors(bulletin: Bulletin) -> set[int]:
    """Everyone who created the bulletin or wrote one of its versions."""
    ids = set(db.session.scalars(select(BulletinVersion.author_id).where(BulletinVersion.bulletin_id == bulletin.id)))
    ids.add(bulletin.created_by_id)
    return {author for author in ids if author is not None}


# --- approval ---------------------------------------------------------------------------------

def submit(bulletin: Bulletin, *, actor: User, now: datetime) -> None:
    if bulletin.status != BulletinStatus.DRAFT.value:
        raise WrongStatus()
    _transition(bulletin, BulletinStatus.SUBMITTED, actor=actor, now=now, action="bulletin.submitted")


def may_approve(bulletin: Bulletin, user: User) -> bool:
    return user.has_role(Role.LEAD) and user.id not in authors(bulletin)


def approve(bulletin: Bulletin, *, version: int, acknowledged: Iterable[str], actor: User, now: datetime) -> None:
    """The two-person rule, the version seen, every warning acknowledged, no language missing."""
    if bulletin.status != BulletinStatus.SUBMITTED.value:
        raise WrongStatus()
    if not actor.has_role(Role.LEAD):
        raise NotLead()
    if actor.id in authors(bulletin):
        raise OwnBulletin()
    if version != bulletin.version:
        raise StaleVersion()
    findings = checks.run_checks(bulletin)
    if any(finding.blocking for finding in findings):
        raise LanguageMissing()
    keys = sorted(finding.key for finding in findings)
    if not set(keys) <= set(acknowledged):
        raise ChecksNotAcknowledged()
    bulletin.approved_by_id = actor.id
    bulletin.approved_at = now
    bulletin.approved_version = bulletin.version
    _transition(bulletin, BulletinStatus.APPROVED, actor=actor, now=now, action="bulletin.approved",
                details={"acknowledged": keys})


def return_to_draft(bulletin: Bulletin, comment: str, *, actor: User, now: datetime) -> None:
    """A lead sends it back with what needs to change; an approval or a schedule is voided."""
    if bulletin.status not in (BulletinStatus.SUBMITTED.value, BulletinStatus.APPROVED.value,
                               BulletinStatus.SCHEDULED.value):
        raise WrongStatus()
    if not actor.has_role(Role.LEAD):
        raise NotLead()
    text = parse_text(comment, max_length=5000, required=False)
    if not text:
        raise CommentRequired()
    _void_approval(bulletin)
    _transition(bulletin, BulletinStatus.DRAFT, actor=actor, now=now, action="bulletin.returned", comment=text)


def mark_single_language(bulletin: Bulletin, language: str | None, reason: str, *, actor: User,
                         now: datetime) -> None:
    """A lead decides it goes out in one language only (``None`` undoes it). Before approval only."""
    if bulletin.status not in (BulletinStatus.DRAFT.value, BulletinStatus.SUBMITTED.value):
        raise WrongStatus()
    if not actor.has_role(Role.LEAD):
        raise NotLead()
    if language is not None:
        if language not in LANGUAGES:
            raise InvalidInput()
        text = parse_line(reason, max_length=500, required=False)
        if not text:
            raise ReasonRequired()
    else:
        text = None
    bulletin.single_language = language
    bulletin.single_language_reason = text
    bulletin.single_language_by_id = actor.id if language else None
    audit.record("bulletin.single_language", actor=actor, subject_type="bulletin", subject_id=bulletin.id,
                 details={"language": language, "version": bulletin.version}, now=now)


def languages_sent(bulletin: Bulletin) -> tuple[str, ...]:
    return (bulletin.single_language,) if bulletin.single_language else LANGUAGES


# --- scheduling -------------------------------------------------------------------------------

def local_to_utc(day: date, at: time) -> datetime:
    """A wall-clock time in the team's zone, in UTC. A time skipped by the spring change is refused;
    a repeated one (the autumn change) is its first occurrence (still daylight time)."""
    zone = team_timezone()
    local = datetime.combine(day, at).replace(tzinfo=zone, fold=0)
    utc = local.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise TimeDoesNotExist()
    return utc


def is_edition(bulletin: Bulletin) -> bool:
    return db.session.scalar(select(SeriesOccurrence.id).where(SeriesOccurrence.bulletin_id == bulletin.id)) \
        is not None


def schedule(bulletin: Bulletin, at: datetime | None, *, actor: User, now: datetime, late: bool = False) -> None:
    """Send now (``at`` None) or at ``at`` (aware); the scheduler starts it when due.

    A series' edition has its time: the scheduler sends it then if approved; only a held
    edition is sent by hand (``late``, from ``series.send_late``)."""
    if bulletin.status != BulletinStatus.APPROVED.value or bulletin.approved_version != bulletin.version:
        raise WrongStatus()
    if not late and is_edition(bulletin):
        raise EditionHasItsTime()
    if at is not None and at <= now:
        raise TimeInPast()
    bulletin.scheduled_for = at or now
    _transition(bulletin, BulletinStatus.SCHEDULED, actor=actor, now=now, action="bulletin.scheduled",
                details={"scheduled_for": bulletin.scheduled_for.isoformat(), "now": at is None})


def unschedule(bulletin: Bulletin, *, actor: User, now: datetime) -> None:
    if bulletin.status != BulletinStatus.SCHEDULED.value:
        raise WrongStatus()
    bulletin.scheduled_for = None
    _transition(bulletin, BulletinStatus.APPROVED, actor=actor, now=now, action="bulletin.unscheduled")


def cancel(bulletin: Bulletin, *, actor: User, now: datetime) -> None:
    """Nothing more leaves. A send under way stops (what was not sent is skipped)."""
    if bulletin.status not in CANCELLABLE:
        raise WrongStatus()
    if not actor.has_role(Role.LEAD):
        raise NotLead()
    if bulletin.status == BulletinStatus.SENDING.value and bulletin.send_key:
        from inquiry_desk.mail import sending

        send = sending.get_send(bulletin.send_key)
        if send.status not in ("cancelled", "done"):
            sending.cancel_send(send, now=now)
    _transition(bulletin, BulletinStatus.CANCELLED, actor=actor, now=now, action="bulletin.cancelled")


# --- test send --------------------------------------------------------------------------------

def test_send(bulletin: Bulletin, addresses: Iterable[str], *, actor: User, now: datetime) -> int:
    """Each language to each address, through the outbox, the subject marked [TEST]. Staff addresses only."""
    wanted = sorted({parse_email_address(address) for address in addresses if address.strip()})
    if not wanted:
        wanted = [actor.email]
    if len(wanted) > TEST_RECIPIENTS_MAX:
        raise InvalidInput()
    staff = {email.lower() for email in db.session.scalars(
        select(User.email).where(User.active.is_(True)))}
    if any(address.lower() not in staff for address in wanted):
        raise NotStaffAddress()
    run = uuid.uuid4().hex[:12]
    count = 0
    for lang in languages_sent(bulletin):
        if not bulletin.has_language(lang):
            continue
        rendered = rendering.render_bulletin(
            rendering.parts(bulletin.title(lang), bulletin.subject(lang), bulletin.body(lang)), lang,
            sender_name=bulletin.sender_name, archive_url=None, personal_links=False, test=True)
        for address in wanted:
            queue_email(cause_key=f"bulletin:{bulletin.id}:test:{run}:{lang}:{count}", to=address,
                        rendered=rendered, language=lang, now=now, automatic="auto-generated")
            count += 1
    audit.record("bulletin.test_sent", actor=actor, subject_type="bulletin", subject_id=bulletin.id,
                 details={"version": bulletin.version, "messages": count}, now=now)
    return count


class NotStaffAddress(InvalidInput):
    code = "bulletin_test_not_staff"
    default_message = _l("Test sends go to staff addresses only.")
