"""The one place that records a change to an inquiry.

Every action that changes an inquiry (triage, a reply, a stakeholder's message, a merge, the
retention purge, a new inquiry) runs inside ``change``::

    with recorder.change(inquiry, actor=actor, now=now) as change:
        inquiry.priority, inquiry.priority_rank = "high", 3
        change.event("priority_changed", before="normal", after="high")

When the outermost block for an inquiry ends, and it recorded at least one event, the
recorder does every step a change needs, so that no action can forget one:

- recomputes the inquiry's service targets (the clock stops or restarts when the status changed);
- bumps its version once and sets ``updated_at``. The version is SQLAlchemy's version counter:
  the UPDATE says ``WHERE version = <the one read>``, so of two people acting on one inquiry at
  the same moment only one can commit (QUALITY.md R9); the other's flush raises
  ``StaleDataError``, which the views turn into "someone changed this inquiry";
- writes the audit events (the inquiry's history), each carrying the new version;
- re-indexes its search document, just before the transaction commits;
- forgets the cached queue counts once the transaction has committed.

A flush that changes an inquiry's columns without a version bump, outside a ``change`` block,
is refused: a new action that bypasses the recorder fails in its first test. The columns the
target machinery maintains by itself (due times, reminders sent) are exempt, and so are
changes to a contact's or organisation's name, which only re-index their inquiries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, SessionTransaction

from inquiry_desk.accounts.models import User
from inquiry_desk.audit import services as audit
from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Contact, Organisation
from inquiry_desk.inquiries import search
from inquiry_desk.inquiries.models import Inquiry
from inquiry_desk.inquiries.targets import due as targets

# Columns kept up to date by the targets machinery (or its job) rather than by an action.
DERIVED_COLUMNS = frozenset({
    "first_response_due_at", "resolution_due_at", "due_at", "paused_at", "targets_version", "target_notices",
})
# Text that lives on a contact or organisation but is part of their inquiries' search documents.
INDEXED_CONTACT_COLUMNS = ("name", "email")
INDEXED_ORGANISATION_COLUMNS = ("name",)

_ACTIVE = "inquiry_changes_active"  # Session.info: {id(inquiry): Change} of the blocks still open
_TO_INDEX = "inquiries_to_index"  # Session.info: inquiry ids whose search document is stale
_UNRECORDED = "inquiry_changes_unrecorded"  # Session.info: depth of ``unrecorded()`` blocks


class ChangedOutsideRecorder(RuntimeError):
    """An inquiry's columns were changed without ``recorder.change``: a programming error."""


@dataclass
class Change:
    """What one action did to one inquiry; see the module notes."""

    inquiry: Inquiry
    actor: User | None
    now: datetime
    status_before: str
    is_new: bool
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def event(self, action: str, **details: Any) -> None:
        """Add an event to the inquiry's history: ``action`` is the part after ``inquiry.``."""
        self.events.append((action, details))

    def _finish(self) -> None:
        if not self.events:
            return
        inquiry, now = self.inquiry, self.now
        if inquiry.status != self.status_before:
            targets.on_status_change(inquiry, self.status_before, now=now)
        targets.apply_targets(inquiry, now=now)
        inquiry.updated_at = now
        # A new inquiry starts at version 1; the database checks the old version of an existing one.
        inquiry.version = 1 if self.is_new else inquiry.version + 1
        if inquiry.id is None:
            db.session.flush()
        actor_id = self.actor.id if self.actor is not None else None
        for action, details in self.events:
            audit.record(f"inquiry.{action}", actor_id=actor_id, subject_type="inquiry", subject_id=inquiry.id,
                         details={**details, "version": inquiry.version}, now=now)
        mark_for_indexing(db.session(), [inquiry.id])


