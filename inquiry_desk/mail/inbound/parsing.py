"""An RFC 5322 message, as bytes, made into what the desk reads of it; never raises.

The standard library's ``email`` package (policy ``default``) splits the message; header
values are decoded here from their raw form (encoded words, any charset), so that a
malformed header never raises out of the policy's parser. The text is the first text/plain
part that is not an attachment, else the first HTML part made into text (html2text); every
charset is decoded with a fallback that cannot fail (declared charset, then UTF-8, then
Windows-1252 with replacement). ``display_text`` is the text without the quoted history
below a reply (mail-parser-reply, English and French); the whole message is kept elsewhere.

Limits keep hostile input cheap: header lines longer than ``HEADER_LINE_MAX`` are cut
before parsing (the stored message keeps them), nesting deeper than ``MAX_DEPTH`` is not
walked, and text is cut at ``TEXT_MAX`` characters.
"""

from __future__ import annotations

import codecs
import email
import hashlib
import logging
import re
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr

log = logging.getLogger(__name__)

HEADER_LINE_MAX = 8_000
MAX_DEPTH = 30
TEXT_MAX = 100_000
SUBJECT_MAX = 300
MESSAGE_ID_MAX = 255
_MESSAGE_ID = re.compile(r"<[^<>\s\x00-\x1f\x7f]{1,250}>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NAMED_HEADERS = ("from", "to", "cc", "date", "subject", "message-id")


@dataclass
class Attachment:
    """A part of the message that is a file: its name as given, declared type, size and bytes
    (handed to the capability above, which decides what to keep)."""

    filename: str
    content_type: str
    size: int
    data: bytes = field(default=b"", repr=False)


@dataclass
class ParsedEmail:
    """What the desk reads of one message."""

    message_id: str | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_address: str | None = None
    from_name: str = ""
    recipients: list[str] = field(default_factory=list)  # To, Cc, Delivered-To, X-Original-To
    return_path: str | None = None  # None: no header; "": the null sender <>
    headers: dict[str, str] = field(default_factory=dict)  # lower-case name -> first value, decoded
    authentication_results: list[str] = field(default_factory=list)
    content_type: str = "text/plain"
    text: str = ""
    display_text: str = ""
    from_html: bool = False
    attachments: list[Attachment] = field(default_factory=list)
    content_hash: str = ""
    defects: int = 0
    message: Message | None = None

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


def clean_text(value: str, *, limit: int = TEXT_MAX) -> str:
    """No NUL or other control characters (PostgreSQL refuses NUL), no lone surrogates, cut at ``limit``."""
    value = _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    value = value.encode("utf-8", "replace").decode("utf-8")
    return value[:limit]


def decode_bytes(payload: bytes, charset: str | None) -> str:
    """The declared charset, then UTF-8, then Windows-1252 with replacement: never fails."""
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            codecs.lookup(candidate)
            return payload.decode(candidate)
        except Exception:  # noqa: S110  (unknown, undecodable, or a buggy codec: the next one)
            pass
    return payload.decode("cp1252", errors="replace")


def decode_header_value(raw: str) -> str:
    """Encoded words decoded (any charset, never failing), folded onto one line."""
    value = raw
    try:
        parts = decode_header(raw)
        pieces = []
        for chunk, charset in parts:
            if isinstance(chunk, bytes):
                pieces.append(decode_bytes(chunk, charset))
            else:
                pieces.append(chunk)
        value = "".join(pieces) if any(isinstance(c, bytes) for c, _ in parts) else str(make_header(parts))
    except Exception:
        value = raw
    return " ".join(clean_text(value, limit=HEADER_LINE_MAX * 2).split())


def _cut_long_header_lines(raw: bytes) -> bytes:
    """Header lines longer than HEADER_LINE_MAX cut (a 100 KB line costs the header parser dearly)."""
    end = raw.find(b"\n\n")
    crlf_end = raw.find(b"\r\n\r\n")
    if crlf_end != -1 and (end == -1 or crlf_end < end):
        end = crlf_end
    head, body = (raw, b"") if end == -1 else (raw[:end], raw[end:])
    if all(len(line) <= HEADER_LINE_MAX for line in head.split(b"\n")):
        return raw
    lines = [line[:HEADER_LINE_MAX] for line in head.split(b"\n")]
    return b"\n".join(lines) + body


def content_hash(raw: bytes) -> str:
    """SHA-256 of the headers that name the message and of its body, line ends and trailing spaces folded.

    The same message delivered by a pipe and by IMAP (other Received, Delivered-To,
    Return-Path lines) gives one hash; any change to what was written gives another.
    """
    normal = raw.replace(b"\r\n", b"\n")
    end = normal.find(b"\n\n")
    head, body = (normal, b"") if end == -1 else (normal[:end], normal[end + 2:])
    named: list[bytes] = []
    current: bytes | None = None
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and current is not None:
            named[-1] += b" " + line.strip()
            continue
        name = line.split(b":", 1)[0].strip().lower()
        current = name if name.decode("latin-1") in _NAMED_HEADERS else None
        if current is not None:
            named.append(line.strip())
    digest = hashlib.sha256()
    for line in sorted(named):
        digest.update(b" ".join(line.split()) + b"\n")
    digest.update(b"\x00")
    for line in body.split(b"\n"):
        digest.update(line.rstrip() + b"\n")
    return digest.hexdigest()


def message_ids(value: str) -> list[str]:
    """The <id> tokens of In-Reply-To or References, in order, without repeats."""
    seen: list[str] = []
    for token in _MESSAGE_ID.findall(value or ""):
        if token not in seen:
            seen.append(token)
    return seen[:50]


def _raw_headers(message: Message) -> list[tuple[str, str]]:
    try:
        return [(str(name), str(value)) for name, value in message.raw_items()]
    except Exception:
        return []


def _address(value: str) -> str | None:
    try:
        _, address = parseaddr(value)
    except Exception:
        return None
    address = clean_text(address, limit=400).strip().lower()
    # RFC 5321 allows 254 characters; longer is no address (and would not fit contacts.email).
    return address if "@" in address and " " not in address and len(address) <= 254 else None


def _addresses(values: list[str]) -> list[str]:
    try:
        pairs = getaddresses(values)
    except Exception:
        return []
    found = []
    for _, address in pairs[:100]:
        address = address.strip().lower()
        if "@" in address and " " not in address and len(address) <= 400 and address not in found:
            found.append(address)
    return found


def _walk(part: Message, depth: int = 0) -> list[Message]:
    """The leaves, depth first, at most MAX_DEPTH deep (a message nested 50 times is walked 30)."""
    if depth > MAX_DEPTH:
        return []
    try:
        if part.is_multipart():
            children = part.get_payload()
            leaves: list[Message] = []
            if isinstance(children, list):
                for child in children[:200]:
                    if isinstance(child, Message):
                        leaves.extend(_walk(child, depth + 1))
            return leaves
    except Exception:
        return []
    return [part]


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "text/plain"


def _is_attachment(part: Message) -> bool:
    try:
        disposition = (part.get_content_disposition() or "").lower()
        return disposition == "attachment" or (disposition == "inline" and bool(part.get_filename()))
    except Exception:
        return False


def _payload_text(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not isinstance(payload, bytes):
        try:
            raw = part.get_payload()
            payload = raw.encode("utf-8", "replace") if isinstance(raw, str) else b""
        except Exception:
            payload = b""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return decode_bytes(payload, charset)


def html_to_text(html: str) -> str:
    """HTML made into readable text (html2text); tags stripped when html2text fails."""
    try:
        import html2text

        converter = html2text.HTML2Text()
        converter.body_width = 0
        converter.ignore_images = True
        converter.ignore_tables = False
        return str(converter.handle(html[:TEXT_MAX * 2]))
    except Exception:
        return re.sub(r"<[^>]*>", " ", html)


def strip_quoted(text: str) -> str:
    """The reply without the history quoted below it (English and French quoting)."""
    try:
        from mailparser_reply import EmailReplyParser

        reply = str(EmailReplyParser(languages=["en", "fr"]).parse_reply(text[:TEXT_MAX]))
    except Exception:
        return text
    return reply.strip() or text


def _attachment(part: Message) -> Attachment:
    try:
        filename = decode_header_value(part.get_filename() or "")[:200]
    except Exception:
        filename = ""
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    data = payload if isinstance(payload, bytes) else b""
    return Attachment(filename=filename, content_type=_content_type(part), size=len(data), data=data)


def parse(raw: bytes) -> ParsedEmail:
    """The message read; whatever is broken is left out or replaced, never raised."""
    parsed = ParsedEmail(content_hash=content_hash(raw))
    try:
        message = email.message_from_bytes(_cut_long_header_lines(raw), policy=policy.default)
    except Exception:
        log.info("inbound: a message the email package could not split; kept as text")
        message = EmailMessage()
        message.set_payload(raw.decode("latin-1"))
    parsed.message = message
    parsed.defects = len(getattr(message, "defects", []) or [])
    raw_headers = _raw_headers(message)
    for name, value in raw_headers:
        key = name.strip().lower()
        if key == "authentication-results":
            parsed.authentication_results.append(" ".join(value.split())[:2000])
        if key not in parsed.headers:
            parsed.headers[key] = decode_header_value(value)
    _read_headers(parsed, raw_headers)
    _read_body(parsed, message)
    return parsed


def _read_headers(parsed: ParsedEmail, raw_headers: list[tuple[str, str]]) -> None:
    ids = message_ids(parsed.header("message-id"))
    parsed.message_id = ids[0] if ids and len(ids[0]) <= MESSAGE_ID_MAX else None
    parsed.in_reply_to = message_ids(parsed.header("in-reply-to"))
    parsed.references = message_ids(parsed.header("references"))
    parsed.subject = clean_text(parsed.header("subject"), limit=SUBJECT_MAX).strip()
    from_value = parsed.header("from")
    parsed.from_address = _address(from_value)
    try:
        parsed.from_name = clean_text(parseaddr(from_value)[0], limit=200).strip()
    except Exception:
        parsed.from_name = ""
    recipient_values = [value for name, value in raw_headers
                        if name.strip().lower() in ("to", "cc", "delivered-to", "x-original-to")]
    parsed.recipients = _addresses([decode_header_value(value) for value in recipient_values])
    if "return-path" in parsed.headers:
        value = parsed.headers["return-path"].strip()
        parsed.return_path = "" if value in ("<>", "") else (_address(value) or "")


def _read_body(parsed: ParsedEmail, message: Message) -> None:
    parsed.content_type = _content_type(message)
    text: str | None = None
    html: str | None = None
    for part in _walk(message):
        kind = _content_type(part)
        if _is_attachment(part) or not kind.startswith("text/"):
            # A report's status part, or a multipart whose boundary is missing (read as text below): no file.
            if kind != "message/delivery-status" and not kind.startswith("multipart/"):
                parsed.attachments.append(_attachment(part))
            continue
        if kind == "text/plain" and text is None:
            text = _payload_text(part)
        elif kind == "text/html" and html is None:
            html = _payload_text(part)
    if text is None and html is not None:
        text = html_to_text(html)
        parsed.from_html = True
    if text is None and parsed.content_type.startswith("multipart/") and not message.is_multipart():
        text = _payload_text(message)  # a multipart whose boundary is missing: its body as text
    parsed.text = clean_text(text or "").strip()
    parsed.display_text = clean_text(strip_quoted(parsed.text)).strip() if parsed.text else ""


WHOLE_HEADERS = ("from", "to", "cc", "date", "subject", "reply-to", "message-id")


def whole_message_text(raw: bytes) -> str:
    """The whole message as plain text: its main headers decoded, the full text (quoted history
    included) and the names of its attachments. What "show whole message" serves."""
    parsed = parse(raw)
    lines = [f"{name.title()}: {parsed.headers[name]}" for name in WHOLE_HEADERS if parsed.headers.get(name)]
    lines += ["", parsed.text]
    if parsed.attachments:
        lines += ["", "--", *(f"[{item.content_type}] {item.filename or '-'} ({item.size} bytes)"
                              for item in parsed.attachments)]
    return "\n".join(lines) + "\n"
