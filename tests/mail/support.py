"""Small helpers for the mail tests: a fixed clock, queueing with defaults, reading rows afresh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from inquiry_desk.core.extensions import db
from inquiry_desk.mail import services as mail
from inquiry_desk.mail.models import OutgoingEmail
from inquiry_desk.mail.rendering import RenderedEmail

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # explicit times: nothing in these tests sleeps for a retry
MINUTE = timedelta(minutes=1)


def queue(cause_key: str = "test:1", *, to: str = "farida@example.net", subject: str = "About your inquiry",
          text: str = "Hello Farida,\nThank you.\n", html: str | None = None, language: str = "en",
          now: datetime = T0, **options: Any) -> OutgoingEmail:
    return mail.queue_email(cause_key=cause_key, to=to, rendered=RenderedEmail(subject, text, html),
                            language=language, now=now, **options)


def reload(row_id: int) -> OutgoingEmail:
    """The row as the database has it now (another session may have changed it)."""
    db.session.expire_all()
    row = db.session.get(OutgoingEmail, row_id)
    assert row is not None
    return row


def count_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(OutgoingEmail)) or 0


def memory(app: Flask) -> list[EmailMessage]:
    """What the memory backend has sent so far."""
    return list(app.extensions["mail_memory"])
