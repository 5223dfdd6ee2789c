"""How many inquiries each queue holds, kept by the database as inquiries change (issue 19).

Every inquiry sits in one cell: (status, assignee or 0 for nobody, has a due time). Triggers on
``inquiries`` (migration 0024) add a row of +1 to its new cell and -1 to its old one whenever an
inquiry is inserted, deleted, or changes status, assignee or whether it is due, in the same
transaction as the change: ORM changes, bulk updates, merges, retention purges and foreign-key
actions alike. Rows are only ever inserted, so concurrent writers on PostgreSQL never wait on a
hot counter row; a queue's figure is the sum of its cells' rows. ``compact`` (the scheduler, every
minute) folds the rows into one per cell; ``recount`` (nightly) rebuilds them from the inquiries.

The queues that depend on the clock (due soon, overdue) are counted by the due-time index
(``queues.queue_counts``), from the number of inquiries with a due time kept here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Boolean, String, case, delete, func, insert, select, text
from sqlalchemy.orm import Mapped, mapped_column

from inquiry_desk.core.extensions import Model, db
from inquiry_desk.inquiries.models import Inquiry, Status

NOBODY = 0
MINE = (Status.NEW.value, Status.OPEN.value, Status.WAITING.value)  # queues.py: "mine"
ACTIVE = (Status.NEW.value, Status.OPEN.value)


class QueueTally(Model):
    """A change of the number of inquiries in one cell (status, assignee, has a due time)."""

    __tablename__ = "queue_tallies"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    assignee_id: Mapped[int] = mapped_column(default=NOBODY)  # no foreign key: a deleted user's tallies move by trigger
    has_due: Mapped[bool] = mapped_column(Boolean)
    delta: Mapped[int]


@dataclass(frozen=True)
class Tallies:
    """The figures the inbox needs, for one reader: by status, unassigned, theirs, with a due time."""

    by_status: dict[str, int]
    unassigned: int
    mine: int
    due: int

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def read(user_id: int) -> Tallies:
    """One query over the tally rows (a few per cell after compaction)."""
    who = case((QueueTally.assignee_id == NOBODY, 0), (QueueTally.assignee_id == user_id, 1), else_=2)
    rows = db.session.execute(select(QueueTally.status, who, QueueTally.has_due, func.sum(QueueTally.delta))
                              .group_by(QueueTally.status, who, QueueTally.has_due))
    by_status: dict[str, int] = defaultdict(int)
    unassigned = mine = due = 0
    for status, whose, has_due, count in rows:
        count = int(count or 0)
        by_status[status] += count
        unassigned += count if whose == 0 and status in ACTIVE else 0
        mine += count if whose == 1 and status in MINE else 0
        due += count if has_due else 0
    return Tallies(by_status=dict(by_status), unassigned=unassigned, mine=mine, due=due)


def compact() -> int:
    """Fold the tally rows into one per cell; the number of rows folded. Safe beside writers and itself.

    One DELETE ... RETURNING takes exactly the rows it removes (rows committed meanwhile stay), and
    their sums go back in the same transaction: a reader sees the old rows or the new, never neither.
    """
    removed = db.session.execute(delete(QueueTally).returning(
        QueueTally.status, QueueTally.assignee_id, QueueTally.has_due, QueueTally.delta)).all()
    sums: dict[tuple[str, int, bool], int] = defaultdict(int)
    for status, assignee_id, has_due, delta in removed:
        sums[(status, assignee_id, bool(has_due))] += delta
    cells = [{"status": status, "assignee_id": assignee_id, "has_due": has_due, "delta": delta}
             for (status, assignee_id, has_due), delta in sums.items() if delta]
    if cells:
        db.session.execute(insert(QueueTally), cells)
    return len(removed)


def recount() -> int:
    """Rebuild the tallies from the inquiries themselves (nightly, and after a bulk load); the cells.

    On PostgreSQL the table is locked first (EXCLUSIVE: reads go on, writers of inquiries wait
    the length of one count), so that no change falls between the count and the new rows.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("LOCK TABLE queue_tallies IN EXCLUSIVE MODE"))
    db.session.execute(delete(QueueTally))
    has_due = Inquiry.due_at.is_not(None)
    assignee = func.coalesce(Inquiry.assignee_id, NOBODY)
    counted = select(Inquiry.status, assignee, has_due, func.count()).group_by(Inquiry.status, assignee, has_due)
    cells = [{"status": status, "assignee_id": assignee_id, "has_due": bool(due), "delta": count}
             for status, assignee_id, due, count in db.session.execute(counted)]
    if cells:
        db.session.execute(insert(QueueTally), cells)
    return len(cells)
