"""Where built messages go: a folder of .eml files, an SMTP server, or memory (tests).

A backend is a context manager: one connection is opened for a batch of
messages and closed at the end. ``send`` raises TemporaryDeliveryError or
PermanentDeliveryError; anything else is a bug.
"""

from __future__ import annotations

import contextlib
import os
import re
import smtplib
import ssl
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, Protocol

from flask import Flask

from inquiry_desk.mail.errors import PermanentDeliveryError, TemporaryDeliveryError


class MailBackend(Protocol):
    def __enter__(self) -> MailBackend: ...
    def __exit__(self, *exc: object) -> None: ...
    def send(self, message: EmailMessage) -> None: ...
    def send_bytes(self, sender: str, recipient: str, data: bytes,
                   before_data: Callable[[], None] | None = None) -> None:
        """A message already built (CRLF line ends): the bulk sends' fast path.

        ``before_data`` runs after the server took the envelope and before the message
        is handed over (so before it can be accepted): the worker waits there for the
        previous message's mark, which overlaps this message's first exchanges.
        """
    def close(self) -> None:
        """Hang up now (an idle worker does not hold a connection the server would drop)."""


class _NoConnection:
    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def close(self) -> None:
        return None

    def send(self, message: EmailMessage) -> None:
        raise NotImplementedError

    def send_bytes(self, sender: str, recipient: str, data: bytes,
                   before_data: Callable[[], None] | None = None) -> None:
        if before_data is not None:
            before_data()
        parsed = BytesParser(policy=policy.default).parsebytes(data)
        assert isinstance(parsed, EmailMessage)
        self.send(parsed)


