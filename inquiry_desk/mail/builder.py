"""The one place that turns an outbox row into a MIME message."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from inquiry_desk.mail.errors import HeaderInjectionError
from inquiry_desk.mail.models import OutgoingEmail


def check_header_value(name: str, value: str) -> str:
    """Refuse a value that would end its header and start another one."""
    if "\r" in value or "\n" in value:
        raise HeaderInjectionError(f"line break in the {name} header")
    return value


def new_message_id(from_address: str) -> str:
    domain = parseaddr(from_address)[1].rpartition("@")[2] or "inquiry-desk.invalid"
    return make_msgid(domain=domain)


def build_message(row: OutgoingEmail) -> EmailMessage:
    """A multipart (text, then HTML) message with every header checked."""
    message = EmailMessage()
    headers = {
        "From": row.from_address,
        "To": row.to_address,
        "Subject": row.subject,
        "Date": format_datetime(row.created_at),
        "Message-ID": row.message_id,
    }
    if row.reply_to:
        headers["Reply-To"] = row.reply_to
    headers.update(row.extra_headers or {})
    for name, value in headers.items():
        message[name] = check_header_value(name, value)
    message["Content-Language"] = row.language
    message.set_content(row.body_text)
    if row.body_html:
        message.add_alternative(row.body_html, subtype="html")
    return message
