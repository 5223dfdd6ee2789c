"""The errors every staff action on an inquiry may raise, and the role check they share.

A module of its own so that triage, links and services can all use them without importing
each other (triage re-exports them: ``triage.InvalidValue`` still works).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from inquiry_desk.accounts.models import Role, User
from inquiry_desk.core.domain import DomainError
from inquiry_desk.directory.models import Contact
from inquiry_desk.inquiries.models import Inquiry


class TriageError(DomainError):
    """An action that cannot be done; the message is shown to staff as is (translated by the view)."""

    code = "triage_error"


class NotAllowed(TriageError):
    code = "not_allowed"


class InvalidValue(TriageError):
    code = "invalid_value"


def require_role(actor: User, role: Role) -> None:
    if not actor.has_role(role):
        raise NotAllowed(_l("Your role does not allow this."))


class NoStakeholder(TriageError):
    """The inquiry was logged by staff without a stakeholder: there is nobody to write to."""

    code = "no_stakeholder"


def stakeholder_of(inquiry: Inquiry) -> Contact:
    """The inquiry's stakeholder, for an action that writes to them; NoStakeholder when it has none."""
    if inquiry.contact is None:
        raise NoStakeholder(_l("This inquiry has no stakeholder to write to: it was logged without one."))
    return inquiry.contact
