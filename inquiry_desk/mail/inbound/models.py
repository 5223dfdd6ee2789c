"""Messages that came in by email, kept whole, and the soft-bounce count of each address."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.database import UTCDateTime
from inquiry_desk.core.extensions import Model


class InboundOutcome:
    """What became of a message (``InboundEmail.outcome``)."""

    PENDING = "pending"  # stored, not yet handed up (a crash in between: the next delivery finishes it)
    THREADED = "threaded"  # joined an inquiry
    NEW_INQUIRY = "new_inquiry"
    NOTE = "note"  # an out-of-office reply, kept as a note
    IGNORED = "ignored"  # ours, or an automatic message that belongs nowhere
    BOUNCE = "bounce"


class InboundEmail(Model):
    """One message received (by the MTA's pipe or from IMAP), stored once.

    ``message_id`` (the header, when it has one that fits) and ``content_hash`` (SHA-256 of the
    headers that name the message and of its body, line ends folded: the same message by a pipe
    and by IMAP, with different Received lines, has one hash) are unique: the second arrival
    finds the first row. ``raw`` is the message as received, for "show whole message"; purged
    with the inquiry it belongs to. ``sender_key`` (From, lower case) counts a sender's messages
    and acknowledgements per hour.
    """

    __tablename__ = "inbound_emails"
    __table_args__ = (Index("ix_inbound_emails_sender_received", "sender_key", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column()
    sender_key: Mapped[str | None] = mapped_column(String(400))
    source: Mapped[str] = mapped_column(String(16))  # pipe | imap
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    outcome: Mapped[str] = mapped_column(String(32), default=InboundOutcome.PENDING)
    # Why (a code, never personal data): "own_address", "out_of_office", "list", "loop"…
    reason: Mapped[str | None] = mapped_column(String(100))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BouncedAddress(Model):
    """An address bounce reports named: soft bounces counted (suppressed after
    ``MAIL_SOFT_BOUNCE_LIMIT``), the hard one dated, and whether a capability followed it up
    (``followed_up_at``, claimed by a conditional UPDATE: once per address)."""

    __tablename__ = "mail_bounced_addresses"

    address_key: Mapped[str] = mapped_column(String(400), primary_key=True)
    soft_count: Mapped[int] = mapped_column(default=0)
    hard_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    followed_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
