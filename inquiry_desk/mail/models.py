"""The outbox: one row per email to send, written in the transaction that causes it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.database import UTCDateTime
from inquiry_desk.core.extensions import Model


class EmailStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutgoingEmail(Model):
    """An email waiting to leave, sent, or given up on.

    ``cause_key`` names why the email exists ("inquiry:42:confirmation"); it is
    unique, so a cause can never produce two emails, even when the code that
    queues it runs twice. Everything needed to rebuild the message is stored,
    and the Message-ID is fixed at queue time, so a retry sends the same message.
    """

    __tablename__ = "outgoing_emails"
    __table_args__ = (Index("ix_outgoing_emails_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cause_key: Mapped[str] = mapped_column(String(200), unique=True)
    to_address: Mapped[str] = mapped_column(String(400))
    from_address: Mapped[str] = mapped_column(String(400))
    reply_to: Mapped[str | None] = mapped_column(String(400))
    subject: Mapped[str] = mapped_column(String(998))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    # In-Reply-To, References, Auto-Submitted, List-Unsubscribe…, already checked.
    extra_headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    # Files sent with it, by reference to the file store: [{"sha256", "filename", "content_type"}].
    attachments: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    language: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(16), default=EmailStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A lease: while it lies in the future, one sender owns the row and no other takes it.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The error class and SMTP code only: never an address or a body.
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<OutgoingEmail {self.id} {self.status}>"


# --- bulk sends ------------------------------------------------------------------------------


class SendStatus(StrEnum):
    PREPARING = "preparing"  # recipients being added; no worker touches it yet
    SENDING = "sending"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"  # every delivery sent, failed or skipped


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by a worker until ``next_attempt_at`` (its lease)
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"  # the send was cancelled before this one left


class MailSend(Model):
    """One bulk send (a bulletin to its subscribers): the content once per language, and its deliveries.

    ``key`` names what the send is for ("bulletin:42"), unique, so a bulletin can be
    sent once. ``content`` maps a language to ``{"subject", "text", "html"}``, rendered
    once; per recipient only the placeholders of ``sending.PLACEHOLDERS`` change.
    """

    __tablename__ = "mail_sends"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=SendStatus.PREPARING.value)
    from_address: Mapped[str] = mapped_column(String(400))
    reply_to: Mapped[str | None] = mapped_column(String(400))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    extra_headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Addresses left out when recipients were added: suppressed, or already there (overlapping lists).
    left_out_suppressed: Mapped[int] = mapped_column(default=0)
    left_out_duplicate: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<MailSend {self.id} {self.key} {self.status}>"


class Delivery(Model):
    """One message of a bulk send: one row per send and normalised address.

    While ``status`` is ``sending``, ``next_attempt_at`` is the end of the worker's lease:
    past it, another worker takes the row over (the first one died). ``smtp_code`` is the
    server's last answer (250 when accepted); ``last_error`` holds the class and code only.
    """

    __tablename__ = "mail_deliveries"
    __table_args__ = (
        UniqueConstraint("send_id", "address_key", name="uq_mail_deliveries_send_address"),
        Index("ix_mail_deliveries_due", "status", "next_attempt_at", "id"),
        # The claims (one send at a time: a paused send's rows are never read), progress and counts.
        Index("ix_mail_deliveries_send_due", "send_id", "status", "next_attempt_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    send_id: Mapped[int] = mapped_column(ForeignKey("mail_sends.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(400))
    address_key: Mapped[str] = mapped_column(String(400))  # normalised: trimmed, lower case
    language: Mapped[str] = mapped_column(String(2))
    subscription_id: Mapped[int | None] = mapped_column()  # where it came from (the mailing lists' row)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.QUEUED.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    smtp_code: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(String(500))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<Delivery {self.id} {self.status}>"


class MailSuppression(Model):
    """An address that bulk sends leave out: a hard bounce, a complaint, an unsubscribe from everything."""

    __tablename__ = "mail_suppressions"

    address_key: Mapped[str] = mapped_column(String(400), primary_key=True)
    reason: Mapped[str] = mapped_column(String(40))  # bounce | complaint | unsubscribed | manual
    smtp_code: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SendThrottle(Model):
    """The rate limit shared by every worker: the moment (epoch seconds) the next message may leave."""

    __tablename__ = "mail_throttle"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    next_free: Mapped[float] = mapped_column(Float, default=0.0)
