"""Who a bulletin reaches: subscribers per list and language, and the change since the last bulletin to the same lists.

Counts read the subscriptions (subscribed, not suppressed by the mailing lists); the
send engine later leaves out the same person on two lists and addresses it suppressed
itself, so the figure sent can be a little lower: the snapshot keeps both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from inquiry_desk.bulletins.models import Bulletin, BulletinSnapshot, BulletinStatus
from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Contact
from inquiry_desk.mailing.models import MailingList, Subscription, SubscriptionStatus, SuppressionEntry


@dataclass
class ListAudience:
    mailing_list: MailingList
    by_language: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_language.values())


@dataclass(frozen=True)
class Change:
    """Since the last bulletin sent to the same lists."""

    previous_total: int
    previous_at: datetime
    unsubscribed: int
    bounced: int


def by_list(bulletin: Bulletin) -> list[ListAudience]:
    lists = db.session.scalars(select(MailingList).where(MailingList.id.in_(bulletin.list_ids))
                               .order_by(MailingList.name_en)).all()
    audiences = {ml.id: ListAudience(ml, {"en": 0, "fr": 0}) for ml in lists}
    suppressed = select(SuppressionEntry.id).where(SuppressionEntry.address == Contact.email,
                                                   SuppressionEntry.lifted_at.is_(None)).exists()
    rows = db.session.execute(
        select(Subscription.list_id, Subscription.language, func.count())
        .join(Contact, Contact.id == Subscription.contact_id)
        .where(Subscription.list_id.in_(bulletin.list_ids),
               Subscription.status == SubscriptionStatus.SUBSCRIBED.value, ~suppressed)
        .group_by(Subscription.list_id, Subscription.language))
    for list_id, language, count in rows:
        audiences[list_id].by_language[language] = count
    return list(audiences.values())


def unique_total(bulletin: Bulletin) -> int:
    """Distinct addresses across the lists (one copy each)."""
    return db.session.scalar(
        select(func.count(func.distinct(Contact.email))).select_from(Subscription)
        .join(Contact, Contact.id == Subscription.contact_id)
        .where(Subscription.list_id.in_(bulletin.list_ids),
               Subscription.status == SubscriptionStatus.SUBSCRIBED.value)) or 0


def change_since_last(bulletin: Bulletin) -> Change | None:
    """The last bulletin sent to exactly these lists, and who left them since."""
    candidates = db.session.execute(
        select(Bulletin.list_ids, BulletinSnapshot.total, BulletinSnapshot.started_at)
        .join(BulletinSnapshot, BulletinSnapshot.bulletin_id == Bulletin.id)
        .where(Bulletin.id != bulletin.id,
               Bulletin.status.in_((BulletinStatus.SENDING.value, BulletinStatus.SENT.value)))
        .order_by(BulletinSnapshot.started_at.desc()).limit(50)).all()
    wanted = sorted(bulletin.list_ids)
    for list_ids, total, started_at in candidates:
        if sorted(list_ids) == wanted:
            left = dict(db.session.execute(
                select(Subscription.status, func.count()).where(
                    Subscription.list_id.in_(wanted), Subscription.updated_at > started_at,
                    Subscription.status.in_((SubscriptionStatus.UNSUBSCRIBED.value, SubscriptionStatus.BOUNCED.value,
                                             SubscriptionStatus.COMPLAINED.value)))
                .group_by(Subscription.status)).tuples().all())
            return Change(previous_total=total, previous_at=started_at,
                          unsubscribed=left.get(SubscriptionStatus.UNSUBSCRIBED.value, 0),
                          bounced=left.get(SubscriptionStatus.BOUNCED.value, 0)
                          + left.get(SubscriptionStatus.COMPLAINED.value, 0))
    return None
