"""Mailing lists and subscriptions: sign-up with double opt-in, preferences, unsubscribe, staff changes.

The contract, for every function here: the caller commits (a view, a job, a
command), email goes through the outbox (``queue_email``) and leaves after the
commit, and every change of consent writes a ``ConsentRecord``:

- a public sign-up writes nothing but *pending* subscriptions for lists the
  address is not on yet, and queues one confirmation email (one per address,
  lists and language per hour: a repeated request adds nothing). Nothing is
  sent to a pending subscription; ``confirm`` makes it subscribed and records
  the consent with the exact text shown and the address it came from.
- the answer to a sign-up is the same whether or not the address is known,
  subscribed or suppressed: only the email differs (a suppressed address for a
  bounce, a complaint or a lead's decision gets none).
- unsubscribing (one-click, the page, the preference page, staff) keeps the
  subscription and its consent records and adds the withdrawal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from inquiry_desk.audit import services as audit
from inquiry_desk.core.database import insert_unless_exists
from inquiry_desk.core.domain import InvalidInput, NotAllowed, NotFound
from inquiry_desk.core.extensions import db
from inquiry_desk.core.i18n import LANGUAGES
from inquiry_desk.core.text import parse_email_key, parse_line
from inquiry_desk.core.urls import external_url
from inquiry_desk.directory.models import Contact
from inquiry_desk.mail.rendering import render_email
from inquiry_desk.mail.services import queue_email
from inquiry_desk.mailing import suppression, tokens
from inquiry_desk.mailing.consent import CURRENT_VERSION, consent_text
from inquiry_desk.mailing.models import (
    ConsentMethod,
    ConsentRecord,
    MailingList,
    Subscription,
    SubscriptionStatus,
    SuppressionReason,
)


class Actor(Protocol):
    id: int


class NoListChosen(InvalidInput):
    code = "no_list_chosen"
    default_message = _l("Choose at least one mailing list.")


class ConsentSourceRequired(InvalidInput):
    code = "consent_source_required"
    default_message = _l("Say how this person asked to be on the list.")


class ListNotOpen(NotAllowed):
    code = "list_not_open"
    default_message = _l("This mailing list does not take new subscribers.")


# --- lists -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ListFields:
    name_en: str
    name_fr: str
    description_en: str = ""
    description_fr: str = ""
    public: bool = False
    organisation_kinds: tuple[str, ...] = ()


def save_list(mailing_list: MailingList | None, fields: ListFields, *, actor: Actor | None,
              now: datetime) -> MailingList:
    """Create a list (``None``) or change one; both names are required."""
    name_en = parse_line(fields.name_en, max_length=200)
    name_fr = parse_line(fields.name_fr, max_length=200)
    if mailing_list is None:
        mailing_list = MailingList(created_at=now)
        db.session.add(mailing_list)
    mailing_list.name_en, mailing_list.name_fr = name_en, name_fr
    mailing_list.description_en, mailing_list.description_fr = fields.description_en, fields.description_fr
    mailing_list.public = fields.public
    mailing_list.organisation_kinds = list(fields.organisation_kinds)
    db.session.flush()
    audit.record("mailing_list.saved", actor=actor, subject_type="mailing_list", subject_id=mailing_list.id,
                 details={"public": fields.public}, now=now)
    return mailing_list


def set_archived(mailing_list: MailingList, archived: bool, *, actor: Actor | None, now: datetime) -> None:
    mailing_list.archived_at = now if archived else None
    audit.record("mailing_list.archived" if archived else "mailing_list.restored", actor=actor,
                 subject_type="mailing_list", subject_id=mailing_list.id, now=now)


def get_list(list_id: int) -> MailingList:
    mailing_list = db.session.get(MailingList, list_id)
    if mailing_list is None:
        raise NotFound()
    return mailing_list


def all_lists(*, include_archived: bool = True) -> Sequence[MailingList]:
    query = select(MailingList).order_by(MailingList.archived_at.is_not(None), MailingList.name_en)
    if not include_archived:
        query = query.where(MailingList.archived_at.is_(None))
    return db.session.scalars(query).all()


def public_lists() -> Sequence[MailingList]:
    return db.session.scalars(
        select(MailingList).where(MailingList.public.is_(True), MailingList.archived_at.is_(None))
        .order_by(MailingList.name_en)
    ).all()


# --- helpers ---------------------------------------------------------------------------------

def _consent(subscription: Subscription, *, given: bool, method: ConsentMethod, now: datetime,
             actor: Actor | None = None, language: str | None = None, version: str | None = None,
             ip_address: str | None = None, note: str | None = None) -> ConsentRecord:
    language = language or subscription.language
    record = ConsentRecord(
        given=given, method=method.value, at=now, actor_id=actor.id if actor else None, language=language,
        consent_version=version if given else None,
        consent_text=consent_text(language, version) if given and version else None,
        ip_address=ip_address, note=note,
    )
    subscription.consents.append(record)
    return record


def _contact_for(email: str, *, name: str | None, language: str, now: datetime) -> Contact:
    """The contact with this address, created if new; an existing contact's details are left alone."""
    contact = db.session.scalar(select(Contact).where(Contact.email == email))
    if contact is None:
        insert_unless_exists(Contact, {"email": email, "name": name or email.split("@", 1)[0],
                                       "language": language, "created_at": now}, ["email"])
        contact = db.session.scalars(select(Contact).where(Contact.email == email)).one()
    return contact


