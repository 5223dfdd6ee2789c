"""Bulletins: the current text, every saved version, each transition, and the snapshot of what was sent.

A bulletin holds its current text (title, subject and Markdown body per language) and
numbers every save as a ``BulletinVersion``: the two-person rule asks who wrote any
version, and each transition names the version it applied to. ``BulletinSnapshot``
keeps exactly what left (subject, HTML and text per language, the recipient counts,
the approver and times), written when the send starts and never changed after.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.database import UTCDateTime
from inquiry_desk.core.extensions import Model


class BulletinStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"


class BulletinText:
    """The text of a bulletin, or of a series' template: sender, lists, and title, subject and body per language."""

    sender_name: Mapped[str] = mapped_column(String(200))
    list_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    title_en: Mapped[str] = mapped_column(String(200), default="")
    title_fr: Mapped[str] = mapped_column(String(200), default="")
    subject_en: Mapped[str] = mapped_column(String(200), default="")
    subject_fr: Mapped[str] = mapped_column(String(200), default="")
    body_en: Mapped[str] = mapped_column(Text, default="")
    body_fr: Mapped[str] = mapped_column(Text, default="")

    def title(self, lang: str) -> str:
        return self.title_fr if lang == "fr" else self.title_en

    def subject(self, lang: str) -> str:
        return self.subject_fr if lang == "fr" else self.subject_en

    def body(self, lang: str) -> str:
        return self.body_fr if lang == "fr" else self.body_en

    def has_language(self, lang: str) -> bool:
        return bool(self.title(lang).strip() and self.subject(lang).strip() and self.body(lang).strip())


class Bulletin(BulletinText, Model):
    __tablename__ = "bulletins"
    # The scheduler looks for due bulletins: status, then time.
    __table_args__ = (Index("ix_bulletins_status_scheduled_for", "status", "scheduled_for"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default=BulletinStatus.DRAFT.value)
    version: Mapped[int] = mapped_column(default=1)  # the number of the current version
    # A lead's decision to send in one language only ("en" or "fr"), with the reason.
    single_language: Mapped[str | None] = mapped_column(String(2))
    single_language_reason: Mapped[str | None] = mapped_column(String(500))
    single_language_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_version: Mapped[int | None] = mapped_column()
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime())
    send_key: Mapped[str | None] = mapped_column(String(200), unique=True)  # the engine's MailSend.key
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the send started
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    versions: Mapped[list[BulletinVersion]] = relationship(
        back_populates="bulletin", cascade="all, delete-orphan", order_by="BulletinVersion.number")

    def __repr__(self) -> str:
        return f"<Bulletin {self.id} {self.status} v{self.version}>"


class BulletinVersion(Model):
    """One save of a bulletin: who wrote it, and the whole text as it was."""

    __tablename__ = "bulletin_versions"
    __table_args__ = (UniqueConstraint("bulletin_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletins.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column()
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)

    bulletin: Mapped[Bulletin] = relationship(back_populates="versions")


class BulletinTransition(Model):
    """One change of status, with the version it applied to (also in the audit log)."""

    __tablename__ = "bulletin_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletins.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column()
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    comment: Mapped[str | None] = mapped_column(Text)
    # The warnings acknowledged at approval, the time scheduled, the reason of a voided approval.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class BulletinSnapshot(Model):
    """Exactly what was sent: written once, when the send starts."""

    __tablename__ = "bulletin_snapshots"
    __table_args__ = (Index("ix_bulletin_snapshots_public_started", "public", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletins.id", ondelete="CASCADE"), unique=True)
    version: Mapped[int] = mapped_column()
    # {"en": {"subject", "html", "text"}, "fr": {…}}
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    # {"lists": {"<list id>": {"name_en": …, "name_fr": …, "en": n, "fr": n, "unsubscribed": n, "unconfirmed": n,
    #  "suppressed": n}}, "added": n, "unsubscribed": n, "unconfirmed": n, "suppressed": n, "duplicate": n,
    #  "public": bool, "languages": […]}: members left out counted once per list; snapshots from before
    #  the unsubscribed and unconfirmed counts lack those keys.
    recipients: Mapped[dict[str, Any]] = mapped_column(JSON)
    total: Mapped[int] = mapped_column()
    # Sent to at least one public list: shown in the public archive.
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    sender_name: Mapped[str] = mapped_column(String(200))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SeriesStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class SeriesRule(StrEnum):
    WEEKLY = "weekly"  # on an ISO weekday
    MONTHLY = "monthly"  # on the Nth business day of the month (the team calendar's open days)


class BulletinSeries(BulletinText, Model):
    """A recurring bulletin: a template (its ``BulletinText``), a rule in the team's zone, a lead time, editors.

    The rule is small on purpose: weekly on ``weekday`` (1 = Monday) or monthly on the
    ``business_day``-th open day of the team calendar, at ``at_minute`` (local minutes after
    midnight). Each occurrence becomes a ``SeriesOccurrence`` (unique per series and time).
    """

    __tablename__ = "bulletin_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=SeriesStatus.ACTIVE.value)
    rule: Mapped[str] = mapped_column(String(16))
    weekday: Mapped[int | None] = mapped_column()
    business_day: Mapped[int | None] = mapped_column()
    at_minute: Mapped[int] = mapped_column()
    lead_minutes: Mapped[int] = mapped_column()
    editor_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Who last wrote the template: an edition made from it names them as its first version's author.
    template_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<BulletinSeries {self.id} {self.status} {self.rule}>"


class OccurrenceState(StrEnum):
    CREATED = "created"  # its edition exists (a draft, or further along), waiting for its time
    SKIPPED = "skipped"  # a lead skipped it
    SENT = "sent"  # dispatched at its time
    HELD = "held"  # not approved at its time (or the series was paused): not sent
    SENT_LATE = "sent_late"  # held, then a lead chose to send it
    CANCELLED = "cancelled"  # its edition was cancelled, or the series ended


class SeriesOccurrence(Model):
    """One occurrence of a series: the database makes each happen once (unique series and time)."""

    __tablename__ = "bulletin_series_occurrences"
    __table_args__ = (
        UniqueConstraint("series_id", "occurs_at"),
        # The scheduler looks for editions whose time has come: state, then time.
        Index("ix_bulletin_series_occurrences_state_occurs_at", "state", "occurs_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("bulletin_series.id", ondelete="CASCADE"))
    occurs_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16), default=OccurrenceState.CREATED.value)
    bulletin_id: Mapped[int | None] = mapped_column(ForeignKey("bulletins.id", ondelete="SET NULL"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # sent, held or skipped
    # Why it was held ("not_approved", "paused", "late"), who skipped it or sent it late.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
