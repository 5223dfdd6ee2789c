"""The Inquiry aggregate: an inquiry, its thread of messages, topics, tags, private links,
and who is looking at what. Service targets, canned responses and saved views have
folders of their own (``inquiries/targets``, ``inquiries/canned``, ``inquiries/saved_views``)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Index, String, Table, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.database import UTCDateTime
from inquiry_desk.core.extensions import Model, db
from inquiry_desk.directory.models import Contact, Organisation


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

    @property
    def rank(self) -> int:
        """Higher is more pressing; stored on the inquiry so that sorting by priority uses an index."""
        return list(Priority).index(self) + 1


OPEN_STATUSES = (Status.NEW.value, Status.OPEN.value, Status.WAITING.value)


class Channel(StrEnum):
    WEB = "web"
    EMAIL = "email"
    PHONE = "phone"
    MANUAL = "manual"


class MessageKind(StrEnum):
    INBOUND = "inbound"  # from the stakeholder
    REPLY = "reply"  # from staff to the stakeholder
    NOTE = "note"  # internal, never sent or shown in the portal


class Topic(Model):
    """A managed list of subjects inquiries are about, named in both languages."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_fr: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    # Every inquiry on a restricted topic is restricted (need-to-know: inquiries/access.py).
    restricted: Mapped[bool] = mapped_column(default=False, server_default=false())

    def name(self, lang: str) -> str:
        return self.name_fr if lang == "fr" else self.name_en


