"""What can go wrong when an email is built or handed to a mail server."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from inquiry_desk.core.domain import Conflict, DomainError


class HeaderInjectionError(DomainError, ValueError):
    """A value meant for an email header holds a line break (CR or LF)."""


class AttachmentMissing(ValueError):
    """A file the email carries is no longer in the file store: the email is not sent without it."""


class DeliveryError(Exception):
    """The message could not be handed over. ``code`` is the SMTP reply code, if any."""

    def __init__(self, reason: str, code: int | None = None, *, connection_lost: bool = False) -> None:
        super().__init__(reason)
        self.code = code
        # No answer about this message: the server is down, hung or dropped the line. A worker
        # stops its batch rather than try each of the others against the same dead server.
        self.connection_lost = connection_lost

    def summary(self) -> str:
        """Safe to store and log: the class and the code, never an address or a body."""
        code = f" {self.code}" if self.code else ""
        return f"{type(self).__name__}{code}: {self.args[0]}"[:500]


class TemporaryDeliveryError(DeliveryError):
    """Try again later: a 4xx answer, a refused or dropped connection, a timeout."""


class PermanentDeliveryError(DeliveryError):
    """Never try again: a 5xx answer (unknown mailbox, refused message)."""


class SendExists(Conflict):
    code = "send_exists"
    default_message = _l("This send already exists.")


class SendStateError(Conflict):
    """The send's state does not allow the operation (resume a send that is not paused…)."""

    code = "send_state"
    default_message = _l("This send cannot do that in its present state.")
