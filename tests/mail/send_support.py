"""Helpers for the send engine's tests: a send with content in both languages, a worker pass, counts."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from inquiry_desk.core.extensions import db
from inquiry_desk.mail import sending
from inquiry_desk.mail.models import Delivery, MailSend
from inquiry_desk.mail.rendering import RenderedEmail
from inquiry_desk.mail.worker import PassResult, Sender, Settings

from .smtp_server import SmtpSink
from .support import T0

CONTENT = {
    "en": RenderedEmail("Bulletin: spring update", "Hello,\nNews of the spring.\nUnsubscribe: %%UNSUBSCRIBE_URL%%\n",
                        "<p>News of the spring.</p><p><a href=\"%%UNSUBSCRIBE_URL%%\">Unsubscribe</a></p>"),
    "fr": RenderedEmail("Bulletin : mise à jour du printemps", "Bonjour,\nNouvelles du printemps.\n"
                        "Désabonnement : %%UNSUBSCRIBE_URL%%\n"),
}


def make_send(addresses: Iterable[str | tuple[str, str]], *, key: str = "bulletin:1", now: datetime = T0,
              start: bool = True) -> MailSend:
    send = sending.create_send(key, CONTENT, now=now)
    recipients = (sending.Recipient(*item) if isinstance(item, tuple) else sending.Recipient(item, "en")
                  for item in addresses)
    sending.add_recipients(send, recipients, now=now)
    if start:
        sending.start_send(send, now=now)
    db.session.commit()
    return send


def worker(app: Flask, **overrides: Any) -> Sender:
    return Sender(app, Settings.from_config(app.config, **overrides))


def drain(sender: Sender, now: datetime = T0, passes: int = 1000) -> PassResult:
    """Worker passes at ``now`` until one finds nothing to do; the totals."""
    total = PassResult()
    for _ in range(passes):
        result = sender.run_once(now)
        if not result.worked:
            break
        for name in ("outbox", "sent", "retrying", "failed", "released", "skipped", "claimed"):
            setattr(total, name, getattr(total, name) + getattr(result, name))
    return total


def statuses(send: MailSend) -> dict[str, int]:
    db.session.expire_all()
    return dict(db.session.execute(select(Delivery.status, func.count()).where(Delivery.send_id == send.id)
                                   .group_by(Delivery.status)).all())


def received_counts(sink: SmtpSink) -> Counter[str]:
    return Counter(address.lower() for address in sink.recipients())


def wait_for(condition: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    """Until ``condition()`` holds (True) or ``timeout`` seconds have gone (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False
