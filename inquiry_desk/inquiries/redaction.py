"""Redaction of one field of an inquiry (issue 12), beside one message's body and the subject
(``protection.redact_message``, ``redact_subject``).

A lead redacts a passport number typed in the phone field, a list of names typed as the
organisation, a person concerned's identifiers: the field becomes ``REDACTED`` in the database,
in the search index (the recorder re-indexes the inquiry, and every inquiry of a contact whose
name changed) and in the outbox (every email about the inquiries concerned, and for the
requester's fields every email to their address, carrying the text as written or HTML-escaped).
The history says which field, who, when and why (``inquiry.field_redacted``); never the text.

What counts as a field: the free text a person typed or staff wrote about someone, shown on the
inquiry page. The requester's fields live on the contact, shared by all their inquiries: redacted
from one, they are redacted everywhere (the original is kept nowhere). The email address is not a
field one can redact: the desk answers to it (erasing a person is the directory's job).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from inquiry_desk.accounts.models import Role, User
from inquiry_desk.core.domain import InvalidInput, NotAllowed
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import access, protection, recorder
from inquiry_desk.inquiries.models import Inquiry, PersonConcerned
from inquiry_desk.inquiries.protection import REDACTED

# field -> (whose field: the inquiry, its requester or a person concerned; the attribute; its name)
FIELDS: dict[str, tuple[str, str, str]] = {
    "subject": ("inquiry", "subject", _l("Subject")),
    "organisation_name": ("inquiry", "organisation_name", _l("Organisation, as the requester typed it")),
    "requester_name": ("contact", "name", _l("Requester’s name")),
    "requester_phone": ("contact", "phone", _l("Requester’s phone")),
    "requester_title": ("contact", "title", _l("Requester’s title")),
    "requester_organisation": ("contact", "organisation_name", _l("Requester’s organisation, as typed")),
    "requester_notes": ("contact", "notes", _l("Notes on the requester")),
    "person_name": ("person", "name", _l("Name of the person concerned")),
    "person_relationship": ("person", "relationship", _l("Relationship to the sender")),
    "person_identifiers": ("person", "identifiers", _l("Identifiers of the person concerned")),
    "person_document": ("person", "consent_document", _l("Consent document reference")),
}


# The organisation typed on the form lands on the inquiry and on its requester: redacting one
# redacts the other when it holds the same text.
TWINS = {"organisation_name": "requester_organisation", "requester_organisation": "organisation_name"}


class UnknownField(InvalidInput):
    code = "unknown_field"
    default_message = _l("Choose a field to redact.")


@dataclass(frozen=True)
class Redactable:
    """One field that holds text, as the form offers it: ``value`` is "field" or "field:person id"."""

    value: str
    field: str
    person: PersonConcerned | None


def redactable(inquiry: Inquiry) -> list[Redactable]:
    """The fields of the inquiry, its requester and its people concerned that hold text not yet redacted."""
    found = []
    people = db.session.scalars(select(PersonConcerned).where(PersonConcerned.inquiry_id == inquiry.id)
                                .order_by(PersonConcerned.id)).all()
    for field, (owner, attribute, _label) in FIELDS.items():
        rows: Sequence[object | None] = people if owner == "person" else [_owner(inquiry, owner)]
        for row in rows:
            text = getattr(row, attribute, None) if row is not None else None
            if text and text != REDACTED:
                person = row if isinstance(row, PersonConcerned) else None
                value = f"{field}:{person.id}" if person is not None else field
                found.append(Redactable(value=value, field=field, person=person))
    return found


def find(inquiry: Inquiry, value: str) -> Redactable:
    """The field a form's ``value`` names on this inquiry; ``UnknownField`` for anything else."""
    for candidate in redactable(inquiry):
        if candidate.value == value:
            return candidate
    raise UnknownField()


def redact_field(inquiry: Inquiry, field: str, reason: str, *, actor: User, now: datetime,
                 person: PersonConcerned | None = None) -> int:
    """Replace one field's text by ``REDACTED`` everywhere it is kept; returns how many emails changed.

    Leads only, who may open the inquiry. ``person`` names the person concerned for their fields.
    """
    if not (actor.has_role(Role.LEAD) and access.may_open(inquiry, actor, now)):
        raise NotAllowed()
    if field not in FIELDS:
        raise UnknownField()
    if field == "subject":
        return protection.redact_subject(inquiry, reason, actor=actor, now=now)
    owner, attribute, _label = FIELDS[field]
    reason = protection.parse_reason(reason)
    if owner == "person" and (person is None or person.inquiry_id != inquiry.id):
        raise UnknownField()
    row = person if owner == "person" else _owner(inquiry, owner)
    original = getattr(row, attribute, None) if row is not None else None
    if not original or original == REDACTED:
        return 0
    twin = _twin(inquiry, field, original)
    with recorder.change(inquiry, actor=actor, now=now) as change:
        setattr(row, attribute, REDACTED)
        if twin is not None:
            setattr(twin[0], twin[1], REDACTED)
        details: dict[str, object] = {"field": field, "reason": reason}
        if person is not None:
            details["person_id"] = person.id
        change.event("field_redacted", **details)
    if owner == "contact" or twin is not None:
        inquiry_ids = list(db.session.scalars(select(Inquiry.id).where(Inquiry.contact_id == inquiry.contact_id)))
        addresses = [inquiry.contact.email] if inquiry.contact else []
        return protection.redact_outbox(inquiry_ids, original, addresses=addresses)
    return protection.redact_outbox([inquiry.id], original)


def _twin(inquiry: Inquiry, field: str, original: str) -> tuple[object, str] | None:
    """The other copy of the same typed text (the row and attribute), if there is one."""
    other = TWINS.get(field)
    if other is None:
        return None
    owner, attribute, _label = FIELDS[other]
    row = _owner(inquiry, owner)
    return (row, attribute) if row is not None and getattr(row, attribute, None) == original else None


def _owner(inquiry: Inquiry, owner: str) -> object | None:
    return inquiry if owner == "inquiry" else inquiry.contact
