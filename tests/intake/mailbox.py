"""Reading what the memory mail backend received, for intake tests."""

from __future__ import annotations

from email.message import EmailMessage

from flask import Flask


def deliver(app: Flask) -> None:
    """Send what is due (as the sweeper would), in its own app context."""
    from inquiry_desk.core.clock import utcnow
    from inquiry_desk.mail import services as mail

    with app.app_context():
        mail.deliver_due(utcnow())


def sent_messages(app: Flask) -> list[EmailMessage]:
    return list(app.extensions.get("mail_memory", []))


def text_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()
