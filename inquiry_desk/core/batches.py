"""Deleting many rows without one long transaction: batch jobs (housekeeping, purges) use this."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import InstrumentedAttribute

from inquiry_desk.core.database import rows_affected
from inquiry_desk.core.extensions import db

BATCH_SIZE = 1000


def delete_in_batches(id_column: InstrumentedAttribute[int], condition: ColumnElement[bool], *,
                      batch_size: int = BATCH_SIZE) -> int:
    """Delete the rows of ``id_column``'s table matching ``condition``, ``batch_size`` ids at a time.

    Commits after each batch, so that a table of millions of stale rows never holds a
    long write lock (a documented batch-job exception to "services do not commit").
    Returns how many rows were deleted.
    """
    table: Any = id_column.class_
    deleted = 0
    while True:
        ids = db.session.scalars(select(id_column).where(condition).order_by(id_column).limit(batch_size)).all()
        if not ids:
            return deleted
        result = db.session.execute(delete(table).where(id_column.in_(ids)),
                                    execution_options={"synchronize_session": False})
        deleted += rows_affected(result)
        db.session.commit()
        if len(ids) < batch_size:
            return deleted

