"""What the send engine (issue 15) needs of the mailing lists: who to send to, the unsubscribe
headers of each bulletin, and what a bounce or a complaint changes.

The send engine sits in ``mail`` (below every capability) and never imports this module;
the bulletins capability, one layer above, hands these to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from flask import current_app
from sqlalchemy import ColumnElement, case, func, or_, select

from inquiry_desk.core.domain import DomainError
from inquiry_desk.core.extensions import db
from inquiry_desk.core.urls import external_url
from inquiry_desk.directory.models import Contact
from inquiry_desk.mail.models import MailSuppression
from inquiry_desk.mailing import suppression
from inquiry_desk.mailing.models import (
    MailingList,
    Subscription,
    SubscriptionStatus,
    SuppressionEntry,
    SuppressionReason,
)
from inquiry_desk.mailing.services import subscriptions_of, unsubscribe_token


def list_unsubscribe_headers(subscription: Subscription) -> dict[str, str]:
    """The RFC 2369 and RFC 8058 headers the send engine adds to every bulletin to this subscription."""
    token = unsubscribe_token(subscription)
    links = [f"<{external_url('mailing.one_click', token=token)}>"]
    mailbox = current_app.config["MAILING_UNSUBSCRIBE_MAILTO"] or current_app.config["ORG_CONTACT_EMAIL"]
    if mailbox:
        links.append(f"<mailto:{mailbox}?subject={quote('unsubscribe ' + token)}>")
    return {"List-Unsubscribe": ", ".join(links), "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def _blocked() -> ColumnElement[bool]:
    """The member's address is on either suppression set (this register's, or the send engine's)."""
    suppressed = select(SuppressionEntry.id).where(SuppressionEntry.address == Contact.email,
                                                   SuppressionEntry.lifted_at.is_(None))
    left_out_by_engine = select(MailSuppression.address_key).where(MailSuppression.address_key == Contact.email)
    return or_(suppressed.exists(), left_out_by_engine.exists())


def deliverable(mailing_list: MailingList, *, batch: int = 2000) -> Iterator[tuple[Subscription, Contact]]:
    """The list's subscribed members whose address is not suppressed, streamed in id order."""
    query = (
        select(Subscription, Contact).join(Contact, Contact.id == Subscription.contact_id)
        .where(Subscription.list_id == mailing_list.id, Subscription.status == SubscriptionStatus.SUBSCRIBED.value,
               ~_blocked())
        .order_by(Subscription.id).execution_options(yield_per=batch)
    )
    yield from ((row[0], row[1]) for row in db.session.execute(query))


@dataclass(frozen=True)
class LeftOut:
    """The list's members ``deliverable`` leaves out, each counted once, by the first reason that holds."""

    unsubscribed: int = 0
    unconfirmed: int = 0  # double opt-in not confirmed (still pending)
    suppressed: int = 0  # a suppressed address, or marked bounced or complained


def left_out(mailing_list: MailingList) -> LeftOut:
    """Why the members that ``deliverable`` does not yield are left out, counted in one query."""
    status = Subscription.status
    reason = case((status == SubscriptionStatus.UNSUBSCRIBED.value, "unsubscribed"),
                  (status == SubscriptionStatus.PENDING.value, "unconfirmed"),
                  (or_(status != SubscriptionStatus.SUBSCRIBED.value, _blocked()), "suppressed"),
                  else_=None).label("reason")
    members = (select(reason).select_from(Subscription).join(Contact, Contact.id == Subscription.contact_id)
               .where(Subscription.list_id == mailing_list.id).subquery())
    rows = db.session.execute(select(members.c.reason, func.count()).where(members.c.reason.is_not(None))
                              .group_by(members.c.reason))
    return LeftOut(**{reason: count for reason, count in rows})


def record_bounce(address: str, *, complaint: bool = False, source: str, now: datetime) -> int:
    """A hard bounce or a complaint: the address suppressed, and each of its subscriptions marked.

    The consent records are kept; the status says why nothing more is sent.
    """
    status = SubscriptionStatus.COMPLAINED if complaint else SubscriptionStatus.BOUNCED
    reason = SuppressionReason.COMPLAINT if complaint else SuppressionReason.HARD_BOUNCE
    entry = suppression.active_for(address)
    if entry is not None and entry.reason == SuppressionReason.UNSUBSCRIBED.value:
        suppression.lift(entry, reason=f"superseded by a {reason.value}", actor=None, now=now)
    suppression.suppress(address, reason, source=source, actor=None, now=now)
    contact = db.session.scalar(select(Contact).where(Contact.email == suppression.normalise(address)))
    if contact is None:
        return 0
    marked = 0
    for subscription in subscriptions_of(contact):
        if subscription.status in (SubscriptionStatus.SUBSCRIBED.value, SubscriptionStatus.PENDING.value):
            subscription.status = status.value
            subscription.updated_at = now
            marked += 1
    return marked


def bounce_reported(sender: object, *, address: str, message_id: str | None, now: datetime) -> None:
    """A bounce report by email (mail.signals.bounce_reported): the register and the subscriptions follow."""
    try:
        record_bounce(address, source="bounce report", now=now)
    except DomainError:  # an address the register cannot hold: the engine's suppression stands alone
        return
