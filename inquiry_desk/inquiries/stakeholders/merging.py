"""Merging duplicates in the directory: every link moves to the one kept, the merged one is recorded.

- Contacts: the duplicate's inquiries (through the recorder, so each history says so) and the
  messages it wrote move to the contact kept; details the kept one lacks are filled in; the
  duplicate stays, deactivated, with ``merged_into_id`` (its address stays unique to it, so
  a later message from it is still recognised, then shown as merged).
- Organisations: contacts, inquiries, verified domains and tags move; the duplicate stays,
  deactivated, with ``merged_into_id``; its status history stays with it. Badges of the
  moved open inquiries follow the kept organisation's trust.

Leads only; audited on both sides.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from inquiry_desk.accounts.models import User
from inquiry_desk.audit import services as audit
from inquiry_desk.core.domain import InvalidInput
from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Contact, Organisation, OrganisationDomain, OrganisationTag
from inquiry_desk.directory.rules import require_lead
from inquiry_desk.inquiries import recorder
from inquiry_desk.inquiries.models import OPEN_STATUSES, Inquiry, Message
from inquiry_desk.inquiries.stakeholders.partners import deserves_badge


class CannotMerge(InvalidInput):
    code = "cannot_merge"
    default_message = _l("These two cannot be merged: choose two different entries that are not merged already.")


def merge_contacts(duplicate: Contact, kept: Contact, *, actor: User | None, now: datetime) -> int:
    """Move everything of ``duplicate`` to ``kept``; returns how many inquiries moved."""
    require_lead(actor)
    if duplicate.id == kept.id or duplicate.merged_into_id is not None or kept.merged_into_id is not None:
        raise CannotMerge()
    inquiries = db.session.scalars(select(Inquiry).where(Inquiry.contact_id == duplicate.id).order_by(Inquiry.id)).all()
    for inquiry in inquiries:
        with recorder.change(inquiry, actor=actor, now=now) as change:
            inquiry.contact = kept
            change.event("contact_merged", from_contact=duplicate.id, to_contact=kept.id)
    db.session.execute(update(Message).where(Message.author_contact_id == duplicate.id)
                       .values(author_contact_id=kept.id).execution_options(synchronize_session=False))
    for name in ("phone", "title", "notes", "organisation_name"):
        if not getattr(kept, name) and getattr(duplicate, name):
            setattr(kept, name, getattr(duplicate, name))
    if kept.organisation_id is None and duplicate.organisation_id is not None:
        kept.organisation_id = duplicate.organisation_id
    duplicate.merged_into_id = kept.id
    duplicate.active = False
    duplicate.updated_at = kept.updated_at = now
    actor_id = actor.id if actor else None
    audit.record("contact.merged_into", actor_id=actor_id, subject_type="contact", subject_id=duplicate.id,
                 details={"into": kept.id, "inquiries": len(inquiries)}, now=now)
    audit.record("contact.merged_from", actor_id=actor_id, subject_type="contact", subject_id=kept.id,
                 details={"from": duplicate.id, "inquiries": len(inquiries)}, now=now)
    return len(inquiries)


def merge_organisations(duplicate: Organisation, kept: Organisation, *, actor: User | None, now: datetime) -> int:
    """Move everything of ``duplicate`` to ``kept``; returns how many inquiries moved."""
    require_lead(actor)
    if duplicate.id == kept.id or duplicate.merged_into_id is not None or kept.merged_into_id is not None:
        raise CannotMerge()
    db.session.execute(update(Contact).where(Contact.organisation_id == duplicate.id).values(organisation_id=kept.id))
    db.session.execute(update(OrganisationDomain).where(OrganisationDomain.organisation_id == duplicate.id)
                       .values(organisation_id=kept.id))
    tags = {tag.casefold(): tag for tag in [*kept.tags, *duplicate.tags]}
    kept.tag_rows = [OrganisationTag(tag=tag) for tag in sorted(tags.values(), key=str.casefold)]
    duplicate.tag_rows = []
    db.session.flush()
    db.session.expire(kept, ["domains"])
    db.session.expire(duplicate, ["domains"])
    inquiries = db.session.scalars(select(Inquiry).where(Inquiry.organisation_id == duplicate.id).order_by(Inquiry.id)
                                   .options(selectinload(Inquiry.contact))).all()
    for inquiry in inquiries:
        with recorder.change(inquiry, actor=actor, now=now) as change:
            inquiry.organisation = kept
            if inquiry.status in OPEN_STATUSES:
                inquiry.trusted_partner = deserves_badge(inquiry, kept)
            change.event("organisation_merged", from_organisation=duplicate.id, to_organisation=kept.id,
                         trusted_partner=inquiry.trusted_partner)
    for field in ("name_fr", "short_name", "website", "country", "notes"):
        if not getattr(kept, field) and getattr(duplicate, field):
            setattr(kept, field, getattr(duplicate, field))
    duplicate.merged_into_id = kept.id
    duplicate.active = False
    duplicate.updated_at = kept.updated_at = now
    actor_id = actor.id if actor else None
    audit.record("organisation.merged_into", actor_id=actor_id, subject_type="organisation", subject_id=duplicate.id,
                 details={"into": kept.id, "inquiries": len(inquiries)}, now=now)
    audit.record("organisation.merged_from", actor_id=actor_id, subject_type="organisation", subject_id=kept.id,
                 details={"from": duplicate.id, "inquiries": len(inquiries)}, now=now)
    return len(inquiries)
