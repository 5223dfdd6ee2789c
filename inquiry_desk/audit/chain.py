"""The audit log's hash chain: tampering with an entry, or deleting one, shows.

Each entry is *sealed* once committed: a row of ``audit_seals`` holds the SHA-256 of the
entry's content together with the previous seal's hash. ``verify`` walks the seals in order
and recomputes every hash from the entries as they are now: an entry changed behind the
application's back (the triggers disabled, a restored backup edited), deleted, or a seal
changed, breaks the chain at that point.

Sealing happens after the commit (the ``audit_seal`` job every minute, ``flask audit seal``),
not as each entry is written: a chain written inline would make every transaction that audits
anything wait for the one before it. Entries are sealed in id order; one that commits late with
a lower id than entries already sealed is sealed next time, later in the chain. Only one sealer
runs at a time (an advisory lock on PostgreSQL; SQLite has a single writer).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text

from inquiry_desk.audit.models import AuditEvent, AuditSeal
from inquiry_desk.core.extensions import db

GENESIS = "0" * 64
BATCH = 1000
# Entries that commit late are looked for among this many ids below the last one sealed.
LATE_WINDOW = 10_000
_LOCK_KEY = 7_314_002  # pg_advisory_xact_lock key of the sealer


def digest(event: AuditEvent, prev_hash: str) -> str:
    """The hash of one entry's content chained to the previous hash."""
    content = json.dumps({
        "id": event.id, "at": event.at.isoformat(), "actor_id": event.actor_id, "action": event.action,
        "subject_type": event.subject_type, "subject_id": event.subject_id, "details": event.details,
        "ip_address": event.ip_address,
    }, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{prev_hash}\n{content}".encode()).hexdigest()


def seal(now: datetime, *, batch: int = BATCH) -> int:
    """Seal every entry not sealed yet, in batches (a commit per batch); returns how many were sealed."""
    sealed = 0
    while True:
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        last = db.session.scalar(select(AuditSeal).order_by(AuditSeal.seq.desc()).limit(1))
        high = db.session.scalar(select(func.max(AuditSeal.event_id))) or 0
        unsealed = select(AuditEvent).where(
            AuditEvent.id > high - LATE_WINDOW,
            ~select(AuditSeal.seq).where(AuditSeal.event_id == AuditEvent.id).exists(),
        ).order_by(AuditEvent.id).limit(batch)
        events = db.session.scalars(unsealed).all()
        prev = last.hash if last is not None else GENESIS
        for event in events:
            current = digest(event, prev)
            db.session.add(AuditSeal(event_id=event.id, prev_hash=prev, hash=current, sealed_at=now))
            prev = current
        db.session.commit()
        sealed += len(events)
        if len(events) < batch:
            return sealed


@dataclass(frozen=True)
class Break:
    seq: int
    event_id: int
    problem: str  # "changed", "missing", "seal changed"


def verify(*, batch: int = BATCH) -> Iterator[Break]:
    """Every place the chain is broken, in order (nothing when the log is intact)."""
    prev = GENESIS
    after = 0
    while True:
        seals = db.session.scalars(
            select(AuditSeal).where(AuditSeal.seq > after).order_by(AuditSeal.seq).limit(batch)).all()
        if not seals:
            return
        events = {event.id: event for event in db.session.scalars(
            select(AuditEvent).where(AuditEvent.id.in_([seal_.event_id for seal_ in seals])))}
        for seal_ in seals:
            event = events.get(seal_.event_id)
            if seal_.prev_hash != prev:
                yield Break(seal_.seq, seal_.event_id, "seal changed")
            if event is None:
                yield Break(seal_.seq, seal_.event_id, "missing")
            elif digest(event, seal_.prev_hash) != seal_.hash:
                yield Break(seal_.seq, seal_.event_id, "changed")
            prev = seal_.hash
        after = seals[-1].seq
        for loaded in (*seals, *events.values()):  # keep memory flat over a long log
            db.session.expunge(loaded)