@contextmanager
def change(inquiry: Inquiry, *, actor: User | None, now: datetime) -> Iterator[Change]:
    """Open (or join) the record of a change to ``inquiry``; the steps run when the outermost block ends."""
    active: dict[int, Change] = db.session.info.setdefault(_ACTIVE, {})
    key = id(inquiry)
    if key in active:  # an action calling another one (assign opens a new inquiry): one change
        yield active[key]
        return
    recorded = Change(inquiry=inquiry, actor=actor, now=now, status_before=inquiry.status,
                      is_new=inspect(inquiry).key is None)
    active[key] = recorded
    try:
        yield recorded
        recorded._finish()
    finally:
        active.pop(key, None)


@contextmanager
def unrecorded() -> Iterator[None]:
    """Change inquiries without the recorder: for test set-up and one-off data repairs only.

    What changed is flushed when the block ends; nothing is audited, versioned or re-indexed.
    """
    session = db.session()
    session.info[_UNRECORDED] = session.info.get(_UNRECORDED, 0) + 1
    try:
        yield
        session.flush()
    finally:
        session.info[_UNRECORDED] -= 1


def changed_columns(inquiry: Inquiry) -> set[str]:
    """The inquiry's columns changed since it was loaded or last flushed."""
    state = inspect(inquiry)
    return {attr.key for attr in state.mapper.column_attrs if state.attrs[attr.key].history.has_changes()}


def mark_for_indexing(session: Session, inquiry_ids: list[int]) -> None:
    session.info.setdefault(_TO_INDEX, set()).update(inquiry_ids)


# --------------------------------------------------------------------------- session hooks


@event.listens_for(Session, "before_flush")
def _check_and_collect(session: Session, flush_context: Any, instances: Any) -> None:
    """Refuse changes that bypass the recorder; note inquiries whose contact or organisation was renamed."""
    active = {id(change.inquiry) for change in session.info.get(_ACTIVE, {}).values()}
    unrecorded_allowed = session.info.get(_UNRECORDED, 0) > 0
    renamed_contacts: list[int] = []
    renamed_organisations: list[int] = []
    for instance in session.dirty:
        if isinstance(instance, Inquiry):
            columns = changed_columns(instance) - DERIVED_COLUMNS
            if columns and "version" not in columns and id(instance) not in active and not unrecorded_allowed:
                raise ChangedOutsideRecorder(
                    f"inquiry {instance.id}: {sorted(columns)} changed outside recorder.change()")
        elif isinstance(instance, Contact) and _changed(instance, INDEXED_CONTACT_COLUMNS):
            renamed_contacts.append(instance.id)
        elif isinstance(instance, Organisation) and _changed(instance, INDEXED_ORGANISATION_COLUMNS):
            renamed_organisations.append(instance.id)
    if renamed_contacts or renamed_organisations:
        session.info.setdefault("renamed_owners", []).append((renamed_contacts, renamed_organisations))


def _changed(instance: object, columns: tuple[str, ...]) -> bool:
    state = inspect(instance)
    return any(state.attrs[column].history.has_changes() for column in columns)


@event.listens_for(Session, "before_commit")
def _index_before_commit(session: Session) -> None:
    """Rewrite the search documents of every inquiry changed in this transaction (one pass, at the end)."""
    if not (session.info.get(_TO_INDEX) or session.info.get("renamed_owners") or session.dirty or session.new):
        return
    session.flush()
    ids: set[int] = session.info.pop(_TO_INDEX, set())
    for contacts, organisations in session.info.pop("renamed_owners", []):
        if contacts:
            ids.update(session.scalars(select(Inquiry.id).where(Inquiry.contact_id.in_(contacts))))
        if organisations:
            ids.update(session.scalars(select(Inquiry.id).where(Inquiry.organisation_id.in_(organisations))))
    if ids:
        search.index_inquiries(sorted(ids))
        session.flush()


@event.listens_for(Session, "after_soft_rollback")
def _forget_pending(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        for key in (_TO_INDEX, "renamed_owners"):
            session.info.pop(key, None)
