"""The one place that turns an outbox row into a MIME message."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from inquiry_desk.core import file_store
from inquiry_desk.mail.errors import AttachmentMissing, HeaderInjectionError
from inquiry_desk.mail.models import OutgoingEmail

# CR and LF, and every other character that str.splitlines() (and so the email
# package, when it builds the message) treats as the end of a line.
_LINE_BREAKS = frozenset("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
_LINE_BREAK = re.compile("[" + re.escape("".join(sorted(_LINE_BREAKS))) + "]")
_HEADER_NAME = re.compile(r"[!-9;-~]+")  # RFC 5322 field name: printable ASCII except ":"


def check_header_value(name: str, value: str) -> str:
    """Refuse a value that would end its header and start another one."""
    if not _HEADER_NAME.fullmatch(name):
        raise HeaderInjectionError("invalid header name")
    if _LINE_BREAK.search(value):
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
    message.set_content(row.body_text)
    if row.body_html:
        message.add_alternative(row.body_html, subtype="html")
    _attach_files(message, row.attachments or [])
    # Last: set_content() deletes every Content-* header, and add_alternative() moves them
    # into the text part.
    message["Content-Language"] = check_header_value("Content-Language", row.language)
    return message


def _attach_files(message: EmailMessage, references: list[dict[str, str]]) -> None:
    """The files the row names, read from the file store. One erased since (its message redacted,
    the inquiry purged, the person erased) raises ``AttachmentMissing``: the email never leaves
    without a file its writer attached (the erasure has already marked it failed and told the
    inquiry's history, ``inquiries.attachments``, unless a sender held it at that moment)."""
    for reference in references:
        data = file_store.read(str(reference.get("sha256", "")))
        if data is None:
            raise AttachmentMissing("a file the email carries is no longer in the store")
        maintype, _, subtype = str(reference.get("content_type", "application/octet-stream")).partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=_LINE_BREAK.sub(" ", str(reference.get("filename") or "attachment")))
