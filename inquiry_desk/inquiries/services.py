"""Operations on the Inquiry aggregate that intake and the inbox share."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from inquiry_desk.accounts.models import User
from inquiry_desk.core.clock import team_timezone
from inquiry_desk.core.domain import DomainError
from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Contact, Organisation
from inquiry_desk.inquiries import recorder
from inquiry_desk.inquiries.models import (
    Channel,
    Inquiry,
    Message,
    MessageKind,
    PortalLink,
    Priority,
    Status,
    Topic,
)

REFERENCE_PREFIX = "INQ"
# 32 random bytes = 256 bits: far beyond guessing (QUALITY.md S4 asks for 128).
PORTAL_TOKEN_BYTES = 32


class PortalLinkInvalid(DomainError):
    """No such link, or it was revoked."""


class PortalLinkExpired(DomainError):
    """The link was real but is too old; the stakeholder can ask for a new one."""


def active_topics() -> Sequence[Topic]:
    return db.session.scalars(select(Topic).where(Topic.active.is_(True)).order_by(Topic.position, Topic.id)).all()


def topic_by_code(code: str) -> Topic | None:
    return db.session.scalar(select(Topic).where(Topic.code == code, Topic.active.is_(True)))


def format_reference(inquiry_id: int, received_at: datetime) -> str:
    year = received_at.astimezone(team_timezone()).year
    return f"{REFERENCE_PREFIX}-{year}-{inquiry_id:06d}"


def create_inquiry(
    *,
    contact: Contact,
    subject: str,
    body: str,
    language: str,
    channel: Channel | str,
    now: datetime,
    topic: Topic | None = None,
    organisation_name: str | None = None,
    organisation_kind: str | None = None,
    trusted_organisation: Organisation | None = None,
    email_message_id: str | None = None,
    actor: User | None = None,
) -> Inquiry:
    """A new inquiry with its first inbound message and its reference number (``received`` in its history)."""
    inquiry = Inquiry(
        subject=subject,
        topic=topic,
        status=Status.NEW.value,
        priority=Priority.NORMAL.value,
        priority_rank=Priority.NORMAL.rank,
        language=language,
        channel=Channel(channel).value,
        contact=contact,
        organisation_name=organisation_name,
        organisation_kind=organisation_kind,
        organisation=trusted_organisation or contact.organisation,
        trusted_partner=trusted_organisation is not None,
        received_at=now,
        updated_at=now,
    )
    inquiry.messages.append(
        Message(kind=MessageKind.INBOUND.value, body=body, author_contact_id=None, channel=inquiry.channel,
                email_message_id=email_message_id, created_at=now)
    )
    with recorder.change(inquiry, actor=actor, now=now) as change:
        db.session.add(inquiry)
        db.session.flush()  # the database allocates the id, and so the reference
        inquiry.reference = format_reference(inquiry.id, now)
        inquiry.messages[0].author_contact_id = contact.id
        change.event("received", channel=inquiry.channel, trusted_partner=inquiry.trusted_partner)
    return inquiry


def find_by_reference(reference: str) -> Inquiry | None:
    return db.session.scalar(select(Inquiry).where(Inquiry.reference == reference.strip().upper()))


def public_thread(inquiry: Inquiry) -> list[Message]:
    """What the stakeholder may see: everything but internal notes."""
    return [message for message in inquiry.messages if message.kind != MessageKind.NOTE.value]


def add_stakeholder_message(inquiry: Inquiry, body: str, *, channel: Channel | str, now: datetime,
                            email_message_id: str | None = None) -> Message:
    """A follow-up from the stakeholder; it reopens an inquiry that waited on them or was resolved."""
    message = Message(
        kind=MessageKind.INBOUND.value, body=body, author_contact_id=inquiry.contact_id,
        channel=Channel(channel).value, email_message_id=email_message_id, created_at=now,
    )
    with recorder.change(inquiry, actor=None, now=now) as change:
        inquiry.messages.append(message)
        if inquiry.status in (Status.WAITING.value, Status.RESOLVED.value):
            inquiry.status = Status.OPEN.value
            inquiry.resolved_at = None
        db.session.flush()
        change.event("stakeholder_replied", message_id=message.id, channel=message.channel)
    return message


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_portal_link(inquiry: Inquiry, *, now: datetime) -> tuple[PortalLink, str]:
    """A new private link; returns the row and the token, which is never stored as such."""
    token = secrets.token_urlsafe(PORTAL_TOKEN_BYTES)
    lifetime = timedelta(days=current_app.config["PORTAL_LINK_DAYS"])
    link = PortalLink(inquiry=inquiry, token_hash=_hash_token(token), created_at=now, expires_at=now + lifetime)
    db.session.add(link)
    db.session.flush()
    return link, token


def open_portal_link(token: str, *, now: datetime) -> Inquiry:
    """The one inquiry this token opens; raises PortalLinkInvalid or PortalLinkExpired."""
    if not token or len(token) > 200:
        raise PortalLinkInvalid()
    link = db.session.scalar(select(PortalLink).where(PortalLink.token_hash == _hash_token(token)))
    if link is None or link.revoked_at is not None:
        raise PortalLinkInvalid()
    if link.expires_at <= now:
        raise PortalLinkExpired()
    return link.inquiry


def revoke_portal_links(inquiry: Inquiry, *, now: datetime) -> int:
    links = db.session.scalars(
        select(PortalLink).where(PortalLink.inquiry_id == inquiry.id, PortalLink.revoked_at.is_(None))
    ).all()
    for link in links:
        link.revoked_at = now
    return len(links)


def newest_inquiries(limit: int = 50) -> Sequence[Inquiry]:
    query = (
        select(Inquiry)
        .options(selectinload(Inquiry.contact), selectinload(Inquiry.organisation))
        .order_by(Inquiry.received_at.desc(), Inquiry.id.desc())
        .limit(limit)
    )
    return db.session.scalars(query).all()


def other_inquiries_of(inquiry: Inquiry, *, limit: int = 10) -> Sequence[Inquiry]:
    """The stakeholder's other inquiries, newest first (shown beside the thread)."""
    query = (
        select(Inquiry)
        .where(Inquiry.contact_id == inquiry.contact_id, Inquiry.id != inquiry.id)
        .order_by(Inquiry.received_at.desc(), Inquiry.id.desc())
        .limit(limit)
    )
    return db.session.scalars(query).all()