inquiry_tags = Table(
    "inquiry_tags",
    db.metadata,
    Column("inquiry_id", ForeignKey("inquiries.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(Model):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)


class Inquiry(Model):
    __tablename__ = "inquiries"
    # Each queue and sort of the inbox walks one of these by keyset (QUALITY.md P1, P3).
    __table_args__ = (
        Index("ix_inquiries_status_received", "status", "received_at", "id"),
        Index("ix_inquiries_received", "received_at", "id"),
        Index("ix_inquiries_assignee_received", "assignee_id", "received_at", "id"),
        Index("ix_inquiries_due", "due_at", "id"),
        Index("ix_inquiries_updated", "updated_at", "id"),
        Index("ix_inquiries_priority_received", "priority_rank", "received_at", "id"),
        # An organisation's and a contact's inquiries, newest first (the directory's pages).
        Index("ix_inquiries_organisation_received", "organisation_id", "received_at", "id"),
        Index("ix_inquiries_contact_received", "contact_id", "received_at", "id"),
        # The dashboard's response times and resolutions in a period (reports).
        Index("ix_inquiries_first_response", "first_response_at"),
        Index("ix_inquiries_resolved", "resolved_at"),
        # The dashboard's workload (open inquiries per assignee, by due time) and top organisations in a
        # period, read from the index alone on PostgreSQL (the reader's need-to-know columns included).
        Index("ix_inquiries_open_assignee_due", "assignee_id", "due_at",
              postgresql_include=["id", "restricted", "topic_id"],
              postgresql_where=text("status IN ('new', 'open', 'waiting') AND merged_into_id IS NULL"),
              sqlite_where=text("status IN ('new', 'open', 'waiting') AND merged_into_id IS NULL")),
        Index("ix_inquiries_unresolved", "assignee_id", postgresql_include=["id", "restricted", "topic_id"],
              postgresql_where=text("resolved_at IS NULL AND merged_into_id IS NULL"),
              sqlite_where=text("resolved_at IS NULL AND merged_into_id IS NULL")),
        Index("ix_inquiries_received_organisation", "received_at", "organisation_id",
              postgresql_include=["id", "merged_into_id", "restricted", "topic_id", "assignee_id"],
              postgresql_where=text("organisation_id IS NOT NULL"),
              sqlite_where=text("organisation_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # INQ-YYYY-NNNNNN, made from the id the database allocated: never shared, gaps allowed.
    reference: Mapped[str | None] = mapped_column(String(24), unique=True)
    subject: Mapped[str] = mapped_column(String(300))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=Status.NEW.value)
    priority: Mapped[str] = mapped_column(String(16), default=Priority.NORMAL.value)
    priority_rank: Mapped[int] = mapped_column(default=Priority.NORMAL.rank)
    language: Mapped[str] = mapped_column(String(2), default="en")
    channel: Mapped[str] = mapped_column(String(16), default=Channel.WEB.value)
    # Empty for an inquiry staff logged without a stakeholder to answer (a call from someone who
    # gave no details, a matter raised in a meeting): such an inquiry is answered by no email.
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    # What the stakeholder told us about themselves, as typed or chosen.
    organisation_name: Mapped[str | None] = mapped_column(String(300))
    organisation_kind: Mapped[str | None] = mapped_column(String(40))
    # The sender's organisation in the directory (by a verified domain, or linked by staff); the
    # badge ``trusted_partner`` only when that domain is a trusted referral partner's.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    # True once the sender proved they hold the address (opened the private link sent to it):
    # until then an inquiry with ``organisation_id`` is "partner domain, address not yet confirmed".
    trusted_partner: Mapped[bool] = mapped_column(default=False)
    # The version of the privacy notice the stakeholder accepted (PRIVACY_NOTICE_VERSION then).
    privacy_notice_version: Mapped[str | None] = mapped_column(String(40))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Service targets, in business hours (see inquiries/targets.py). ``due_at`` is the
    # next target still to meet; empty while waiting on the stakeholder and once resolved.
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The calendar version the due times were computed with; the targets job redoes older ones.
    targets_version: Mapped[int] = mapped_column(default=0)
    # Which notices the targets job has sent: "soon", "missed" (each once per target).
    target_notices: Mapped[str] = mapped_column(String(40), default="")
    # A duplicate merged into another inquiry points to it.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("inquiries.id", ondelete="SET NULL"))
    merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A lead's hold (an access-to-information request, a legal matter): the retention purge skips it.
    hold_reason: Mapped[str | None] = mapped_column(String(500))
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when the retention purge erased the stakeholder's details and the message bodies.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Restricted one by one (need-to-know, inquiries/access.py); a restricted topic restricts too.
    restricted: Mapped[bool] = mapped_column(default=False, server_default=false())
    restricted_reason: Mapped[str | None] = mapped_column(String(500))
    # Bumped by inquiries/recorder.py on every change. It is SQLAlchemy's version counter: each
    # UPDATE says WHERE version = <the one read>, so two changes made at once cannot both commit.
    version: Mapped[int] = mapped_column(default=1)

    topic: Mapped[Topic | None] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=inquiry_tags, order_by="Tag.name")
    contact: Mapped[Contact | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    merged_into: Mapped[Inquiry | None] = relationship(remote_side="Inquiry.id")
    messages: Mapped[list[Message]] = relationship(
        back_populates="inquiry", order_by="Message.created_at, Message.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class Message(Model):
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
    # The whole email it came in (email in): "show whole message".
    inbound_email_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_emails.id", ondelete="SET NULL"),
                                                         index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when a lead replaced the body by the redaction marker (the original is kept nowhere).
    redacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    inquiry: Mapped[Inquiry] = relationship(back_populates="messages")


class FormSubmission(Model):
    """A public form sent once: the nonce of its signed "started" token, and the inquiry it made.

    The unique nonce settles a form posted twice, in a row or at the same moment: the second
    finds the first's row and is shown the first's confirmation; nothing is made or sent twice.
    """

    __tablename__ = "form_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    inquiry_id: Mapped[int | None] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    inquiry: Mapped[Inquiry | None] = relationship()


class PortalLink(Model):
    """A private link that opens one inquiry for its stakeholder. Only a hash is kept."""

    __tablename__ = "portal_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    inquiry: Mapped[Inquiry] = relationship()


class NamedStaff(Model):
    """A staff member named on an inquiry: they may read it when it is restricted."""

    __tablename__ = "inquiry_named_staff"
    __table_args__ = (Index("ix_inquiry_named_staff_user", "user_id", "inquiry_id"),)

    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class InquiryLink(Model):
    """Two inquiries related without moving anything (one family, one policy change).

    Stored once per pair, the lower id first; each inquiry keeps its own stakeholder and thread.
    """

    __tablename__ = "inquiry_links"
    __table_args__ = (CheckConstraint("low_id < high_id", name="ordered_pair"),)

    low_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"), primary_key=True)
    high_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"), primary_key=True,
                                         index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class PersonConcerned(Model):
    """Someone an inquiry is about (often not its sender), and whether consent to disclose their
    information to the sender is on file. Shown only to those who may read the inquiry; never indexed."""

    __tablename__ = "inquiry_people"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    relationship: Mapped[str] = mapped_column(String(100))
    # A UCI, an application number…: optional, as the sender gave them.
    identifiers: Mapped[str | None] = mapped_column(String(300))
    # Consent to disclose this person's information to the sender: how, when, until when, which document.
    consent_how: Mapped[str | None] = mapped_column(String(100))
    consent_given_on: Mapped[date | None] = mapped_column(Date())
    consent_until: Mapped[date | None] = mapped_column(Date())
    consent_document: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def consent_on_file(self, today: date) -> bool:
        if self.consent_given_on is None or self.consent_given_on > today:
            return False
        return self.consent_until is None or self.consent_until >= today


class ReplyNotice(Model):
    """A stakeholder's reply that the assignee (or, with nobody assigned, the team) has not yet seen.

    One row per reply (the unique message id: told once); ``seen_at`` is set when the assignee,
    or anyone when nobody is assigned, opens the inquiry. The inbox marks inquiries with an unseen one.
    """

    __tablename__ = "reply_notices"
    __table_args__ = (Index("ix_reply_notices_unseen", "inquiry_id", "seen_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class InquiryViewer(Model):
    """Who has an inquiry open right now, for the collision warning."""

    __tablename__ = "inquiry_viewers"

    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Attachment(Model):
    """A file that came with a message (email in, the form, the portal, a staff reply), or one refused.

    The bytes live in the file store (``core.file_store``: outside the web root, named by
    ``sha256``); the row holds the name to show (cleaned), the type found in the content, the
    size and the hash. A refused file has no hash: ``refused_reason`` says why (a code of
    ``inquiries.attachments.REFUSALS``), so the thread can tell staff what was not kept.
    """

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    refused_reason: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