def _subscription(list_id: int, contact_id: int, *, language: str, now: datetime) -> Subscription:
    """The subscription of this contact to this list, created *pending* if there is none (race-safe)."""
    query = select(Subscription).where(Subscription.list_id == list_id, Subscription.contact_id == contact_id)
    found = db.session.scalar(query)
    if found is not None:
        return found
    insert_unless_exists(Subscription, {"list_id": list_id, "contact_id": contact_id, "language": language,
                                        "status": SubscriptionStatus.PENDING.value, "created_at": now,
                                        "updated_at": now}, ["list_id", "contact_id"])
    return db.session.scalars(query).one()


def _subscribe(subscription: Subscription, *, method: ConsentMethod, language: str, now: datetime,
               actor: Actor | None = None, version: str | None = CURRENT_VERSION, ip_address: str | None = None,
               note: str | None = None) -> None:
    subscription.status = SubscriptionStatus.SUBSCRIBED.value
    subscription.language = language
    subscription.updated_at = now
    _consent(subscription, given=True, method=method, now=now, actor=actor, language=language, version=version,
             ip_address=ip_address, note=note)


def _unsubscribe(subscription: Subscription, *, method: ConsentMethod, now: datetime, actor: Actor | None = None,
                 note: str | None = None) -> bool:
    if subscription.status != SubscriptionStatus.SUBSCRIBED.value:
        return False
    subscription.status = SubscriptionStatus.UNSUBSCRIBED.value
    subscription.updated_at = now
    _consent(subscription, given=False, method=method, now=now, actor=actor, note=note)
    return True


def _language(value: str) -> str:
    if value not in LANGUAGES:
        raise InvalidInput()
    return value


# --- public sign-up and double opt-in --------------------------------------------------------

def request_subscription(email: str, list_ids: Iterable[int], *, language: str, name: str | None = None,
                         ip_address: str | None = None, now: datetime) -> None:
    """A sign-up from the public form: pending subscriptions and one confirmation email, nothing more."""
    email = parse_email_key(email)
    language = _language(language)
    open_ids = {ml.id for ml in public_lists()}
    chosen = sorted({int(list_id) for list_id in list_ids} & open_ids)
    if not chosen:
        raise NoListChosen()
    blocking = suppression.blocking_reason(email)
    if blocking is not None and blocking != SuppressionReason.UNSUBSCRIBED.value:
        return  # a bounce, a complaint or a lead's decision: no email, and the page says the same
    contact = _contact_for(email, name=name, language=language, now=now)
    for list_id in chosen:
        _subscription(list_id, contact.id, language=language, now=now)
    token = tokens.sign(tokens.CONFIRM, {"c": contact.id, "l": chosen, "g": language, "v": CURRENT_VERSION,
                                         "t": int(now.timestamp()), "ip": ip_address})
    hours = current_app.config["MAILING_CONFIRM_HOURS"]
    lists = [get_list(list_id).name(language) for list_id in chosen]
    rendered = render_email("mailing_confirmation", language, lists=lists, hours=hours,
                            confirm_url=external_url("mailing.confirm", lang_code=language, token=token))
    hour = now.strftime("%Y%m%d%H")
    queue_email(cause_key=f"mailing.confirm:{contact.id}:{','.join(map(str, chosen))}:{language}:{hour}",
                to=email, rendered=rendered, language=language, now=now, automatic=True)