class OutboxBackend(_NoConnection):
    """One .eml file per message, for development and demos."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    def send(self, message: EmailMessage) -> None:
        self._write(str(message["Message-ID"]), message.as_bytes())

    def send_bytes(self, sender: str, recipient: str, data: bytes,
                   before_data: Callable[[], None] | None = None) -> None:
        if before_data is not None:
            before_data()
        found = re.search(rb"^Message-ID: *(<[^>\r\n]+>)", data, re.MULTILINE | re.IGNORECASE)
        self._write(found.group(1).decode("ascii", "replace") if found else os.urandom(8).hex(), data)

    def _write(self, message_id: str, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9.-]+", "_", message_id.strip("<>"))
        final = self.folder / f"{stem}.eml"
        partial = final.with_suffix(".eml.part")
        partial.write_bytes(data)
        os.replace(partial, final)  # a reader never sees half a file


class MemoryBackend(_NoConnection):
    """Keeps messages in a list on the app, for tests."""

    def __init__(self, messages: list[EmailMessage]) -> None:
        self.messages = messages

    def send(self, message: EmailMessage) -> None:
        self.messages.append(message)


class SmtpBackend:
    """smtplib with STARTTLS or implicit TLS, a login, timeouts and one connection per batch."""

    def __init__(self, host: str, port: int, *, security: str = "none", username: str = "",
                 password: str = "", timeout: float = 30) -> None:
        self.host, self.port, self.security = host, port, security
        self.username, self.password, self.timeout = username, password, timeout
        self.connection: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close()

    def close(self) -> None:
        self._close()

    def _open(self) -> smtplib.SMTP:
        connection: smtplib.SMTP | None = None
        try:
            if self.security == "tls":
                connection = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context())
            else:
                connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                if self.security == "starttls":
                    connection.starttls(context=ssl.create_default_context())
            if self.username:
                connection.login(self.username, self.password)
        except BaseException:
            if connection is not None:  # connected, then refused (STARTTLS, login): do not leak the socket
                connection.close()
            raise
        return connection

    def _connect(self) -> smtplib.SMTP:
        try:
            return self._open()
        except smtplib.SMTPAuthenticationError as exc:
            raise TemporaryDeliveryError("the mail server refused the login", exc.smtp_code) from exc
        except smtplib.SMTPResponseException as exc:
            raise _error_for(exc.smtp_code, "the mail server refused the connection") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryDeliveryError(f"cannot reach the mail server ({type(exc).__name__})",
                                         connection_lost=True) from exc

    def _close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (OSError, smtplib.SMTPException):
                self.connection.close()
            self.connection = None

    def send(self, message: EmailMessage) -> None:
        self._deliver(lambda connection: connection.send_message(message))

    def send_bytes(self, sender: str, recipient: str, data: bytes,
                   before_data: Callable[[], None] | None = None) -> None:
        self._deliver(lambda connection: _sendmail(connection, sender, recipient, data, before_data))

    def _deliver(self, hand_over: Callable[[smtplib.SMTP], dict[str, tuple[int, bytes]]]) -> None:
        if self.connection is None:
            self.connection = self._connect()
        try:
            refused = hand_over(self.connection)
        except smtplib.SMTPNotSupportedError as exc:
            # An address outside ASCII and a server without SMTPUTF8: no retry can help.
            raise PermanentDeliveryError(SMTPUTF8_MISSING) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            self._forget_if_closed()
            code = min(code for code, _ in exc.recipients.values())
            raise _error_for(code, "the mail server refused the recipient") from exc
        except smtplib.SMTPResponseException as exc:
            self._forget_if_closed()
            raise _error_for(exc.smtp_code, "the mail server refused the message") from exc
        except (OSError, smtplib.SMTPException) as exc:
            self.connection.close()  # broken (dropped, timed out): the next message opens a new one
            self.connection = None
            raise TemporaryDeliveryError(f"the connection was lost ({type(exc).__name__})",
                                         connection_lost=True) from exc
        except BaseException:
            self.connection.close()  # before_data failed halfway through a mail transaction: start afresh
            self.connection = None
            raise
        if refused:
            code = min(code for code, _ in refused.values())
            raise _error_for(code, "the mail server refused the recipient")

    def _forget_if_closed(self) -> None:
        # smtplib closes the connection itself after a 421 ("service closing"): the next
        # message of the batch must open a new one rather than fail on the dead one.
        if self.connection is not None and self.connection.sock is None:
            self.connection = None


SMTPUTF8_MISSING = "the mail server does not offer SMTPUTF8, which an address outside ASCII needs"
# A plain address needs no parsing: written as <address> (smtplib's quoteaddr parses every one, twice a message).
_PLAIN_ADDRESS = re.compile(r'[^\s<>()\[\]\\,;:"@]+@[^\s<>()\[\]\\,;:"@]+\Z')


def _path(address: str) -> str:
    return f"<{address}>" if _PLAIN_ADDRESS.match(address) else smtplib.quoteaddr(address)


def _sendmail(connection: smtplib.SMTP, sender: str, recipient: str, data: bytes,
              before_data: Callable[[], None] | None) -> dict[str, tuple[int, bytes]]:
    """``smtplib.SMTP.sendmail`` for one recipient and bytes, with a hook before DATA; the same errors.

    An address outside ASCII is sent with SMTPUTF8 (RFC 6531) when the server offers it;
    when it does not, ``SMTPNotSupportedError`` (a clear, permanent failure).
    """
    connection.ehlo_or_helo_if_needed()
    esmtp = connection.does_esmtp
    options = [f"SIZE={len(data)}"] if esmtp and connection.has_extn("size") else []
    international = not (sender.isascii() and recipient.isascii())
    if international:
        if not (esmtp and connection.has_extn("smtputf8")):
            raise smtplib.SMTPNotSupportedError(SMTPUTF8_MISSING)
        options.append("SMTPUTF8")
        if connection.has_extn("8bitmime"):
            options.append("BODY=8BITMIME")
    connection.command_encoding = "utf-8" if international else "ascii"
    connection.putcmd("mail", f"FROM:{_path(sender)}{''.join(' ' + option for option in options)}")
    code, reply = connection.getreply()
    if code != 250:
        _abandon(connection, code)
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    connection.putcmd("rcpt", f"TO:{_path(recipient)}")
    code, reply = connection.getreply()
    if code not in (250, 251):
        _abandon(connection, code)
        raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
    if before_data is not None:
        before_data()
    code, reply = connection.data(data)
    if code != 250:
        _abandon(connection, code)
        raise smtplib.SMTPDataError(code, reply)
    return {}


def _abandon(connection: smtplib.SMTP, code: int) -> None:
    if code == 421:  # the server is closing the connection
        connection.close()
    else:
        with contextlib.suppress(smtplib.SMTPServerDisconnected):
            connection.rset()


def _error_for(code: int, reason: str) -> TemporaryDeliveryError | PermanentDeliveryError:
    if 500 <= code < 600:
        return PermanentDeliveryError(reason, code)
    return TemporaryDeliveryError(reason, code)


def backend_for(app: Flask) -> MailBackend:
    config = app.config
    name = config["MAIL_BACKEND"]
    if name == "outbox":
        return OutboxBackend(config["MAIL_OUTBOX_DIR"])
    if name == "memory":
        return MemoryBackend(app.extensions.setdefault("mail_memory", []))
    if name == "smtp":
        return SmtpBackend(config["SMTP_HOST"], config["SMTP_PORT"], security=config["SMTP_SECURITY"],
                           username=config["SMTP_USERNAME"], password=config["SMTP_PASSWORD"],
                           timeout=config["SMTP_TIMEOUT"])
    raise ValueError(f"MAIL_BACKEND must be outbox, smtp or memory, not {name!r}")
