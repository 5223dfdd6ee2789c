"""Helpers for the mailing tests: lists, the confirmation link from the outbox, consent records."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Contact
from inquiry_desk.mail.models import OutgoingEmail
from inquiry_desk.mailing import services
from inquiry_desk.mailing.models import ConsentRecord, MailingList, Subscription

T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def make_list(name: str = "Sponsorship news", *, public: bool = True, kinds: tuple[str, ...] = ()) -> MailingList:
    fields = services.ListFields(name_en=name, name_fr=f"{name} (fr)", description_en="About " + name,
                                 description_fr="À propos de " + name, public=public, organisation_kinds=kinds)
    mailing_list = services.save_list(None, fields, actor=None, now=T0)
    db.session.commit()
    return mailing_list


def confirmation_emails(to: str) -> list[OutgoingEmail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.to_address == to,
                                                               OutgoingEmail.cause_key.like("mailing.confirm:%"))
                                   .order_by(OutgoingEmail.id)))


def confirm_path(email: OutgoingEmail) -> str:
    match = re.search(r"https?://[^/\s]+(/\S+/confirm(?:er)?/\S+)", email.body_text)
    assert match, email.body_text
    return match.group(1)


def subscriptions_for(address: str) -> list[Subscription]:
    db.session.expire_all()
    return list(db.session.scalars(select(Subscription).join(Contact).where(Contact.email == address)
                                   .order_by(Subscription.list_id)))


def consents(subscription: Subscription) -> list[ConsentRecord]:
    db.session.expire_all()
    return list(db.session.scalars(select(ConsentRecord).where(ConsentRecord.subscription_id == subscription.id)
                                   .order_by(ConsentRecord.id)))