@dataclass(frozen=True)
class Confirmation:
    contact: Contact
    subscriptions: list[Subscription]
    language: str


def read_confirmation(token: str, *, now: datetime) -> dict[str, object]:
    """The confirmation token's payload, or LinkInvalid / LinkExpired."""
    payload = tokens.read(tokens.CONFIRM, token)
    try:
        issued = int(payload["t"])
        int(payload["c"])
        [int(list_id) for list_id in payload["l"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise tokens.LinkInvalid() from exc
    if now.timestamp() - issued > current_app.config["MAILING_CONFIRM_HOURS"] * 3600:
        raise tokens.LinkExpired()
    return payload


def confirm(token: str, *, now: datetime) -> Confirmation:
    """Follow a confirmation link: each list in it subscribed, with its consent record. Idempotent."""
    payload = read_confirmation(token, now=now)
    contact = db.session.get(Contact, int(payload["c"]))  # type: ignore[call-overload]
    if contact is None:
        raise tokens.LinkInvalid()
    language = str(payload.get("g", "en"))
    language = language if language in LANGUAGES else "en"
    version = str(payload.get("v", CURRENT_VERSION))
    ip_address = payload.get("ip")
    done = []
    for list_id in payload["l"]:  # type: ignore[attr-defined]
        mailing_list = db.session.get(MailingList, int(list_id))
        if mailing_list is None or not mailing_list.active:
            continue
        subscription = _subscription(mailing_list.id, contact.id, language=language, now=now)
        if subscription.status != SubscriptionStatus.SUBSCRIBED.value:
            _subscribe(subscription, method=ConsentMethod.PUBLIC_FORM, language=language, now=now,
                       version=version, ip_address=str(ip_address) if ip_address else None)
        done.append(subscription)
    suppression.lift_unsubscribed(contact.email, reason="subscribed again (confirmed)", now=now)
    return Confirmation(contact=contact, subscriptions=done, language=language)


# --- links in every bulletin -----------------------------------------------------------------

def preferences_token(contact: Contact) -> str:
    return tokens.sign(tokens.PREFERENCES, {"c": contact.id})


def unsubscribe_token(subscription: Subscription) -> str:
    return unsubscribe_token_for(subscription.id)


def unsubscribe_token_for(subscription_id: int) -> str:
    """The same token from the id alone (the send engine's link maker builds one per message)."""
    return tokens.sign(tokens.UNSUBSCRIBE, {"s": subscription_id})


def contact_from_preferences_token(token: str) -> Contact:
    payload = tokens.read(tokens.PREFERENCES, token)
    contact_id = payload.get("c")
    contact = db.session.get(Contact, contact_id) if isinstance(contact_id, int) else None
    if contact is None:
        raise tokens.LinkInvalid()
    return contact


def subscription_from_unsubscribe_token(token: str) -> Subscription:
    payload = tokens.read(tokens.UNSUBSCRIBE, token)
    subscription_id = payload.get("s")
    subscription = db.session.get(Subscription, subscription_id) if isinstance(subscription_id, int) else None
    if subscription is None:
        raise tokens.LinkInvalid()
    return subscription


def subscriptions_of(contact: Contact) -> Sequence[Subscription]:
    return db.session.scalars(
        select(Subscription).join(MailingList).where(Subscription.contact_id == contact.id)
        .order_by(MailingList.name_en)
    ).all()


def one_click_unsubscribe(subscription: Subscription, *, method: ConsentMethod = ConsentMethod.ONE_CLICK,
                          now: datetime) -> bool:
    """Unsubscribe this one subscription at once; False when it was not subscribed (a repeat is harmless)."""
    return _unsubscribe(subscription, method=method, now=now)


def undo_unsubscribe(subscription: Subscription, *, now: datetime) -> bool:
    """Subscribe again right after unsubscribing, under the consent given last (its version and language)."""
    if subscription.status != SubscriptionStatus.UNSUBSCRIBED.value:
        return False
    given = [record for record in subscription.consents if record.given]
    version = given[-1].consent_version if given else CURRENT_VERSION
    _subscribe(subscription, method=ConsentMethod.UNDO, language=subscription.language, now=now,
               version=version or CURRENT_VERSION)
    suppression.lift_unsubscribed(subscription.contact.email, reason="undid an unsubscribe", now=now)
    return True


def update_preferences(contact: Contact, *, language: str, list_ids: Iterable[int], ip_address: str | None,
                       now: datetime) -> None:
    """The preference page: the language of every subscription, and which lists (public or already joined)."""
    language = _language(language)
    wanted = {int(list_id) for list_id in list_ids}
    current = {subscription.list_id: subscription for subscription in subscriptions_of(contact)}
    open_ids = {ml.id for ml in public_lists()}
    for list_id in wanted - set(current):
        if list_id not in open_ids:
            raise ListNotOpen()
    for list_id, subscription in current.items():
        if list_id not in wanted:
            _unsubscribe(subscription, method=ConsentMethod.PREFERENCES, now=now)
        elif subscription.status in (SubscriptionStatus.SUBSCRIBED.value, SubscriptionStatus.PENDING.value,
                                     SubscriptionStatus.UNSUBSCRIBED.value):
            if subscription.status == SubscriptionStatus.SUBSCRIBED.value:
                subscription.language = language
                subscription.updated_at = now
            else:
                _subscribe(subscription, method=ConsentMethod.PREFERENCES, language=language, now=now,
                           ip_address=ip_address)
    for list_id in sorted(wanted - set(current)):
        subscription = _subscription(list_id, contact.id, language=language, now=now)
        _subscribe(subscription, method=ConsentMethod.PREFERENCES, language=language, now=now,
                   ip_address=ip_address)
    if wanted:
        suppression.lift_unsubscribed(contact.email, reason="chose lists on the preference page", now=now)


def unsubscribe_from_all(contact: Contact, *, now: datetime) -> int:
    """Every subscription withdrawn, and the address suppressed (reason: unsubscribed)."""
    count = 0
    for subscription in subscriptions_of(contact):
        count += _unsubscribe(subscription, method=ConsentMethod.PREFERENCES, now=now)
    suppression.suppress(contact.email, SuppressionReason.UNSUBSCRIBED, source="preference page", actor=None,
                         now=now)
    return count


# --- staff -----------------------------------------------------------------------------------

def add_member(mailing_list: MailingList, email: str, *, name: str | None, language: str, consent_source: str,
               actor: Actor | None, now: datetime) -> Subscription:
    """A lead adds someone who asked (by phone, in a meeting…): ``consent_source`` says how."""
    email = parse_email_key(email)
    language = _language(language)
    note = parse_line(consent_source, max_length=500, required=False)
    if not note:
        raise ConsentSourceRequired()
    if suppression.is_suppressed(email):
        raise suppression.AddressSuppressed()
    contact = _contact_for(email, name=name, language=language, now=now)
    subscription = _subscription(mailing_list.id, contact.id, language=language, now=now)
    if subscription.status != SubscriptionStatus.SUBSCRIBED.value:
        _subscribe(subscription, method=ConsentMethod.STAFF, language=language, now=now, actor=actor, note=note,
                   version=None)
    return subscription


def remove_member(subscription: Subscription, *, consent_source: str, actor: Actor | None, now: datetime) -> None:
    note = parse_line(consent_source, max_length=500, required=False)
    if not note:
        raise ConsentSourceRequired()
    _unsubscribe(subscription, method=ConsentMethod.STAFF, now=now, actor=actor, note=note)


def get_subscription(subscription_id: int) -> Subscription:
    subscription = db.session.get(Subscription, subscription_id)
    if subscription is None:
        raise NotFound()
    return subscription
