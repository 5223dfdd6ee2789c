"""Directory operations: trusted-partner recognition, organisations, their status and domains, contacts.

What reaches inquiries (re-linking them when a domain is verified, the badge when a status
changes, merges, a person's data) is done one layer up, in ``inquiries/stakeholders``; the
operations here change the directory only. Every change is audited; none commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from inquiry_desk.audit import services as audit
from inquiry_desk.core.app_cache import AppCache
from inquiry_desk.core.database import upsert_row
from inquiry_desk.core.domain import Conflict, InvalidInput, NotFound
from inquiry_desk.core.extensions import db
from inquiry_desk.core.text import parse_line
from inquiry_desk.directory.models import (
    Contact,
    Organisation,
    OrganisationDomain,
    OrganisationStatusChange,
    OrganisationTag,
    PartnershipStatus,
)
from inquiry_desk.directory.rules import (
    METHOD_MAX,
    REASON_MAX,
    Actor,
    ContactDetails,
    OrganisationDetails,
    parse_domain,
    parse_status,
    require_lead,
)


class DomainTaken(Conflict):
    code = "domain_taken"
    default_message = _l("That domain already belongs to an organisation of the directory.")


class ReasonRequired(InvalidInput):
    code = "reason_required"
    default_message = _l("Write the reason for the change (for a trusted referral partner, the due-diligence note).")


class EmailTaken(Conflict):
    code = "email_taken"
    default_message = _l("Another contact already has this email address.")


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower().rstrip(".")


def _candidate_domains(domain: str) -> list[str]:
    """The domain and each parent: mail.amanlara.org -> [mail.amanlara.org, amanlara.org, org]."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


def domain_covers(entry: OrganisationDomain, domain: str) -> bool:
    """Whether mail from ``domain`` comes from this entry: the same domain, or a subdomain if it says so."""
    return domain == entry.domain or (entry.include_subdomains and domain.endswith("." + entry.domain))


# The verified domains of trusted partners, kept per process (every public submission asks): forgotten when
# this process commits a change to a domain or to an organisation's trust; another process's within seconds.
_TRUSTED_DOMAINS: AppCache[dict[str, tuple[bool, int]]] = AppCache(
    "directory_trusted_domains", watch={OrganisationDomain: None, Organisation: frozenset({"status", "active"})},
    seconds=5.0)


def _read_trusted_domains() -> dict[str, tuple[bool, int]]:
    """{domain: (include_subdomains, organisation id)} of every verified domain of a trusted partner."""
    rows = db.session.execute(
        select(OrganisationDomain.domain, OrganisationDomain.include_subdomains, OrganisationDomain.organisation_id)
        .join(Organisation).where(OrganisationDomain.verified_at.is_not(None), Organisation.trusted))
    return {domain: (include_subdomains, organisation_id) for domain, include_subdomains, organisation_id in rows}


def trusted_organisation_for(email: str) -> Organisation | None:
    """The trusted partner whose verified domain sent this address (a subdomain only when the entry says so).

    What the sender typed as their organisation plays no part: only the domain counts, and only
    an organisation whose status is trusted referral partner gives trust. The domains are kept
    per process: an address of no partner costs no query, a partner's one (its organisation).
    """
    domain = email_domain(email)
    if not domain:
        return None
    trusted = _TRUSTED_DOMAINS.get(_read_trusted_domains)
    # The longest entry that covers the domain: the domain itself, else its nearest parent that includes subdomains.
    for position, candidate in enumerate(_candidate_domains(domain)):
        entry = trusted.get(candidate)
        if entry is not None and (position == 0 or entry[0]):
            organisation = db.session.get(Organisation, entry[1])
            # (its trust as it is now: another process may have withdrawn it since the domains were read)
            return organisation if organisation is not None and organisation.trusted else None
    return None


def organisation_for_domain(email: str) -> Organisation | None:
    """The active organisation (trusted or not) one of whose verified domains sent this address."""
    domain = email_domain(email)
    if not domain:
        return None
    entries = db.session.scalars(
        select(OrganisationDomain).join(Organisation)
        .where(OrganisationDomain.domain.in_(_candidate_domains(domain)), OrganisationDomain.verified_at.is_not(None),
               Organisation.active.is_(True))
        .order_by(db.func.length(OrganisationDomain.domain).desc())
    ).all()
    return next((entry.organisation for entry in entries if domain_covers(entry, domain)), None)


def record_contact(
    *, email: str, name: str, language: str, now: datetime, phone: str | None = None,
    organisation_name: str | None = None, organisation: Organisation | None = None,
) -> Contact:
    """Find the contact by email or create it; what they typed last is kept.

    One statement for a new address, or a known one under the same name (an upsert on the
    unique email): two first inquiries from one address at once both succeed, the second
    updating the row the first inserted. A new name is set on the loaded contact instead, so
    that the flush sees the rename and their inquiries' search documents follow it.
    """
    email = email.strip().lower()
    # A phone or organisation left blank keeps the one given before.
    typed = {"phone": phone or None, "organisation_name": organisation_name or None}
    contact: Contact | None = upsert_row(
        Contact, {"email": email, "name": name, "created_at": now, "language": language, "active": True, **typed},
        ["email"], ["language", *typed], keep_unless_given=tuple(typed), only_if_same=("name",))
    if contact is None:  # known under another name
        contact = db.session.scalars(select(Contact).where(Contact.email == email)).one()
        contact.name = name
        contact.language = language
        for column, value in typed.items():
            if value:
                setattr(contact, column, value)
    if organisation is not None:
        contact.organisation = organisation
    return contact


