"""The audit log: append-only, never edited (QUALITY.md S8)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.database import UTCDateTime
from inquiry_desk.core.extensions import Model


class AuditLogIsAppendOnly(RuntimeError):
    """Raised when code tries to change or delete an audit entry."""


class AuditEvent(Model):
    __tablename__ = "audit_events"
    # The audit log page is keyset-paged on (at, id), newest first, alone or filtered by actor,
    # action or subject (audit/services.py ``search``): each filter has an index in that order.
    __table_args__ = (
        Index("ix_audit_events_subject", "subject_type", "subject_id", "id"),
        Index("ix_audit_events_at_id", "at", "id"),
        Index("ix_audit_events_actor_at", "actor_id", "at", "id"),
        Index("ix_audit_events_action_at", "action", "at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[int | None]
    # Facts about the change (field names, old and new codes); never message bodies or secrets.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip_address: Mapped[str | None] = mapped_column(String(45))


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_changes(mapper: Any, connection: Any, target: AuditEvent) -> None:
    raise AuditLogIsAppendOnly("the audit log can be appended to, never changed")


class AuditSeal(Model):
    """One link of the audit log's hash chain (``audit/chain.py``): the hash of an entry and of the link before.

    Entries are sealed shortly after they commit, in the order the sealer finds them, so that
    writing an entry never waits for another transaction. The table is append-only like the log.
    """

    __tablename__ = "audit_seals"

    seq: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


@event.listens_for(AuditSeal, "before_update")
@event.listens_for(AuditSeal, "before_delete")
def _refuse_seal_changes(mapper: Any, connection: Any, target: AuditSeal) -> None:
    raise AuditLogIsAppendOnly("the audit log's seals can be appended to, never changed")
