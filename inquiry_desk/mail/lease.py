"""A claim's lease as the worker that holds it sees it: never send a message it could outlive.

A batch (bulk deliveries or outbox emails) is claimed by writing the lease's end into its
rows; that value is also the claim's token: a worker that takes the rows over once the
lease has ended writes a later end, so an UPDATE guarded by the token touches only the
rows this worker still holds. Before each message the worker compares the monotonic clock
with the lease's end (no query); when less than ``margin`` is left it renews the lease of
the rows it still holds (``renewed``) with one guarded UPDATE, and leaves out those
another worker has taken.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

SMTP_TIMEOUTS_PER_LEASE = 4  # a lease holds at least this many SMTP timeouts (checked at start-up)


def margin(lease_seconds: float, smtp_timeout: float) -> float:
    """What must be left of a lease to start a message: two SMTP timeouts (a hung server gives up
    after one), and at least a tenth of the lease (a renewal then costs one UPDATE per 0.9 lease)."""
    return max(2 * smtp_timeout, 0.1 * lease_seconds)


def check(lease_seconds: float, smtp_timeout: float, setting: str) -> None:
    """Raise ValueError with a clear message when the SMTP timeout does not fit the lease."""
    if lease_seconds < SMTP_TIMEOUTS_PER_LEASE * smtp_timeout:
        raise ValueError(f"{setting} ({lease_seconds:g} s) must be at least {SMTP_TIMEOUTS_PER_LEASE} times "
                         f"SMTP_TIMEOUT ({smtp_timeout:g} s): a slow or hung mail server must never hold a "
                         f"claim past its lease; lower SMTP_TIMEOUT or lengthen the lease")


def lease_end(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)


@dataclass
class Lease:
    seconds: float
    margin: float
    claimed_at: datetime  # the claim's time, as written in the database
    began: float  # the same instant on this host's monotonic clock (read before the claim: on the safe side)
    token: datetime  # the lease's end, written in the claimed rows
    ends: float  # the same on the monotonic clock

    @classmethod
    def start(cls, now: datetime, seconds: float, margin: float) -> Lease:
        began = time.monotonic()
        return cls(seconds, margin, now, began, lease_end(now, seconds), began + seconds)

    def running_short(self, slowest_message: float = 0.0) -> bool:
        """Too little left to start a message (with room for two of the slowest seen so far)."""
        return self.ends - time.monotonic() < max(self.margin, 2 * slowest_message)

    def next_end(self) -> tuple[datetime, float]:
        """A renewal's end: in the database's time and on the monotonic clock."""
        at = time.monotonic()
        return lease_end(self.claimed_at + timedelta(seconds=at - self.began), self.seconds), at + self.seconds

    def renewed(self, token: datetime, ends: float) -> None:
        self.token, self.ends = token, ends
