"""Bulk messages: the content is encoded once per send and language; per recipient only a few bytes change.

No template is rendered per recipient, and the ``email`` package (slow for 100,000
messages) only folds the static headers once. Per recipient: the To and Message-ID
headers (an address outside ASCII in UTF-8, RFC 6532: the backend then needs
SMTPUTF8), the List-Unsubscribe headers when the send has an unsubscribe link, and the
placeholders of ``sending.PLACEHOLDERS`` in the bodies (quoted-printable, UTF-8).

Personal links come from the capability that owns the recipients (the mailing lists):
``register_link_maker("bulletin", make)`` where ``make(recipient)`` returns
``{"unsubscribe_url": …, "preferences_url": …}``; mail knows no capability.
"""

from __future__ import annotations

import binascii
import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.utils import format_datetime, parseaddr
from typing import Any

from inquiry_desk.mail.builder import check_header_value


@dataclass(frozen=True)
class BulkRecipient:
    delivery_id: int
    send_id: int
    send_key: str
    address: str
    language: str
    subscription_id: int | None


LinkMaker = Callable[[BulkRecipient], dict[str, str]]
_LINK_MAKERS: dict[str, LinkMaker] = {}

_FOLD = policy.SMTP.clone(max_line_length=78)
_PLACEHOLDER = re.compile(r"%%(UNSUBSCRIBE_URL|PREFERENCES_URL)%%")


def register_link_maker(kind: str, make: LinkMaker) -> None:
    """Personal links for the sends whose key starts with ``kind:`` (e.g. "bulletin:42")."""
    _LINK_MAKERS[kind] = make


def links_for(recipient: BulkRecipient) -> dict[str, str]:
    make = _LINK_MAKERS.get(recipient.send_key.partition(":")[0])
    return make(recipient) if make else {}


def _header(name: str, value: str) -> bytes:
    """Folded and encoded by the email package (the static headers, once per send and language)."""
    return _FOLD.fold_binary(name, _FOLD.header_factory(name, check_header_value(name, value)))


def _plain_header(name: str, value: str) -> bytes:
    """The per-recipient headers: ASCII and short, written as they are (checked for line breaks)."""
    if not value.isascii() or len(value) > 900:
        return _header(name, value)
    return f"{name}: {check_header_value(name, value)}\r\n".encode("ascii")


def _to_header(address: str) -> bytes:
    """An address outside ASCII is written as it is, in UTF-8 (RFC 6532): it leaves only with SMTPUTF8."""
    if address.isascii():
        return _plain_header("To", address)
    return f"To: {check_header_value('To', address)}\r\n".encode()


def _qp(text: str) -> bytes:
    encoded = binascii.b2a_qp(text.replace("\r\n", "\n").encode("utf-8"), istext=True)
    return encoded.replace(b"\n", b"\r\n")


class Composer:
    """The messages of one send in one language."""

    def __init__(self, *, send_id: int, from_address: str, reply_to: str | None, content: dict[str, Any],
                 language: str, date: datetime, extra_headers: dict[str, str]) -> None:
        self.send_id = send_id
        self.sender = parseaddr(from_address)[1]
        self.domain = self.sender.rpartition("@")[2] or "inquiry-desk.invalid"
        self.text: str = content["text"]
        self.html: str | None = content.get("html")
        headers = {"From": from_address, "Subject": content["subject"], "Date": format_datetime(date),
                   "MIME-Version": "1.0", "Content-Language": language, "Auto-Submitted": "auto-generated",
                   "Precedence": "bulk"}
        if reply_to:
            headers["Reply-To"] = reply_to
        headers.update(extra_headers)
        self.head = b"".join(_header(name, value) for name, value in headers.items())
        self.boundary = f"==send-{send_id}-{language}=="
        self.personal = bool(_PLACEHOLDER.search(self.text) or (self.html and _PLACEHOLDER.search(self.html)))
        self.fixed_body = None if self.personal else self._body({})

    def message_id(self, delivery_id: int) -> str:
        """Fixed by the delivery: a retry or a repeat after a crash sends the same Message-ID."""
        return f"<send-{self.send_id}.{delivery_id}@{self.domain}>"

    def build(self, recipient: BulkRecipient, links: dict[str, str]) -> bytes:
        personal = [_to_header(recipient.address),
                    _plain_header("Message-ID", self.message_id(recipient.delivery_id))]
        unsubscribe = links.get("unsubscribe_url")
        if unsubscribe:
            personal.append(_plain_header("List-Unsubscribe", f"<{unsubscribe}>"))
            personal.append(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
        body = self.fixed_body if self.fixed_body is not None else self._body(links)
        return self.head + b"".join(personal) + body

    def _body(self, links: dict[str, str]) -> bytes:
        values = {"UNSUBSCRIBE_URL": links.get("unsubscribe_url", ""),
                  "PREFERENCES_URL": links.get("preferences_url", "")}
        text = _PLACEHOLDER.sub(lambda m: values[m.group(1)], self.text)
        plain = (b'Content-Type: text/plain; charset="utf-8"\r\n'
                 b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + _qp(text))
        if not self.html:
            return plain + b"\r\n"
        markup = _PLACEHOLDER.sub(lambda m: html.escape(values[m.group(1)]), self.html)
        rich = (b'Content-Type: text/html; charset="utf-8"\r\n'
                b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + _qp(markup))
        edge = self.boundary.encode("ascii")
        return (b'Content-Type: multipart/alternative; boundary="' + edge + b'"\r\n\r\n'
                b"--" + edge + b"\r\n" + plain + b"\r\n--" + edge + b"\r\n" + rich + b"\r\n--" + edge + b"--\r\n")
