"""The statements of the send engine: claim deliveries, mark them, put them back, the shared rate limit.

Each stands alone (the worker runs them on an autocommit connection). ``Marker`` marks
accepted deliveries from a thread of its own; see ``mail.worker`` for how they fit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, bindparam, case, exists, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from inquiry_desk.mail.lease import lease_end as end_of_lease
from inquiry_desk.mail.models import Delivery, DeliveryStatus, MailSend, MailSuppression, SendStatus, SendThrottle

THROTTLE = "bulk"


@dataclass
class Claimed:
    id: int
    send_id: int
    address: str
    language: str
    subscription_id: int | None
    attempts: int


# Bound parameters only, in each driver's style.
_MARK_SENT_POSTGRESQL = ("UPDATE mail_deliveries SET status = 'sent', attempts = attempts + 1, smtp_code = 250, "
                         "accepted_at = %(now)s, last_error = NULL WHERE id = %(row_id)s")
_MARK_SENT_SQLITE = ("UPDATE mail_deliveries SET status = 'sent', attempts = attempts + 1, smtp_code = 250, "
                     "accepted_at = :now, last_error = NULL WHERE id = :row_id")


class Marker:
    """Marks accepted deliveries from a thread (and database connection) of its own.

    The mark of one message runs while the next one's envelope goes to the server;
    that message's DATA waits for it (``wait`` as ``before_data``), so at any moment
    at most one accepted message is not yet marked: a crash still repeats at most one.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mail-marker")
        self.future: Future[None] | None = None
        self.connection: Connection | None = None
        self.cursor: Any = None
        # The driver's own cursor with one fixed statement: the mark is per message, and SQLAlchemy's
        # execution machinery costs more CPU than the statement (CPU the SMTP server shares).
        dialect = engine.dialect
        self.sql = _MARK_SENT_POSTGRESQL if dialect.name == "postgresql" else _MARK_SENT_SQLITE
        self.to_database = _DELIVERIES.c.accepted_at.type.dialect_impl(dialect).bind_processor(dialect)

    def mark_sent(self, row_id: int, now: datetime) -> None:
        self.wait()
        self.future = self.executor.submit(self._run, row_id, now)

    def _run(self, row_id: int, now: datetime) -> None:
        try:
            if self.connection is None:
                self.connection = self.engine.connect()
                self.connection.execution_options(isolation_level="AUTOCOMMIT")  # the driver commits each
                fast_commits(self.connection)
                self.cursor = self.connection.connection.cursor()
            value = self.to_database(now) if self.to_database else now
            self.cursor.execute(self.sql, {"now": value, "row_id": row_id})
            if self.cursor.rowcount != 1:
                raise RuntimeError(f"delivery {row_id} could not be marked sent")
        except SQLAlchemyError:
            self._close_connection()
            raise
        except Exception as exc:  # the driver's own error: the worker's loop knows SQLAlchemy's
            self._close_connection()
            raise OperationalError(self.sql, None, exc) from exc

    def wait(self) -> None:
        """Until the last mark is in the database (raises what it raised)."""
        if self.future is not None:
            future, self.future = self.future, None
            future.result()

    def _close_connection(self) -> None:
        self.cursor = None
        if self.connection is not None:
            with contextlib.suppress(Exception):
                self.connection.close()
            self.connection = None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.wait()
        self.executor.submit(self._close_connection).result()
        self.executor.shutdown()


