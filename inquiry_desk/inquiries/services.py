"""Operations on the Inquiry aggregate that intake and the inbox share."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, Integer, func, select
from sqlalchemy.orm import selectinload

from inquiry_desk.accounts.models import User
from inquiry_desk.core.clock import team_timezone
from inquiry_desk.core.database import insert_row
from inquiry_desk.core.domain import DomainError
from inquiry_desk.core.extensions import db
from inquiry_desk.directory import services as directory
from inquiry_desk.directory.models import Contact, Organisation
from inquiry_desk.inquiries import links, notifications, recorder
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


class PortalLinkRevoked(PortalLinkExpired):
    """The link was real but the team withdrew it; answered like an expired one (ask for a new one)."""


def active_topics() -> Sequence[Topic]:
    return db.session.scalars(select(Topic).where(Topic.active.is_(True)).order_by(Topic.position, Topic.id)).all()


def topic_by_code(code: str) -> Topic | None:
    return db.session.scalar(select(Topic).where(Topic.code == code, Topic.active.is_(True)))


def format_reference(inquiry_id: int, received_at: datetime) -> str:
    year = received_at.astimezone(team_timezone()).year
    return f"{REFERENCE_PREFIX}-{year}-{inquiry_id:06d}"


def create_inquiry(
    *,
    contact: Contact | None,
    subject: str,
    body: str,
    language: str,
    channel: Channel | str,
    now: datetime,
    topic: Topic | None = None,
    organisation_name: str | None = None,
    organisation_kind: str | None = None,
    trusted_organisation: Organisation | None = None,
    address_confirmed: bool = False,
    email_message_id: str | None = None,
    actor: User | None = None,
    privacy_notice_version: str | None = None,
    reserved_id: int | None = None,
) -> Inquiry:
    """A new inquiry with its first inbound message and its reference number (``received`` in its history).

    ``trusted_organisation`` is the partner whose verified domain the address belongs to. The
    inquiry is a trusted partner's only once the sender proved they hold the address
    (``address_confirmed``, or later ``confirm_address``); see docs/decisions.md.
    ``reserved_id``: an id the caller already took from the inquiries' sequence (PostgreSQL), in a
    statement it sent anyway (``intake.submit_inquiry_once``): the inquiry takes it, not a new one.
    """
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
        organisation=trusted_organisation or (contact.organisation if contact else None),
        trusted_partner=trusted_organisation is not None and trusted_organisation.trusted and address_confirmed,
        privacy_notice_version=privacy_notice_version,
        received_at=now,
        updated_at=now,
    )
    # A stored contact's id is known: written with the message, not by an UPDATE after the flush.
    known_author = contact.id if contact is not None else None
    inquiry.messages.append(
        Message(kind=MessageKind.INBOUND.value, body=body, author_contact_id=known_author, channel=inquiry.channel,
                email_message_id=email_message_id, created_at=now)
    )
    with recorder.change(inquiry, actor=actor, now=now) as change:
        if _id_first(contact, topic):
            # PostgreSQL: the id from the sequence first, so that the row goes out whole when the change
            # ends (reference and due times in its INSERT) instead of an INSERT and two UPDATEs.
            with db.session.no_autoflush:
                inquiry.id = reserved_id if reserved_id is not None else db.session.scalars(
                    select(next_inquiry_id())).one()
            inquiry.topic_id = topic.id if topic is not None else None  # the due times read it before the flush
            db.session.add(inquiry)
            inquiry.reference = format_reference(inquiry.id, now)
        else:
            db.session.add(inquiry)
            db.session.flush()  # the database allocates the id, and so the reference
            inquiry.reference = format_reference(inquiry.id, now)
            if contact is not None and known_author is None:  # a contact added in this flush
                inquiry.messages[0].author_contact_id = contact.id
            db.session.flush()  # inside the change: the recorder refuses a reference written after it
        change.event("received", channel=inquiry.channel, trusted_partner=inquiry.trusted_partner)
    db.session.flush()  # the callers find the inquiry and its message stored, as on SQLite (attachments, links)
    return inquiry


def next_inquiry_id() -> ColumnElement[int]:
    """The next id of the inquiries' sequence, as a SQL expression (PostgreSQL)."""
    return func.nextval(func.pg_get_serial_sequence("inquiries", "id")).cast(Integer)


