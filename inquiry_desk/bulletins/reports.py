"""What a bulletin's page shows of its send: progress, counts per status, the delivery log, the snapshot export."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from inquiry_desk.bulletins.models import Bulletin, BulletinSnapshot
from inquiry_desk.core.extensions import db
from inquiry_desk.mail import sending
from inquiry_desk.mail.models import Delivery, DeliveryStatus, MailSend
from inquiry_desk.mail.worker import HARD_BOUNCES
from inquiry_desk.mailing.models import Subscription, SubscriptionStatus

LOG_PAGE = 100


@dataclass(frozen=True)
class SendReport:
    send_status: str
    counts: dict[str, int]
    total: int
    done: int
    bounced: int
    unsubscribed_since: int
    seconds_left: float | None

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 100

    def as_json(self) -> dict[str, Any]:
        return {"send_status": self.send_status, "counts": self.counts, "total": self.total, "done": self.done,
                "percent": self.percent, "bounced": self.bounced, "unsubscribed_since": self.unsubscribed_since,
                "seconds_left": self.seconds_left}


def send_of(bulletin: Bulletin) -> MailSend | None:
    if not bulletin.send_key:
        return None
    return db.session.scalar(select(MailSend).where(MailSend.key == bulletin.send_key))


def send_report(bulletin: Bulletin, *, now: datetime) -> SendReport | None:
    send = send_of(bulletin)
    if send is None:
        return None
    progress = sending.send_progress(send, now=now)
    bounced = db.session.scalar(select(func.count()).where(
        Delivery.send_id == send.id, Delivery.status == DeliveryStatus.FAILED.value,
        Delivery.smtp_code.in_(HARD_BOUNCES))) or 0
    since = bulletin.sent_at or send.created_at
    unsubscribed = db.session.scalar(
        select(func.count()).select_from(Subscription)
        .where(Subscription.id.in_(select(Delivery.subscription_id).where(Delivery.send_id == send.id)),
               Subscription.status == SubscriptionStatus.UNSUBSCRIBED.value, Subscription.updated_at > since)) or 0
    return SendReport(send_status=send.status, counts=progress.counts, total=progress.total, done=progress.done,
                      bounced=bounced, unsubscribed_since=unsubscribed, seconds_left=progress.seconds_left)


def delivery_log(bulletin: Bulletin, search: str, *,
                 after_id: int | None = None) -> tuple[Sequence[Delivery], int | None]:
    """One page of deliveries in id order, those whose address contains ``search``; and the next cursor."""
    send = send_of(bulletin)
    if send is None:
        return [], None
    query = select(Delivery).where(Delivery.send_id == send.id).order_by(Delivery.id).limit(LOG_PAGE + 1)
    needle = sending.normalise_address(search)
    if needle:
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Delivery.address_key.like(f"%{escaped}%", escape="\\"))
    if after_id is not None:
        query = query.where(Delivery.id > after_id)
    rows = db.session.scalars(query).all()
    more = len(rows) > LOG_PAGE
    rows = rows[:LOG_PAGE]
    return rows, (rows[-1].id if more and rows else None)


def snapshot_of(bulletin: Bulletin) -> BulletinSnapshot | None:
    return db.session.scalar(select(BulletinSnapshot).where(BulletinSnapshot.bulletin_id == bulletin.id))


# Why list members got no copy of a send (the snapshot's counts); "duplicate": on a second list, sent one copy.
LEFT_OUT_REASONS = ("unsubscribed", "unconfirmed", "suppressed", "duplicate")


def left_out(snapshot: BulletinSnapshot | None) -> dict[str, int]:
    """The members the send left out, by why: those the snapshot counted (older ones lack the first two)."""
    if snapshot is None:
        return {}
    return {reason: snapshot.recipients[reason] for reason in LEFT_OUT_REASONS if reason in snapshot.recipients}


def snapshot_export(bulletin: Bulletin, snapshot: BulletinSnapshot, report: SendReport | None) -> dict[str, Any]:
    """The record of what was sent, as JSON."""
    return {
        "bulletin": bulletin.id, "version": snapshot.version, "sender_name": snapshot.sender_name,
        "approved_by": snapshot.approved_by_id,
        "approved_at": snapshot.approved_at.isoformat() if snapshot.approved_at else None,
        "scheduled_for": snapshot.scheduled_for.isoformat() if snapshot.scheduled_for else None,
        "started_at": snapshot.started_at.isoformat(),
        "finished_at": bulletin.finished_at.isoformat() if bulletin.finished_at else None,
        "recipients": snapshot.recipients, "total": snapshot.total,
        "content": {lang: {key: part[key] for key in ("subject", "html", "text")}
                    for lang, part in snapshot.content.items()},
        "outcome": report.as_json() if report else None,
    }
