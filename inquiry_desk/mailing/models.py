"""Mailing lists, subscriptions, their consent records, suppressed addresses and import batches.

A subscription is one contact on one list (unique). Its consent records are
append-only: every way in (the public form, staff on request, an import, the
preference page, an undo) writes one when consent is given, and every way out
(unsubscribe, one-click, staff removal) writes one when it is withdrawn; they
are kept as long as the subscription.
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
from inquiry_desk.directory.models import Contact


class SubscriptionStatus(StrEnum):
    PENDING = "pending"
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


class ConsentMethod(StrEnum):
    """How consent was given or withdrawn."""

    PUBLIC_FORM = "public_form"
    STAFF = "staff"
    IMPORT = "import"
    PREFERENCES = "preferences"
    UNDO = "undo"
    ONE_CLICK = "one_click"
    UNSUBSCRIBE_PAGE = "unsubscribe_page"


class SuppressionReason(StrEnum):
    HARD_BOUNCE = "hard_bounce"
    COMPLAINT = "complaint"
    UNSUBSCRIBED = "unsubscribed"
    LEAD = "lead"


class MailingList(Model):
    __tablename__ = "mailing_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_fr: Mapped[str] = mapped_column(String(200))
    description_en: Mapped[str] = mapped_column(Text, default="")
    description_fr: Mapped[str] = mapped_column(Text, default="")
    # Public: anyone may subscribe on the public page. Private: staff add the members.
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    # The kinds of organisation the list is meant for (directory OrganisationKind values).
    organisation_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def name(self, lang: str) -> str:
        return self.name_fr if lang == "fr" else self.name_en

    def description(self, lang: str) -> str:
        return self.description_fr if lang == "fr" else self.description_en

    @property
    def active(self) -> bool:
        return self.archived_at is None


class Subscription(Model):
    __tablename__ = "mailing_subscriptions"
    __table_args__ = (
        UniqueConstraint("list_id", "contact_id"),
        Index("ix_mailing_subscriptions_list_status_id", "list_id", "status", "id"),
        # The members page: newest first within a list, a keyset page at a time.
        Index("ix_mailing_subscriptions_list_id_id", "list_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("mailing_lists.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=SubscriptionStatus.PENDING.value)
    language: Mapped[str] = mapped_column(String(2), default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    mailing_list: Mapped[MailingList] = relationship()
    contact: Mapped[Contact] = relationship()
    consents: Mapped[list[ConsentRecord]] = relationship(
        back_populates="subscription", cascade="all, delete-orphan", order_by="ConsentRecord.id"
    )


class ConsentRecord(Model):
    """One giving or withdrawal of consent, with what was agreed to, how, when and by whom."""

    __tablename__ = "mailing_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("mailing_subscriptions.id", ondelete="CASCADE"), index=True
    )
    given: Mapped[bool] = mapped_column(Boolean)  # False: a withdrawal
    method: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    consent_version: Mapped[str | None] = mapped_column(String(20))
    consent_text: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(2))
    # The address a self-service sign-up came from (the public form, the preference page).
    ip_address: Mapped[str | None] = mapped_column(String(45))
    note: Mapped[str | None] = mapped_column(String(500))

    subscription: Mapped[Subscription] = relationship(back_populates="consents")


class SuppressionEntry(Model):
    """An address never sent to. Lifting keeps the row (``lifted_at``) and is audited."""

    __tablename__ = "mailing_suppressions"
    __table_args__ = (Index("ix_mailing_suppressions_address_lifted", "address", "lifted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(320))
    reason: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    lift_reason: Mapped[str | None] = mapped_column(String(500))


class ImportBatch(Model):
    """An uploaded CSV waiting for its preview to be accepted; nothing of it is a subscriber yet."""

    __tablename__ = "mailing_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("mailing_lists.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    consent_note: Mapped[str] = mapped_column(String(500))
    content: Mapped[str] = mapped_column(Text)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # previewed -> running -> done | failed (a failed import wrote nothing: all or nothing)
    status: Mapped[str] = mapped_column(String(12), default="previewed")
    error: Mapped[str | None] = mapped_column(String(500))
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