def _id_first(contact: Contact | None, topic: Topic | None) -> bool:
    """Whether a new inquiry can take its id from the sequence before it is inserted (PostgreSQL, and
    its contact and topic already stored, so that their ids are known)."""
    return (db.session.get_bind().dialect.name == "postgresql"
            and (contact is None or contact.id is not None) and (topic is None or topic.id is not None))


def find_by_reference(reference: str) -> Inquiry | None:
    return db.session.scalar(select(Inquiry).where(Inquiry.reference == reference.strip().upper()))


def public_thread(inquiry: Inquiry) -> list[Message]:
    """What the stakeholder may see: what they wrote and what they were sent; never an internal note.

    A colleague's reply by email is shown: email in lets only the requester and contacts of the
    inquiry's organisation join a thread, and the team's answer to it is in the thread anyway.
    A message written by another contact any other way (moved here by a merge made before merges
    across stakeholders were refused) is never shown.
    """
    colleagues = _colleagues_by_email(inquiry)
    return [message for message in inquiry.messages if message.kind != MessageKind.NOTE.value
            and (message.kind != MessageKind.INBOUND.value or message.author_contact_id in (None, inquiry.contact_id)
                 or (message.inbound_email_id is not None and message.author_contact_id in colleagues))]


def _colleagues_by_email(inquiry: Inquiry) -> set[int]:
    """The other authors by email in this thread who are contacts of the inquiry's organisation."""
    others = {message.author_contact_id for message in inquiry.messages
              if message.inbound_email_id is not None and message.author_contact_id not in (None, inquiry.contact_id)}
    if not others or inquiry.organisation_id is None:
        return set()
    return set(db.session.scalars(select(Contact.id).where(Contact.id.in_(others),
                                                           Contact.organisation_id == inquiry.organisation_id)))


def reopens(inquiry: Inquiry, now: datetime) -> bool:
    """Whether a stakeholder's reply reopens this inquiry, rather than opening a new one linked to it.

    Yes unless it was merged, purged, or closed more than ``REOPEN_WINDOW_DAYS`` days ago
    (counted from its resolution, or its last change when it has none).
    """
    if inquiry.merged_into_id is not None or inquiry.purged_at is not None:
        return False
    if inquiry.status != Status.CLOSED.value:
        return True
    closed_at = inquiry.resolved_at or inquiry.updated_at
    return now - closed_at <= timedelta(days=current_app.config["REOPEN_WINDOW_DAYS"])


def add_stakeholder_message(inquiry: Inquiry, body: str, *, channel: Channel | str, now: datetime,
                            email_message_id: str | None = None, author_contact_id: int | None = None) -> Message:
    """A follow-up from the stakeholder, never buried.

    It reopens an inquiry that waited on them, was resolved, or was closed within
    ``REOPEN_WINDOW_DAYS``; past that (or merged, or purged) it opens a new inquiry linked to
    the old one (``message.inquiry`` tells which). The assignee, or the team, is told once
    (``notifications.stakeholder_replied``). ``author_contact_id``: a contact of the inquiry's
    organisation who wrote it (email in); by default the requester.
    """
    if not reopens(inquiry, now):
        return _follow_up_inquiry(inquiry, body, channel=channel, now=now, email_message_id=email_message_id)
    message = Message(
        kind=MessageKind.INBOUND.value, body=body, author_contact_id=author_contact_id or inquiry.contact_id,
        channel=Channel(channel).value, email_message_id=email_message_id, created_at=now,
    )
    with recorder.change(inquiry, actor=None, now=now) as change:
        inquiry.messages.append(message)
        status_before = inquiry.status
        if inquiry.status in (Status.WAITING.value, Status.RESOLVED.value, Status.CLOSED.value):
            inquiry.status = Status.OPEN.value
            inquiry.resolved_at = None
        db.session.flush()
        change.event("stakeholder_replied", message_id=message.id, channel=message.channel)
        reopened = status_before in (Status.RESOLVED.value, Status.CLOSED.value)
        if reopened:
            change.event("reopened_by_reply", status_before=status_before)
    notifications.stakeholder_replied(inquiry, message, outcome="reopened" if reopened else "open", now=now)
    return message


