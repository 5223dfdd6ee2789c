"""Directory operations needed by intake: trusted-partner recognition and contacts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from inquiry_desk.core.database import insert_unless_exists
from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Contact, Organisation, OrganisationDomain


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower().rstrip(".")


def _candidate_domains(domain: str) -> list[str]:
    """The domain and each parent: mail.amanlara.org -> [mail.amanlara.org, amanlara.org, org]."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


def trusted_organisation_for(email: str) -> Organisation | None:
    """The trusted partner whose verified domain (or a subdomain of it) sent this address.

    What the sender typed as their organisation plays no part: only the domain counts.
    """
    domain = email_domain(email)
    if not domain:
        return None
    query = (
        select(Organisation)
        .join(OrganisationDomain)
        .where(
            OrganisationDomain.domain.in_(_candidate_domains(domain)),
            OrganisationDomain.verified_at.is_not(None),
            Organisation.trusted.is_(True),
        )
        .order_by(db.func.length(OrganisationDomain.domain).desc())
        .limit(1)
    )
    return db.session.scalar(query)


def record_contact(
    *, email: str, name: str, language: str, now: datetime, phone: str | None = None,
    organisation_name: str | None = None, organisation: Organisation | None = None,
) -> Contact:
    """Find the contact by email or create it; what they typed last is kept."""
    email = email.strip().lower()
    contact = db.session.scalar(select(Contact).where(Contact.email == email))
    if contact is None:
        # Two first inquiries from one address at once: the unique email decides, neither fails.
        insert_unless_exists(Contact, {"email": email, "name": name, "created_at": now, "language": language},
                             ["email"])
        contact = db.session.scalars(select(Contact).where(Contact.email == email)).one()
    contact.name = name
    contact.language = language
    if phone:
        contact.phone = phone
    if organisation_name:
        contact.organisation_name = organisation_name
    if organisation is not None:
        contact.organisation = organisation
    return contact


def add_organisation(
    *, name: str, kind: str, trusted: bool = False, domains: Sequence[str] = (), now: datetime,
    website: str | None = None,
) -> Organisation:
    organisation = Organisation(name=name, kind=kind, trusted=trusted, website=website, created_at=now)
    for domain in domains:
        organisation.domains.append(OrganisationDomain(domain=domain.lower(), verified_at=now if trusted else None))
    db.session.add(organisation)
    return organisation


def find_organisation_by_name(name: str) -> Organisation | None:
    return db.session.scalar(select(Organisation).where(Organisation.name == name))


def trusted_organisations() -> Sequence[Organisation]:
    query = select(Organisation).where(Organisation.trusted.is_(True)).order_by(Organisation.name)
    return db.session.scalars(query).all()
