"""Values kept per application (``app.extensions``) and forgotten when a commit changes what they were read from.

A rarely changed list that every request of a hot path reads (the public form's topics, the
trusted partners' domains) costs a query each time; kept here, it costs none::

    TOPICS = AppCache("intake_topics", watch={Topic: None}, seconds=5.0)
    rows = TOPICS.get(read_topics)

- The process that changes a watched model sees the change at once: a commit whose flushes
  added, deleted or changed (in one of the watched attributes) a row of a watched model
  forgets the value (ORM events, also for ORM ``update()``/``delete()`` statements). Another
  process (a second gunicorn worker, the scheduler, a CLI command) sees it within ``seconds``.
- Inside a transaction that changed a watched model, and has not committed yet, the value is
  read afresh and not kept: what a rolled-back change showed must not outlive it.
- A change made by SQL text, or straight in the database, is seen within ``seconds``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Any, Generic, TypeVar

from flask import current_app, has_app_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session

from inquiry_desk.core.extensions import db

T = TypeVar("T")
_CHANGED = "app_caches_changed"  # in Session.info: keys of the caches this transaction changed the source of
_CACHES: dict[str, AppCache[Any]] = {}


@dataclass(frozen=True, eq=False)
class AppCache(Generic[T]):
    """One kept value; ``watch`` maps each model it is read from to the attributes that matter (None: any)."""

    key: str
    watch: Mapping[type, frozenset[str] | None]
    seconds: float

    def __post_init__(self) -> None:
        _CACHES[self.key] = self

    def get(self, read: Callable[[], T]) -> T:
        if self._changed_here():
            return read()
        kept: tuple[float, T] | None = current_app.extensions.get(self.key)
        now = time.monotonic()
        if kept is not None and now - kept[0] < self.seconds:
            return kept[1]
        value = read()
        current_app.extensions[self.key] = (now, value)
        return value

    def forget(self) -> None:
        if has_app_context():
            current_app.extensions.pop(self.key, None)

    def _changed_here(self) -> bool:
        session = db.session()
        if self.key in session.info.get(_CHANGED, ()):
            return True
        # Not flushed yet (a read under no_autoflush, or before the first query): the pending objects tell.
        return any(self._touches(item, new_or_deleted=True) for item in chain(session.new, session.deleted)) or \
            any(self._touches(item, new_or_deleted=False) for item in session.dirty)

    def _touches(self, instance: object, *, new_or_deleted: bool) -> bool:
        if type(instance) not in self.watch:
            return False
        attributes = self.watch[type(instance)]
        if new_or_deleted or attributes is None:
            return True
        state = inspect(instance)
        return any(state.attrs[name].history.has_changes() for name in attributes)


def _note(session: Session, keys: Iterable[str]) -> None:
    changed = set(keys)
    if changed:
        session.info.setdefault(_CHANGED, set()).update(changed)


@event.listens_for(Session, "after_flush")
def _note_flushed_changes(session: Session, flush_context: Any) -> None:
    _note(session, (key for key, cache in _CACHES.items()
                    if any(cache._touches(item, new_or_deleted=True) for item in chain(session.new, session.deleted))
                    or any(cache._touches(item, new_or_deleted=False) for item in session.dirty)))


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    mapper = state.bind_mapper
    model = mapper.class_ if mapper is not None else None
    _note(state.session, (key for key, cache in _CACHES.items() if model in cache.watch))


@event.listens_for(Session, "after_commit")
def _forget_changed(session: Session) -> None:
    for key in session.info.pop(_CHANGED, ()):
        _CACHES[key].forget()


@event.listens_for(Session, "after_soft_rollback")
def _keep_after_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the whole transaction: its changes are gone
        session.info.pop(_CHANGED, None)
