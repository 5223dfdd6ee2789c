"""The send engine's hard bounces, recorded on the mailing lists' side.

``mail`` (below) suppresses a hard-bounced address in its own register, then sends the
``mail.bounced`` signal; it knows nothing of the lists. This receiver, connected in
``create_app``, records the bounce where leads see it: an entry on the suppression page
(reason "hard bounce", its date, the message as its source) and the address's subscriptions
marked bounced (``recipients.record_bounce``). It runs in the worker's thread and app
context and commits its own transaction (the engine's marks are committed already: its
connection autocommits); a failure is logged by its class only and leaves the engine's own
suppression standing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from inquiry_desk.core.extensions import db
from inquiry_desk.mail import signals
from inquiry_desk.mailing import recipients

log = logging.getLogger(__name__)


def record_engine_bounce(sender: Any, *, address: str, message_id: str, now: datetime) -> None:
    try:
        recipients.record_bounce(address, source=f"send engine: {message_id}"[:200], now=now)
        db.session.commit()
    except Exception as exc:  # the engine goes on sending; its own suppression holds
        db.session.rollback()
        log.warning("a bounce was not recorded on the mailing lists: %s", type(exc).__name__)


def connect() -> None:
    """Listen to the send engine's bounces (once, however often it is called)."""
    signals.bounced.connect(record_engine_bounce)