def add_organisation(
    *, name: str, kind: str, trusted: bool = False, domains: Sequence[str] = (), now: datetime,
    website: str | None = None, include_subdomains: bool = False,
) -> Organisation:
    """An organisation as the demo and tests set one up: a trusted one has its domains verified."""
    status = PartnershipStatus.TRUSTED.value if trusted else PartnershipStatus.ACTIVE.value
    organisation = Organisation(name=name, kind=kind, status=status, status_changed_at=now, website=website,
                                created_at=now, updated_at=now)
    for domain in domains:
        organisation.domains.append(OrganisationDomain(domain=domain.lower(), include_subdomains=include_subdomains,
                                                       verified_at=now if trusted else None))
    db.session.add(organisation)
    return organisation


def find_organisation_by_name(name: str) -> Organisation | None:
    return db.session.scalar(select(Organisation).where(Organisation.name == name).order_by(Organisation.id).limit(1))


def trusted_organisations() -> Sequence[Organisation]:
    query = select(Organisation).where(Organisation.trusted).order_by(Organisation.name)
    return db.session.scalars(query).all()


MAX_ID = 2**31 - 1  # ids are 32-bit on PostgreSQL; a larger number in a URL names nothing


def get_organisation(organisation_id: int) -> Organisation:
    if not 0 < organisation_id <= MAX_ID:
        raise NotFound()
    organisation = db.session.get(Organisation, organisation_id, options=[
        joinedload(Organisation.domains), joinedload(Organisation.tag_rows)])
    if organisation is None:
        raise NotFound()
    return organisation


def get_contact(contact_id: int) -> Contact:
    if not 0 < contact_id <= MAX_ID:
        raise NotFound()
    contact = db.session.get(Contact, contact_id)
    if contact is None:
        raise NotFound()
    return contact


# ------------------------------------------------------------------------------ organisations


def _apply_organisation(organisation: Organisation, details: OrganisationDetails) -> list[str]:
    """Set the details; returns the names of the fields that changed (for the audit log, never values)."""
    changed = []
    for name in ("name", "kind", "name_fr", "short_name", "website", "country", "notes"):
        value = getattr(details, name)
        if getattr(organisation, name) != value:
            setattr(organisation, name, value)
            changed.append(name)
    if organisation.tags != details.tags:
        organisation.tag_rows = [OrganisationTag(tag=tag) for tag in details.tags]
        changed.append("tags")
    return changed


def create_organisation(details: OrganisationDetails, *, status: str = PartnershipStatus.PROSPECTIVE.value,
                        actor: Actor | None, now: datetime) -> Organisation:
    """A new organisation; it starts prospective, active or inactive (trust is given by ``change_status``)."""
    status = parse_status(status)
    if status == PartnershipStatus.TRUSTED.value:
        raise ReasonRequired()
    organisation = Organisation(status=status, status_changed_at=now, created_at=now, updated_at=now)
    _apply_organisation(organisation, details)
    db.session.add(organisation)
    db.session.flush()
    db.session.add(OrganisationStatusChange(organisation_id=organisation.id, status_before=None, status_after=status,
                                            actor_id=_id(actor), at=now))
    audit.record("organisation.created", actor_id=_id(actor), subject_type="organisation",
                 subject_id=organisation.id, details={"kind": organisation.kind, "status": status}, now=now)
    return organisation


def update_organisation(organisation: Organisation, details: OrganisationDetails, *, actor: Actor | None,
                        now: datetime) -> list[str]:
    changed = _apply_organisation(organisation, details)
    if changed:
        organisation.updated_at = now
        audit.record("organisation.updated", actor_id=_id(actor), subject_type="organisation",
                     subject_id=organisation.id, details={"fields": changed}, now=now)
    return changed


def change_status(organisation: Organisation, status: str, reason: str | None, *, actor: Actor | None,
                  now: datetime) -> str | None:
    """Set the partnership status with its reason; returns the status before, or None if unchanged.

    Making an organisation a trusted referral partner, or taking that away, needs a lead and a reason.
    """
    status = parse_status(status)
    reason = parse_line(reason, max_length=REASON_MAX, required=False) or None
    before = organisation.status
    if status == before:
        return None
    if PartnershipStatus.TRUSTED.value in (status, before):
        require_lead(actor)
        if not reason:
            raise ReasonRequired()
    organisation.status = status
    organisation.status_changed_at = now
    organisation.updated_at = now
    db.session.add(OrganisationStatusChange(organisation_id=organisation.id, status_before=before,
                                            status_after=status, reason=reason, actor_id=_id(actor), at=now))
    audit.record("organisation.status_changed", actor_id=_id(actor), subject_type="organisation",
                 subject_id=organisation.id, details={"before": before, "after": status}, now=now)
    return before