def fast_commits(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET synchronous_commit TO OFF")
    else:
        connection.exec_driver_sql("PRAGMA synchronous=NORMAL")


def claim(connection: Connection, now: datetime, limit: int, lease_seconds: float) -> list[Claimed]:
    """Take up to ``limit`` due deliveries of running sends: expired leases first, then queued ones.

    One send at a time (the oldest first), each through the index ``(send_id, status,
    next_attempt_at, id)``: the rows of a paused, cancelled or finished send are never
    read, however many there are.
    """
    running = list(connection.scalars(select(MailSend.id).where(MailSend.status == SendStatus.SENDING.value)
                                      .order_by(MailSend.id)))
    lease_end = end_of_lease(now, lease_seconds)  # also the claim's token (see mail.lease)
    taken: list[Claimed] = []
    for send_id in running:
        for status in (DeliveryStatus.SENDING.value, DeliveryStatus.QUEUED.value):
            wanted = limit - len(taken)
            if wanted <= 0:
                break
            taken.extend(_claim_of_send(connection, send_id, status, now, wanted, lease_end))
    taken.sort(key=lambda row: row.id)
    return taken


def _claim_of_send(connection: Connection, send_id: int, status: str, now: datetime, wanted: int,
                   lease_end: datetime) -> list[Claimed]:
    due = (select(Delivery.id)
           .where(Delivery.send_id == send_id, Delivery.status == status, Delivery.next_attempt_at <= now)
           .order_by(Delivery.next_attempt_at, Delivery.id).limit(wanted))
    returning = (Delivery.id, Delivery.send_id, Delivery.address, Delivery.language, Delivery.subscription_id,
                 Delivery.attempts)
    claimed = {"status": DeliveryStatus.SENDING.value, "next_attempt_at": lease_end}
    if connection.dialect.name == "postgresql":
        # A materialised CTE runs the locking SELECT once: as a subquery of IN the planner may run
        # it again for each row, and with SKIP LOCKED each run finds other rows (more than the limit).
        chosen = due.with_for_update(skip_locked=True).cte("chosen").prefix_with("MATERIALIZED")
        statement = update(Delivery).where(Delivery.id == chosen.c.id)
    else:
        # SQLite: read first, so that an idle worker never takes the database's one write lock; the
        # UPDATE re-checks each row's state, so a row another worker took meanwhile is skipped.
        ids = list(connection.scalars(due))
        if not ids:
            return []
        statement = update(Delivery).where(Delivery.id.in_(ids), Delivery.status == status,
                                           Delivery.next_attempt_at <= now)
    rows = connection.execute(statement.values(**claimed).returning(*returning)).all()
    return [Claimed(*row) for row in rows]


def reserve_slots(connection: Connection, count: int, rate: float, now: float) -> float:
    """Move the shared window on by ``count / rate`` seconds; return where this reservation starts."""
    cost = count / rate
    moved = (case((SendThrottle.next_free > now, SendThrottle.next_free), else_=literal(now)) + cost)
    for _ in range(2):
        end = connection.execute(update(SendThrottle).where(SendThrottle.name == THROTTLE)
                                 .values(next_free=moved).returning(SendThrottle.next_free)).scalar()
        if end is not None:
            return float(end) - cost
        insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        connection.execute(insert(SendThrottle).values(name=THROTTLE, next_free=0.0)
                           .on_conflict_do_nothing(index_elements=["name"]))
    raise RuntimeError("the mail throttle row cannot be written")


def finish_sends_on(connection: Connection, now: datetime) -> int:
    """Mark done the running sends with nothing left to send (a worker calls it when it finds no work)."""
    if connection.scalar(select(MailSend.id).where(MailSend.status == SendStatus.SENDING.value).limit(1)) is None:
        return 0  # the usual idle case: read only
    pending = exists().where(Delivery.send_id == MailSend.id,
                             Delivery.status.in_((DeliveryStatus.QUEUED.value, DeliveryStatus.SENDING.value)))
    result = connection.execute(update(MailSend).where(MailSend.status == SendStatus.SENDING.value, ~pending)
                                .values(status=SendStatus.DONE.value, finished_at=now))
    return int(getattr(result, "rowcount", 0) or 0)


# Built once (Core, on the table): a statement per message would cost more than the commit.
_DELIVERIES = cast(Table, Delivery.__table__)
# A row this worker still holds: claimed, with its token (a worker that took it over wrote a later lease end).
_HELD = (_DELIVERIES.c.status == DeliveryStatus.SENDING.value) & (_DELIVERIES.c.next_attempt_at == bindparam("token"))
_RETRY = (update(_DELIVERIES).where(_DELIVERIES.c.id == bindparam("row_id"), _HELD)
          .values(status=DeliveryStatus.QUEUED.value, attempts=_DELIVERIES.c.attempts + 1,
                  next_attempt_at=bindparam("when"), smtp_code=bindparam("code"), last_error=bindparam("error")))
_FAILED = (update(_DELIVERIES).where(_DELIVERIES.c.id == bindparam("row_id"), _HELD)
           .values(status=DeliveryStatus.FAILED.value, attempts=_DELIVERIES.c.attempts + 1,
                   smtp_code=bindparam("code"), last_error=bindparam("error")))


def mark_retry(connection: Connection, row: Claimed, token: datetime, when: datetime, code: int | None,
               error: str) -> None:
    connection.execute(_RETRY, {"row_id": row.id, "token": token, "when": when, "code": code, "error": error})


def mark_failed(connection: Connection, row: Claimed, token: datetime, code: int | None, error: str) -> None:
    connection.execute(_FAILED, {"row_id": row.id, "token": token, "code": code, "error": error})


def _held(rows: Sequence[Claimed], token: datetime) -> Any:
    return update(Delivery).where(Delivery.id.in_([row.id for row in rows]),
                                  Delivery.status == DeliveryStatus.SENDING.value, Delivery.next_attempt_at == token)


def renew(connection: Connection, rows: Sequence[Claimed], token: datetime, new_end: datetime) -> set[int]:
    """Move the lease of the rows this worker still holds (``token``) to ``new_end``; the ids renewed.

    A row missing from the answer was taken over by another worker when the lease ended: it is theirs.
    """
    if not rows:
        return set()
    return set(connection.scalars(_held(rows, token).values(next_attempt_at=new_end).returning(Delivery.id)))


def release(connection: Connection, rows: Sequence[Claimed], now: datetime, token: datetime,
            delay: timedelta = timedelta(0)) -> int:
    """Put back the rows this worker still holds, not attempted (it stops, the send is paused, the server is away)."""
    if not rows:
        return 0
    connection.execute(_held(rows, token).values(status=DeliveryStatus.QUEUED.value, next_attempt_at=now + delay))
    return len(rows)


def set_status(connection: Connection, rows: Sequence[Claimed], token: datetime, status: DeliveryStatus) -> int:
    connection.execute(_held(rows, token).values(status=status.value))
    return len(rows)


def suppress(connection: Connection, row: Claimed, code: int | None, now: datetime) -> None:
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    connection.execute(insert(MailSuppression).values(address_key=row.address.strip().lower(), reason="bounce",
                                                  smtp_code=code, created_at=now)
                       .on_conflict_do_nothing(index_elements=["address_key"]))
