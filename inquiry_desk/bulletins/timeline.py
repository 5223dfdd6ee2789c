"""Bulletins on a contact's or an organisation's timeline: each bulletin its contacts received.

Registered with the directory's timeline (``inquiries.stakeholders.timeline.register_source``)
when the bulletin pages load. Read from the send engine's deliveries, by address (the
contacts' addresses, normalised as the engine keys them: its unique index on (send,
address) serves each bulletin's lookup), accepted by the mail server. An organisation's
timeline shows one entry per bulletin, with how many of its contacts received it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flask import url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import func, select

from inquiry_desk.bulletins.models import Bulletin
from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Contact
from inquiry_desk.inquiries.stakeholders.timeline import Entry, register_source
from inquiry_desk.mail.models import Delivery, DeliveryStatus, MailSend

KIND = "bulletin"


def bulletins_received(*, organisation_id: int | None = None, contact_id: int | None = None,
                       before: datetime | None = None, limit: int = 20) -> Sequence[Entry]:
    """The newest ``limit`` bulletins received by the contact, or by the organisation's contacts."""
    if organisation_id is None and contact_id is None:
        return []
    whose = Contact.organisation_id == organisation_id if organisation_id is not None else Contact.id == contact_id
    addresses = select(func.lower(func.trim(Contact.email))).where(whose).scalar_subquery()
    received = func.min(Delivery.accepted_at).label("received")
    query = (select(Bulletin.id, Bulletin.title_en, Bulletin.title_fr, received, func.count().label("contacts"))
             .join(MailSend, MailSend.key == Bulletin.send_key)
             .join(Delivery, Delivery.send_id == MailSend.id)
             .where(Delivery.address_key.in_(addresses), Delivery.status == DeliveryStatus.SENT.value,
                    Delivery.accepted_at.is_not(None))
             .group_by(Bulletin.id, Bulletin.title_en, Bulletin.title_fr)
             .order_by(received.desc()).limit(limit))
    if before is not None:
        query = query.where(Delivery.accepted_at < before)
    locale = get_locale()
    french = locale is not None and locale.language == "fr"
    entries = []
    for row in db.session.execute(query):
        if organisation_id is not None:
            text = ngettext("Bulletin received by %(num)d contact:", "Bulletin received by %(num)d contacts:",
                            row.contacts)
        else:
            text = _("Bulletin received:")
        title = (row.title_fr if french else row.title_en) or row.title_en or row.title_fr
        entries.append(Entry(row.received, KIND, details={
            "text": text, "url": url_for("bulletins_staff.show", bulletin_id=row.id), "link_text": title}))
    return entries


register_source(bulletins_received)