def status_history(organisation: Organisation) -> Sequence[OrganisationStatusChange]:
    return db.session.scalars(
        select(OrganisationStatusChange).where(OrganisationStatusChange.organisation_id == organisation.id)
        .order_by(OrganisationStatusChange.at.desc(), OrganisationStatusChange.id.desc())
    ).all()


def add_domain(organisation: Organisation, domain: str, *, include_subdomains: bool, method: str | None,
               actor: Actor | None, now: datetime) -> OrganisationDomain:
    """A verified email domain: leads only, audited. Re-linking inquiries is the caller's (stakeholders.partners)."""
    require_lead(actor)
    domain = parse_domain(domain)
    method = parse_line(method, max_length=METHOD_MAX, required=False) or None
    if db.session.scalar(select(OrganisationDomain.id).where(OrganisationDomain.domain == domain)) is not None:
        raise DomainTaken()
    entry = OrganisationDomain(domain=domain, include_subdomains=include_subdomains, verified_at=now,
                               verified_by_id=_id(actor), verification_method=method)
    organisation.domains.append(entry)
    organisation.updated_at = now
    db.session.flush()
    audit.record("organisation.domain_added", actor_id=_id(actor), subject_type="organisation",
                 subject_id=organisation.id,
                 details={"domain": domain, "include_subdomains": include_subdomains, "method": method}, now=now)
    return entry


def remove_domain(organisation: Organisation, domain_id: int, *, actor: Actor | None,
                  now: datetime) -> OrganisationDomain:
    require_lead(actor)
    entry = next((entry for entry in organisation.domains if entry.id == domain_id), None)
    if entry is None:
        raise NotFound()
    organisation.domains.remove(entry)
    organisation.updated_at = now
    db.session.flush()
    audit.record("organisation.domain_removed", actor_id=_id(actor), subject_type="organisation",
                 subject_id=organisation.id, details={"domain": entry.domain}, now=now)
    return entry


def set_organisation_active(organisation: Organisation, active: bool, *, actor: Actor | None, now: datetime) -> bool:
    """Deactivate (or reactivate) an organisation; returns whether anything changed."""
    if organisation.active == active:
        return False
    organisation.active = active
    organisation.updated_at = now
    audit.record("organisation.reactivated" if active else "organisation.deactivated", actor_id=_id(actor),
                 subject_type="organisation", subject_id=organisation.id, now=now)
    return True


# ------------------------------------------------------------------------------ contacts


def _apply_contact(contact: Contact, details: ContactDetails) -> list[str]:
    changed = []
    for name in ("email", "name", "phone", "title", "language", "notes"):
        value = getattr(details, name)
        if getattr(contact, name) != value:
            setattr(contact, name, value)
            changed.append(name)
    return changed


def create_contact(details: ContactDetails, *, organisation: Organisation | None, actor: Actor | None,
                   now: datetime) -> Contact:
    """A contact staff add by hand; one email address is one contact."""
    if db.session.scalar(select(Contact.id).where(Contact.email == details.email)) is not None:
        raise EmailTaken()
    organisation = organisation or organisation_for_domain(details.email)
    contact = Contact(created_at=now, updated_at=now, organisation=organisation)
    _apply_contact(contact, details)
    db.session.add(contact)
    db.session.flush()
    audit.record("contact.created", actor_id=_id(actor), subject_type="contact", subject_id=contact.id, now=now)
    return contact


def update_contact(contact: Contact, details: ContactDetails, *, organisation: Organisation | None,
                   actor: Actor | None, now: datetime) -> list[str]:
    if details.email != contact.email and db.session.scalar(
            select(Contact.id).where(Contact.email == details.email, Contact.id != contact.id)) is not None:
        raise EmailTaken()
    changed = _apply_contact(contact, details)
    if contact.organisation_id != (organisation.id if organisation else None):
        contact.organisation = organisation
        changed.append("organisation")
    if changed:
        contact.updated_at = now
        audit.record("contact.updated", actor_id=_id(actor), subject_type="contact", subject_id=contact.id,
                     details={"fields": changed}, now=now)
    return changed


def set_contact_active(contact: Contact, active: bool, *, actor: Actor | None, now: datetime) -> bool:
    if contact.active == active:
        return False
    contact.active = active
    contact.updated_at = now
    audit.record("contact.reactivated" if active else "contact.deactivated", actor_id=_id(actor),
                 subject_type="contact", subject_id=contact.id, now=now)
    return True


def contacts_of(organisation: Organisation, *, limit: int = 200) -> Sequence[Contact]:
    return db.session.scalars(
        select(Contact).where(Contact.organisation_id == organisation.id, Contact.merged_into_id.is_(None))
        .order_by(Contact.name, Contact.id).limit(limit)
    ).all()


def _id(actor: Actor | None) -> int | None:
    return actor.id if actor is not None else None
