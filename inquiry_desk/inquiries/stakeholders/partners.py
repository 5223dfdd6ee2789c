"""Trusted partners: verified domains link their people's inquiries to the organisation, and only a
trusted referral partner gives the badge.

- Adding a verified domain links every contact whose address it covers (a subdomain only when
  the entry says so) and their inquiries, past and open, to the organisation; open inquiries
  get the badge when the organisation is a trusted referral partner. Later inquiries are linked
  at intake (``directory.trusted_organisation_for`` and the contact's organisation).
- Removing a domain unlinks the contacts it alone covered and their open inquiries, and takes
  the badge away from those; closed and resolved inquiries keep what they had when they were
  handled (they are the record of what happened).
- A status change to or from trusted referral partner (or deactivating the organisation) gives
  or takes the badge on the open inquiries of the organisation.

Every inquiry changed is changed through the recorder, so each one's history says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import ColumnElement

from inquiry_desk.accounts.models import User
from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.extensions import db
from inquiry_desk.directory import services as directory
from inquiry_desk.directory.models import Contact, Organisation, OrganisationDomain
from inquiry_desk.inquiries import recorder
from inquiry_desk.inquiries.models import OPEN_STATUSES, Inquiry

BATCH = 200


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def covers_email(entry: OrganisationDomain) -> ColumnElement[bool]:
    """SQL: the contact's address is on this domain entry (addresses are stored in lower case)."""
    domain = _like_escape(entry.domain)
    condition: ColumnElement[bool] = Contact.email.like(f"%@{domain}", escape="\\")
    if entry.include_subdomains:
        condition = or_(condition, Contact.email.like(f"%@%.{domain}", escape="\\"))
    return condition


# What proves the stakeholder holds the address (issue 10): a private link of that inquiry opened.
PROOF_ACTIONS = ("inquiry.viewed_by_stakeholder", "inquiry.partner_confirmed")


def address_proven(inquiry: Inquiry) -> bool:
    """Whether the stakeholder proved they hold the inquiry's address (the proof is per inquiry)."""
    return inquiry.trusted_partner or db.session.scalar(select(exists().where(
        AuditEvent.subject_type == "inquiry", AuditEvent.subject_id == inquiry.id,
        AuditEvent.action.in_(PROOF_ACTIONS)))) is True


def deserves_badge(inquiry: Inquiry, organisation: Organisation | None) -> bool:
    """Whether the sender's address is on a verified domain of a trusted referral partner, and proven theirs."""
    if organisation is None or not organisation.trusted or inquiry.contact is None:
        return False
    domain = directory.email_domain(inquiry.contact.email)
    return any(entry.verified_at is not None and directory.domain_covers(entry, domain)
               for entry in organisation.domains) and address_proven(inquiry)


def _inquiries_of(contact_ids: Sequence[int], *, open_only: bool) -> Iterable[Inquiry]:
    for start in range(0, len(contact_ids), BATCH):
        query = select(Inquiry).where(Inquiry.contact_id.in_(contact_ids[start:start + BATCH])).order_by(Inquiry.id)
        if open_only:
            query = query.where(Inquiry.status.in_(OPEN_STATUSES))
        yield from db.session.scalars(query.options(selectinload(Inquiry.contact))).all()


def add_verified_domain(organisation: Organisation, domain: str, *, include_subdomains: bool, method: str | None,
                        actor: User | None, now: datetime) -> tuple[OrganisationDomain, int]:
    """Verify a domain (leads only) and link what it covers; returns the entry and how many inquiries changed."""
    entry = directory.add_domain(organisation, domain, include_subdomains=include_subdomains, method=method,
                                 actor=actor, now=now)
    contacts = db.session.scalars(select(Contact).where(covers_email(entry), Contact.merged_into_id.is_(None))).all()
    changed = 0
    for inquiry in _inquiries_of([contact.id for contact in contacts], open_only=False):
        # The contact joins the organisation once they proved an address of its domain (issue 10).
        if inquiry.contact is not None and inquiry.contact.organisation_id is None and address_proven(inquiry):
            inquiry.contact.organisation = organisation
        is_open = inquiry.status in OPEN_STATUSES
        badge = deserves_badge(inquiry, organisation) if is_open else inquiry.trusted_partner
        if inquiry.organisation_id == organisation.id and inquiry.trusted_partner == badge:
            continue
        with recorder.change(inquiry, actor=actor, now=now) as change:
            inquiry.organisation = organisation
            inquiry.trusted_partner = badge
            change.event("organisation_linked", organisation_id=organisation.id, domain=entry.domain,
                         trusted_partner=badge)
        changed += 1
    return entry, changed


def remove_verified_domain(organisation: Organisation, domain_id: int, *, actor: User | None,
                           now: datetime) -> int:
    """Remove a domain (leads only): unlink what it alone covered; returns how many open inquiries changed."""
    entry = directory.remove_domain(organisation, domain_id, actor=actor, now=now)
    remaining = [other for other in organisation.domains if other.verified_at is not None]
    contacts = [contact for contact in db.session.scalars(
        select(Contact).where(covers_email(entry), Contact.organisation_id == organisation.id)).all()
        if not any(directory.domain_covers(other, directory.email_domain(contact.email)) for other in remaining)]
    for contact in contacts:
        contact.organisation = None
    changed = 0
    for inquiry in _inquiries_of([contact.id for contact in contacts], open_only=True):
        if inquiry.organisation_id != organisation.id:
            continue
        with recorder.change(inquiry, actor=actor, now=now) as change:
            inquiry.organisation = None
            inquiry.trusted_partner = False
            change.event("organisation_unlinked", organisation_id=organisation.id, domain=entry.domain)
        changed += 1
    return changed


def refresh_badges(organisation: Organisation, *, actor: User | None, now: datetime, reason: str) -> int:
    """Give or take the badge on the organisation's open inquiries after its trust changed; returns how many."""
    changed = 0
    query = (select(Inquiry).where(Inquiry.organisation_id == organisation.id, Inquiry.status.in_(OPEN_STATUSES))
             .order_by(Inquiry.id).options(selectinload(Inquiry.contact)))
    for inquiry in db.session.scalars(query).all():
        badge = deserves_badge(inquiry, organisation)
        if inquiry.trusted_partner == badge:
            continue
        with recorder.change(inquiry, actor=actor, now=now) as change:
            inquiry.trusted_partner = badge
            change.event("trusted_badge_given" if badge else "trusted_badge_removed",
                         organisation_id=organisation.id, reason=reason)
        changed += 1
    return changed


def change_status(organisation: Organisation, status: str, reason: str | None, *, actor: User | None,
                  now: datetime) -> int:
    """Change the partnership status (``directory.change_status`` rules) and refresh the badges."""
    before = directory.change_status(organisation, status, reason, actor=actor, now=now)
    if before is None:
        return 0
    return refresh_badges(organisation, actor=actor, now=now, reason="status")


def set_active(organisation: Organisation, active: bool, *, actor: User | None, now: datetime) -> int:
    """Deactivate or reactivate; a deactivated organisation gives no badge."""
    if not directory.set_organisation_active(organisation, active, actor=actor, now=now):
        return 0
    return refresh_badges(organisation, actor=actor, now=now, reason="deactivated" if not active else "reactivated")