def _follow_up_inquiry(old: Inquiry, body: str, *, channel: Channel | str, now: datetime,
                       email_message_id: str | None) -> Message:
    """A reply long after closing: a new inquiry of the same stakeholder, linked to the old one."""
    new = create_inquiry(
        contact=old.contact, subject=old.subject, body=body, language=old.language, channel=channel, now=now,
        topic=old.topic, organisation_name=old.organisation_name, organisation_kind=old.organisation_kind,
        trusted_organisation=old.organisation, address_confirmed=old.trusted_partner,
        email_message_id=email_message_id,
    )
    links.link(new, old, actor=None, now=now)
    message = new.messages[0]
    notifications.stakeholder_replied(new, message, outcome="new_inquiry", now=now)
    return message


def confirm_address(inquiry: Inquiry, *, now: datetime) -> bool:
    """The stakeholder opened a private link sent to the inquiry's address: they hold it.

    A partner-domain inquiry then becomes a trusted partner's (and the contact joins the
    organisation, unless already in one). True when this changed anything.
    """
    if (inquiry.organisation is None or inquiry.contact is None or inquiry.trusted_partner
            or inquiry.purged_at is not None):
        return False
    # Only a trusted referral partner's verified domain gives the badge (issue 13): an inquiry
    # linked to another organisation (by hand, or by its domain) stays as it is.
    domain = directory.email_domain(inquiry.contact.email)
    if not inquiry.organisation.trusted or not any(
            entry.verified_at is not None and directory.domain_covers(entry, domain)
            for entry in inquiry.organisation.domains):
        return False
    with recorder.change(inquiry, actor=None, now=now) as change:
        inquiry.trusted_partner = True
        change.event("partner_confirmed", organisation=inquiry.organisation_id)
    if inquiry.contact.organisation_id is None:
        inquiry.contact.organisation_id = inquiry.organisation_id
    return True


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_portal_link(inquiry: Inquiry, *, now: datetime) -> tuple[PortalLink, str]:
    """A new private link; returns the row and the token, which is never stored as such."""
    token = secrets.token_urlsafe(PORTAL_TOKEN_BYTES)
    lifetime = timedelta(days=current_app.config["PORTAL_LINK_DAYS"])
    if inquiry.id is None:
        db.session.flush()
    # One INSERT … RETURNING, not an object and a flush of its own (every public submission makes one).
    link: PortalLink = insert_row(PortalLink, {"inquiry_id": inquiry.id, "token_hash": _hash_token(token),
                                               "created_at": now, "expires_at": now + lifetime, "revoked_at": None})
    return link, token


def open_portal_link(token: str, *, now: datetime) -> Inquiry:
    """The one inquiry this token opens; raises PortalLinkInvalid or PortalLinkExpired."""
    if not token or len(token) > 200:
        raise PortalLinkInvalid()
    link = db.session.scalar(select(PortalLink).where(PortalLink.token_hash == _hash_token(token)))
    if link is None:
        raise PortalLinkInvalid()
    if link.revoked_at is not None:
        raise PortalLinkRevoked()
    if link.expires_at <= now:
        raise PortalLinkExpired()
    return link.inquiry


def revoke_portal_links(inquiry: Inquiry, *, now: datetime) -> int:
    """Withdraw every link of the inquiry that still works; returns how many (staff: triage.withdraw_links)."""
    links = db.session.scalars(
        select(PortalLink).where(PortalLink.inquiry_id == inquiry.id, PortalLink.revoked_at.is_(None),
                                 PortalLink.expires_at > now)
    ).all()
    for link in links:
        link.revoked_at = now
    return len(links)


def live_portal_links(inquiry: Inquiry, *, now: datetime, lasting: timedelta = timedelta(0)) -> int:
    """How many of the inquiry's links work now and still will for ``lasting``."""
    return db.session.scalar(
        select(func.count()).select_from(PortalLink).where(
            PortalLink.inquiry_id == inquiry.id, PortalLink.revoked_at.is_(None),
            PortalLink.expires_at > now + lasting)
    ) or 0


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
    if inquiry.contact_id is None:  # logged without a stakeholder: these are nobody's "other" inquiries
        return []
    query = (
        select(Inquiry)
        .where(Inquiry.contact_id == inquiry.contact_id, Inquiry.id != inquiry.id)
        .order_by(Inquiry.received_at.desc(), Inquiry.id.desc())
        .limit(limit)
    )
    return db.session.scalars(query).all()
