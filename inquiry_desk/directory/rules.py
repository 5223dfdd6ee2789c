"""What the directory accepts: organisation and contact details, domains, and who may do what.

Plain parse functions shared by the forms, the CSV import and any later API, so that every
way in accepts the same things (see core/text.py). Each raises an ``InvalidInput`` with a
stable code; ``parse_organisation`` and ``parse_contact`` gather one message per field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from flask_babel import lazy_gettext as _l

from inquiry_desk.core.domain import InvalidInput, NotAllowed
from inquiry_desk.core.i18n import LANGUAGES
from inquiry_desk.core.text import parse_email_key, parse_line, parse_text
from inquiry_desk.directory.models import DIRECTORY_KINDS, PartnershipStatus

NAME_MAX = 300
SHORT_NAME_MAX = 60
WEBSITE_MAX = 300
COUNTRY_MAX = 100
NOTES_MAX = 5_000
TAG_MAX = 60
TAGS_MAX = 20
CONTACT_NAME_MAX = 200
PHONE_MAX = 40
TITLE_MAX = 200
REASON_MAX = 2_000
METHOD_MAX = 300
# Letters, digits and hyphens per label, at least two labels, no leading or trailing hyphen.
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")
LEAD = "lead"


class Actor(Protocol):
    """A staff member (the directory sits below accounts: it knows a user only by this)."""

    id: int

    def has_role(self, minimum: str) -> bool: ...


class Invalid(InvalidInput):
    """Some fields were refused: ``problems`` maps each field to its message."""

    code = "invalid_directory_entry"
    default_message = _l("Some details need correcting.")

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__()
        self.problems = problems


class InvalidDomain(InvalidInput):
    code = "invalid_domain"
    default_message = _l("Enter a domain like example.org, without http:// or an @.")


class UnknownKind(InvalidInput):
    code = "unknown_kind"
    default_message = _l("Choose a kind of organisation from the list.")


class UnknownStatus(InvalidInput):
    code = "unknown_status"
    default_message = _l("Choose a partnership status from the list.")


class UnknownLanguage(InvalidInput):
    code = "unknown_language"
    default_message = _l("Choose English (en) or French (fr).")


class LeadsOnly(NotAllowed):
    code = "leads_only"
    default_message = _l("Only a team lead can do this.")


def require_lead(actor: Actor | None) -> None:
    if actor is not None and not actor.has_role(LEAD):
        raise LeadsOnly()


def parse_domain(value: Any) -> str:
    """A bare email domain in lower case: ``@Mail.Example.ORG.`` -> ``mail.example.org``."""
    text = parse_line(value, max_length=260).lower().lstrip("@").rstrip(".")
    try:
        text = text.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidDomain() from exc
    if not _DOMAIN.match(text):
        raise InvalidDomain()
    return text


def parse_kind(value: Any) -> str:
    text = str(value or "").strip()
    if text not in {kind.value for kind in DIRECTORY_KINDS}:
        raise UnknownKind()
    return text


def parse_status(value: Any) -> str:
    text = str(value or "").strip()
    if text not in {status.value for status in PartnershipStatus}:
        raise UnknownStatus()
    return text


def parse_language(value: Any) -> str:
    text = str(value or "").strip().lower()
    if text not in LANGUAGES:
        raise UnknownLanguage()
    return text


def parse_tags(value: Any) -> list[str]:
    """Tags separated by commas or semicolons, each one line, without duplicates (case kept, first wins)."""
    raw = value if isinstance(value, list | tuple) else re.split(r"[,;]", str(value or ""))
    tags: dict[str, str] = {}
    for item in raw:
        tag = parse_line(item, max_length=TAG_MAX, required=False)
        if tag:
            tags.setdefault(tag.casefold(), tag)
    if len(tags) > TAGS_MAX:
        raise InvalidInput(_l("Use at most %(count)d tags.", count=TAGS_MAX))
    return sorted(tags.values(), key=str.casefold)


def _optional_line(value: Any, max_length: int) -> str | None:
    return parse_line(value, max_length=max_length, required=False) or None


@dataclass(frozen=True)
class OrganisationDetails:
    """The details of an organisation staff can edit (status and domains have operations of their own)."""

    name: str
    kind: str
    name_fr: str | None = None
    short_name: str | None = None
    website: str | None = None
    country: str | None = None
    notes: str | None = None
    tags: list[str] = field(default_factory=list)


ORGANISATION_PARSERS: dict[str, Any] = {
    "name": lambda v: parse_line(v, max_length=NAME_MAX),
    "kind": parse_kind,
    "name_fr": lambda v: _optional_line(v, NAME_MAX),
    "short_name": lambda v: _optional_line(v, SHORT_NAME_MAX),
    "website": lambda v: _optional_line(v, WEBSITE_MAX),
    "country": lambda v: _optional_line(v, COUNTRY_MAX),
    "notes": lambda v: parse_text(v, max_length=NOTES_MAX, required=False) or None,
    "tags": parse_tags,
}


def parse_organisation(values: dict[str, Any]) -> OrganisationDetails:
    """Every field checked; raises ``Invalid`` with one message per refused field."""
    parsed, problems = _parse_all(values, ORGANISATION_PARSERS)
    if problems:
        raise Invalid(problems)
    return OrganisationDetails(**parsed)


@dataclass(frozen=True)
class ContactDetails:
    email: str
    name: str
    phone: str | None = None
    title: str | None = None
    language: str = "en"
    notes: str | None = None


CONTACT_PARSERS: dict[str, Any] = {
    "email": parse_email_key,
    "name": lambda v: parse_line(v, max_length=CONTACT_NAME_MAX),
    "phone": lambda v: _optional_line(v, PHONE_MAX),
    "title": lambda v: _optional_line(v, TITLE_MAX),
    "language": lambda v: parse_language(v or "en"),
    "notes": lambda v: parse_text(v, max_length=NOTES_MAX, required=False) or None,
}


def parse_contact(values: dict[str, Any]) -> ContactDetails:
    parsed, problems = _parse_all(values, CONTACT_PARSERS)
    if problems:
        raise Invalid(problems)
    return ContactDetails(**parsed)


def _parse_all(values: dict[str, Any], parsers: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    parsed: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for name, parse in parsers.items():
        try:
            parsed[name] = parse(values.get(name))
        except InvalidInput as exc:
            problems[name] = exc.message
    return parsed, problems
