"""Consent to disclose: the people an inquiry is about, and whether their consent is on file.

Most people who write are not the person the case is about. Staff record each person concerned
(name, relationship, optional identifiers such as a UCI or an application number) and, when it
is on file, their consent to disclose their information to the sender (how, given on, until,
a reference to the document). The records are shown only to those who may read the inquiry
(``access.py``) and are never indexed for search; the audit log names people by record id only.

Before a reply leaves, ``check_reply`` looks for every person concerned without consent on file
whose name or identifier the reply mentions; the reply form shows them and sends only once the
officer acknowledges, and the acknowledgement is recorded in the inquiry's history.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from inquiry_desk.accounts.models import Role, User
from inquiry_desk.audit import services as audit
from inquiry_desk.core.clock import team_timezone
from inquiry_desk.core.domain import DomainError, InvalidInput, NotAllowed
from inquiry_desk.core.extensions import db
from inquiry_desk.core.text import TextRequired, parse_line
from inquiry_desk.inquiries import access, recorder, search
from inquiry_desk.inquiries.models import Inquiry, PersonConcerned

NAME_MAX = 200
RELATIONSHIP_MAX = 100
IDENTIFIERS_MAX = 300
HOW_MAX = 100
DOCUMENT_MAX = 200


class ConsentNotOnFile(DomainError):
    """A reply mentions people concerned whose consent to disclose is not on file."""

    code = "consent_not_on_file"
    http_status = 409
    default_message = _l("This reply mentions people whose consent to disclose is not on file.")

    def __init__(self, people: Sequence[PersonConcerned]) -> None:
        super().__init__()
        self.people = list(people)


def _required(value: str, max_length: int, message: object) -> str:
    try:
        return parse_line(" ".join((value or "").split()), max_length=max_length)
    except TextRequired as exc:
        raise InvalidInput(message) from exc


def _optional(value: str | None, max_length: int) -> str | None:
    return parse_line(" ".join((value or "").split()), max_length=max_length, required=False) or None


def _may_edit(inquiry: Inquiry, actor: User, now: datetime) -> None:
    if not (actor.has_role(Role.OFFICER) and access.may_open(inquiry, actor, now)):
        raise NotAllowed()


def people_of(inquiry: Inquiry) -> Sequence[PersonConcerned]:
    return db.session.scalars(
        select(PersonConcerned).where(PersonConcerned.inquiry_id == inquiry.id).order_by(PersonConcerned.id)).all()


def add_person(inquiry: Inquiry, name: str, relationship: str, identifiers: str | None, *, actor: User,
               now: datetime) -> PersonConcerned:
    _may_edit(inquiry, actor, now)
    person = PersonConcerned(
        inquiry_id=inquiry.id, name=_required(name, NAME_MAX, _l("Give the person's name.")),
        relationship=_required(relationship, RELATIONSHIP_MAX, _l("Say how the person is related to the sender.")),
        identifiers=_optional(identifiers, IDENTIFIERS_MAX), created_at=now)
    with recorder.change(inquiry, actor=actor, now=now) as change:
        db.session.add(person)
        db.session.flush()
        change.event("person_added", person_id=person.id)
    return person


def record_consent(person: PersonConcerned, *, how: str, given_on: date, until: date | None,
                   document: str | None, actor: User, now: datetime) -> None:
    """Consent to disclose this person's information to the sender is on file."""
    inquiry = db.session.get(Inquiry, person.inquiry_id)
    assert inquiry is not None
    _may_edit(inquiry, actor, now)
    if until is not None and until < given_on:
        raise InvalidInput(_l("Consent cannot end before it was given."))
    with recorder.change(inquiry, actor=actor, now=now) as change:
        person.consent_how = _required(how, HOW_MAX, _l("Say how consent was given."))
        person.consent_given_on = given_on
        person.consent_until = until
        person.consent_document = _optional(document, DOCUMENT_MAX)
        change.event("consent_recorded", person_id=person.id, until=until.isoformat() if until else None)


def remove_person(person: PersonConcerned, *, actor: User, now: datetime) -> None:
    inquiry = db.session.get(Inquiry, person.inquiry_id)
    assert inquiry is not None
    _may_edit(inquiry, actor, now)
    with recorder.change(inquiry, actor=actor, now=now) as change:
        change.event("person_removed", person_id=person.id)
        db.session.delete(person)


def _today(now: datetime) -> date:
    return now.astimezone(team_timezone()).date()


def _terms(person: PersonConcerned) -> list[list[str]]:
    """What counts as a mention: the full name, or any identifier of 3 characters or more."""
    terms = [search.words(person.name)]
    for identifier in re.split(r"[,;]", person.identifiers or ""):
        if len(identifier.strip()) >= 3:
            terms.append(search.words(identifier))
    return [term for term in terms if term]


def mentioned_without_consent(inquiry: Inquiry, body: str, now: datetime) -> list[PersonConcerned]:
    """The people concerned whose name or identifier ``body`` mentions and whose consent is not on file."""
    text = f" {' '.join(search.words(body))} "
    today = _today(now)
    found = []
    for person in people_of(inquiry):
        if person.consent_on_file(today):
            continue
        if any(f" {' '.join(term)} " in text for term in _terms(person)):
            found.append(person)
    return found


def check_reply(inquiry: Inquiry, body: str, *, acknowledged: bool, actor: User, now: datetime) -> None:
    """Raise ``ConsentNotOnFile`` unless the officer acknowledged; an acknowledgement is recorded."""
    people = mentioned_without_consent(inquiry, body, now)
    if not people:
        return
    if not acknowledged:
        raise ConsentNotOnFile(people)
    # An attestation, not a change of the inquiry: the reply that follows checks the version it was written on.
    audit.record("inquiry.disclosure_acknowledged", actor=actor, subject_type="inquiry", subject_id=inquiry.id,
                 details={"person_ids": [person.id for person in people]}, now=now)

