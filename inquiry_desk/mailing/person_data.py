"""A person's subscriptions and consent records, in the export and erasure of a person's data."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from inquiry_desk.core.database import rows_affected
from inquiry_desk.core.extensions import db
from inquiry_desk.directory.personal_sources import PersonalDataSource, register_source
from inquiry_desk.mailing.models import ConsentRecord, MailingList, Subscription


def collect(contact_ids: Sequence[int]) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Subscription, MailingList.name_en).join(MailingList, MailingList.id == Subscription.list_id)
        .where(Subscription.contact_id.in_(contact_ids)).order_by(Subscription.id)).all()
    consents = db.session.scalars(select(ConsentRecord).where(
        ConsentRecord.subscription_id.in_([row.Subscription.id for row in rows] or [-1]))
        .order_by(ConsentRecord.id)).all()
    return [{
        "id": row.Subscription.id, "list": row.name_en, "status": row.Subscription.status,
        "language": row.Subscription.language, "created_at": row.Subscription.created_at.isoformat(),
        "consents": [{"given": record.given, "method": record.method, "at": record.at.isoformat(),
                      "consent_text": record.consent_text, "language": record.language,
                      "ip_address": record.ip_address}
                     for record in consents if record.subscription_id == row.Subscription.id],
    } for row in rows]


def erase(contact_ids: Sequence[int], now: datetime) -> int:
    """Their subscriptions go, and with them the consent records that proved them."""
    ids = select(Subscription.id).where(Subscription.contact_id.in_(contact_ids))
    db.session.execute(delete(ConsentRecord).where(ConsentRecord.subscription_id.in_(ids)))
    return rows_affected(db.session.execute(delete(Subscription).where(Subscription.contact_id.in_(contact_ids))))


register_source(PersonalDataSource("subscriptions", collect, erase))
