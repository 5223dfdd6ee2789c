"""What can go wrong when an email is built or handed to a mail server."""

from __future__ import annotations

from inquiry_desk.core.domain import DomainError


class HeaderInjectionError(DomainError, ValueError):
    """A value meant for an email header holds a line break (CR or LF)."""


class DeliveryError(Exception):
    """The message could not be handed over. ``code`` is the SMTP reply code, if any."""

    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason)
        self.code = code

    def summary(self) -> str:
        """Safe to store and log: the class and the code, never an address or a body."""
        code = f" {self.code}" if self.code else ""
        return f"{type(self).__name__}{code}: {self.args[0]}"[:500]


class TemporaryDeliveryError(DeliveryError):
    """Try again later: a 4xx answer, a refused or dropped connection, a timeout."""


class PermanentDeliveryError(DeliveryError):
    """Never try again: a 5xx answer (unknown mailbox, refused message)."""
