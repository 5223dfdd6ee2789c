"""The retention purge: erase the personal data of inquiries closed longer than ``RETENTION_MONTHS``.

Which inquiries
    Status ``closed``, not yet purged, not on hold (``hold_reason``, see lifecycle.py), neither
    resolved (``resolved_at``) nor changed (``updated_at``) within the last ``RETENTION_MONTHS`` months.

What is erased
    - every message body of the thread, and the inquiry's subject: replaced by ``REMOVED``;
    - the attachments of the thread (rows, and files no other inquiry keeps);
    - the organisation name the stakeholder typed on the inquiry (the matched organisation
      of the directory, a public body, stays linked);
    - the stakeholder's contact, unless another inquiry that is not purged still uses it:
      name ``—``, email ``purged-<contact id>@invalid`` (the column is unique), phone and
      organisation name emptied;
    - the private links of the inquiry (deleted);
    - its search document (removed: the inquiry is no longer found by any word);
    - every outgoing email about it (cause keys ``inquiry:<id>:…``: confirmation, replies,
      team notice, target reminders, new links), deleted whatever their status;
    - daily digests (cause keys ``digest:…``) queued before the retention cut-off, since they
      list subjects of inquiries that are now purged.

What stays
    The reference number, dates, status, priority, topic, tags, assignee, channel, language,
    the message rows themselves (kind, author, time) and the audit log, which is append-only.
    ``purged_at`` is set and an ``inquiry.purged`` audit entry records the id and reference,
    nothing of the content. Purged inquiries are skipped, so a second run changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from dateutil.relativedelta import relativedelta
from flask import current_app
from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.orm import selectinload

from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Contact
from inquiry_desk.inquiries import attachments, recorder
from inquiry_desk.inquiries.models import Inquiry, Message, PersonConcerned, PortalLink, Status
from inquiry_desk.mail.inbound.models import InboundEmail
from inquiry_desk.mail.models import OutgoingEmail

REMOVED = "[removed under the retention rule]"
PURGED_NAME = "—"
BATCH_SIZE = 100


def retention_cutoff(now: datetime) -> datetime:
    """Inquiries closed and untouched since before this moment are purged."""
    return now - relativedelta(months=current_app.config["RETENTION_MONTHS"])


def purged_email(contact_id: int) -> str:
    return f"purged-{contact_id}@invalid"


def purge_closed_inquiries(now: datetime) -> int:
    """Purge every inquiry due for it, ``BATCH_SIZE`` at a time with a commit after each; returns how many."""
    cutoff = retention_cutoff(now)
    purged = 0
    after = 0
    while True:
        batch = db.session.scalars(
            select(Inquiry)
            .where(Inquiry.status == Status.CLOSED.value, Inquiry.purged_at.is_(None), Inquiry.id > after,
                   Inquiry.hold_reason.is_(None),
                   Inquiry.updated_at < cutoff, or_(Inquiry.resolved_at.is_(None), Inquiry.resolved_at < cutoff))
            .order_by(Inquiry.id)
            .limit(BATCH_SIZE)
            .options(selectinload(Inquiry.contact))
        ).all()
        if not batch:
            break
        for inquiry in batch:
            _purge(inquiry, now)
        _delete_outgoing_emails([inquiry.id for inquiry in batch])
        purged += len(batch)
        after = batch[-1].id
        db.session.commit()
    _delete_old_digests(cutoff)
    db.session.commit()
    return purged


def _purge(inquiry: Inquiry, now: datetime) -> None:
    with recorder.change(inquiry, actor=None, now=now) as change:
        # The whole emails the messages came in (email in) go with their bodies.
        db.session.execute(delete(InboundEmail).where(InboundEmail.id.in_(
            select(Message.inbound_email_id).where(Message.inquiry_id == inquiry.id)))
            .execution_options(synchronize_session=False))
        attachments.erase_inquiries([inquiry.id], now=now)  # the rows now, the files after the commit
        db.session.execute(update(Message).where(Message.inquiry_id == inquiry.id).values(body=REMOVED))
        db.session.expire(inquiry, ["messages"])
        inquiry.subject = REMOVED
        inquiry.organisation_name = None
        inquiry.purged_at = now
        db.session.execute(delete(PortalLink).where(PortalLink.inquiry_id == inquiry.id))
        db.session.execute(delete(PersonConcerned).where(PersonConcerned.inquiry_id == inquiry.id))
        change.event("purged", reference=inquiry.reference)
    db.session.flush()
    if inquiry.contact is not None:
        _erase_contact_unless_used(inquiry.contact, inquiry.id)


def _erase_contact_unless_used(contact: Contact, purged_inquiry_id: int) -> None:
    still_used = db.session.scalar(select(exists().where(
        Inquiry.contact_id == contact.id, Inquiry.id != purged_inquiry_id, Inquiry.purged_at.is_(None),
    )))
    if still_used:
        return
    contact.name = PURGED_NAME
    contact.email = purged_email(contact.id)
    contact.phone = None
    contact.organisation_name = None


def _delete_outgoing_emails(inquiry_ids: Sequence[int]) -> None:
    """One statement per batch: without a pattern index, each LIKE scan reads the whole outbox."""
    patterns = [OutgoingEmail.cause_key.like(f"inquiry:{inquiry_id}:%") for inquiry_id in inquiry_ids]
    if patterns:
        db.session.execute(delete(OutgoingEmail).where(or_(*patterns)))


def _delete_old_digests(cutoff: datetime) -> None:
    db.session.execute(delete(OutgoingEmail).where(OutgoingEmail.cause_key.like("digest:%"),
                                                    OutgoingEmail.created_at < cutoff))
