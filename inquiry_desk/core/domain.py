"""The root of every error a service raises on purpose: a rule of the domain said no.

Each capability derives its own errors from ``DomainError`` (or one of the kinds
below) and gives each a stable ``code``. The message is translated (a lazy string,
or a plain one already in the reader's language); a view shows it with
``core.errors.flash_domain_error`` or answers with ``http_status``
(``core.errors.abort_for``), and an API can answer ``{"error": code, "message": …}``.
Anything else a service raises is a bug, and a 500.
"""

from __future__ import annotations

from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString


class DomainError(Exception):
    """A request the domain refuses. ``str(error)`` is the message for the person who asked."""

    code: ClassVar[str] = "invalid"
    http_status: ClassVar[int] = 422
    default_message: ClassVar[Any] = _l("That cannot be done.")

    @property
    def message(self) -> str:
        first = self.args[0] if self.args else None
        if isinstance(first, str | LazyString):
            return str(first)
        return str(self.default_message)

    def __str__(self) -> str:
        return self.message


class NotAllowed(DomainError):
    """The actor's role, or the state of things, does not allow this."""

    code = "not_allowed"
    http_status = 403
    default_message = _l("Your role does not allow this.")


class NotFound(DomainError):
    code = "not_found"
    http_status = 404
    default_message = _l("There is nothing here by that name.")


class Conflict(DomainError):
    """Someone else changed the same thing first."""

    code = "conflict"
    http_status = 409
    default_message = _l("Someone changed this in the meantime. Look again before you go on.")


class InvalidInput(DomainError):
    code = "invalid_input"
    http_status = 422
