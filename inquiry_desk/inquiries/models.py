"""The Inquiry aggregate: an inquiry, its thread of messages, topics, private links."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inquiry_desk.database import UTCDateTime, utcnow
from inquiry_desk.directory.models import Contact, Organisation
from inquiry_desk.extensions import db


class Status(StrEnum):
    NEW = "new"
    OPEN = "open"
    WAITING = "waiting"  # on the stakeholder
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Channel(StrEnum):
    WEB = "web"
    EMAIL = "email"
    PHONE = "phone"
    MANUAL = "manual"


class MessageKind(StrEnum):
    INBOUND = "inbound"  # from the stakeholder
    REPLY = "reply"  # from staff to the stakeholder
    NOTE = "note"  # internal, never sent or shown in the portal


class Topic(db.Model):
    """A managed list of subjects inquiries are about, named in both languages."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_fr: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    def name(self, lang: str) -> str:
        return self.name_fr if lang == "fr" else self.name_en


class Inquiry(db.Model):
    __tablename__ = "inquiries"
    __table_args__ = (
        Index("ix_inquiries_status_received", "status", "received_at", "id"),
        Index("ix_inquiries_received", "received_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # INQ-YYYY-NNNNNN, made from the id the database allocated: never shared, gaps allowed.
    reference: Mapped[str | None] = mapped_column(String(24), unique=True)
    subject: Mapped[str] = mapped_column(String(300))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=Status.NEW.value)
    priority: Mapped[str] = mapped_column(String(16), default=Priority.NORMAL.value)
    language: Mapped[str] = mapped_column(String(2), default="en")
    channel: Mapped[str] = mapped_column(String(16), default=Channel.WEB.value)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    # What the requester told us about themselves, as typed or chosen.
    organisation_name: Mapped[str | None] = mapped_column(String(300))
    organisation_kind: Mapped[str | None] = mapped_column(String(40))
    # Set only when the sender's email domain is a verified domain of a trusted partner.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    trusted_partner: Mapped[bool] = mapped_column(default=False)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bumped on every change, so that a stale form can be told apart (collision warning).
    version: Mapped[int] = mapped_column(default=1)

    topic: Mapped[Topic | None] = relationship()
    contact: Mapped[Contact] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    messages: Mapped[list[Message]] = relationship(
        back_populates="inquiry", order_by="Message.created_at, Message.id", cascade="all, delete-orphan"
    )


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_inquiry_created", "inquiry_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(16), default=Channel.WEB.value)
    # The Message-ID of the email that carried it (in or out), for threading.
    email_message_id: Mapped[str | None] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    inquiry: Mapped[Inquiry] = relationship(back_populates="messages")


class PortalLink(db.Model):
    """A private link that opens one inquiry for its requester. Only a hash is kept."""

    __tablename__ = "portal_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    inquiry: Mapped[Inquiry] = relationship()
