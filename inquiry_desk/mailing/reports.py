"""What leads read about their lists: counts by status and language, growth, members, the export.

Members are paged by keyset on the subscription id (newest first), never OFFSET;
counts are one GROUP BY per page of lists, on the (list, status, id) index.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select

from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Contact, Organisation
from inquiry_desk.mailing.models import ConsentRecord, MailingList, Subscription, SubscriptionStatus

PAGE_SIZE = 50
MembersQuery = Select[int, str, str, str, str, str, datetime]


@dataclass
class ListCounts:
    by_status: dict[str, int] = field(default_factory=dict)
    by_language: dict[str, int] = field(default_factory=dict)  # subscribed only

    @property
    def subscribed(self) -> int:
        return self.by_status.get(SubscriptionStatus.SUBSCRIBED.value, 0)


def counts(list_ids: Sequence[int]) -> dict[int, ListCounts]:
    result: dict[int, ListCounts] = defaultdict(ListCounts)
    if not list_ids:
        return result
    rows = db.session.execute(
        select(Subscription.list_id, Subscription.status, Subscription.language, func.count())
        .where(Subscription.list_id.in_(list_ids))
        .group_by(Subscription.list_id, Subscription.status, Subscription.language)
    )
    for list_id, status, language, number in rows:
        entry = result[list_id]
        entry.by_status[status] = entry.by_status.get(status, 0) + number
        if status == SubscriptionStatus.SUBSCRIBED.value:
            entry.by_language[language] = entry.by_language.get(language, 0) + number
    return result


@dataclass(frozen=True)
class GrowthMonth:
    month: str  # "2026-11"
    joined: int
    left: int
    total: int  # subscribed at the end of the month, by the consent records


def _month(column: Any) -> Any:
    """The UTC month of a timestamp as "YYYY-MM", in SQL (SQLite stores UTC text, PostgreSQL timestamptz)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def growth(mailing_list: MailingList) -> list[GrowthMonth]:
    """Month by month (UTC): consents given, withdrawn, and the running total, from the records kept.

    One GROUP BY in the database; the rows that come back are one per month and kind.
    """
    month = _month(ConsentRecord.at).label("month")
    rows = db.session.execute(
        select(month, ConsentRecord.given, func.count())
        .join(Subscription, Subscription.id == ConsentRecord.subscription_id)
        .where(Subscription.list_id == mailing_list.id)
        .group_by(month, ConsentRecord.given)
    )
    months: dict[str, list[int]] = {}
    for key, given, number in rows:
        months.setdefault(str(key), [0, 0])[0 if given else 1] += number
    total = 0
    out = []
    for key in sorted(months):
        joined, left = months[key]
        total += joined - left
        out.append(GrowthMonth(key, joined, left, total))
    return out


@dataclass(frozen=True)
class MemberFilter:
    status: str = ""
    search: str = ""
    organisation_kind: str = ""
    organisation: str = ""


@dataclass(frozen=True)
class MemberRow:
    subscription_id: int
    email: str
    name: str
    organisation: str | None
    status: str
    language: str
    updated_at: datetime


def _members_query(mailing_list: MailingList, filters: MemberFilter) -> MembersQuery:
    query = (
        select(Subscription.id, Contact.email, Contact.name,
               func.coalesce(Organisation.name, Contact.organisation_name), Subscription.status,
               Subscription.language, Subscription.updated_at)
        .join(Contact, Contact.id == Subscription.contact_id)
        .outerjoin(Organisation, Organisation.id == Contact.organisation_id)
        .where(Subscription.list_id == mailing_list.id)
    )
    if filters.status:
        query = query.where(Subscription.status == filters.status)
    if filters.organisation_kind:
        query = query.where(Organisation.kind == filters.organisation_kind)
    if filters.organisation:
        like = f"%{filters.organisation.lower()}%"
        query = query.where(or_(func.lower(Organisation.name).like(like),
                                func.lower(Contact.organisation_name).like(like)))
    if filters.search:
        like = f"{filters.search.strip().lower()}%"
        query = query.where(or_(Contact.email.like(like), func.lower(Contact.name).like(like)))
    return query


def members(mailing_list: MailingList, filters: MemberFilter, *, before_id: int | None = None,
            limit: int = PAGE_SIZE) -> tuple[list[MemberRow], int | None]:
    """One page of members, newest first, and the cursor of the next page (None at the end)."""
    query = _members_query(mailing_list, filters)
    if before_id is not None:
        query = query.where(Subscription.id < before_id)
    rows = db.session.execute(query.order_by(Subscription.id.desc()).limit(limit + 1)).all()
    page = [MemberRow(*row) for row in rows[:limit]]
    return page, (page[-1].subscription_id if len(rows) > limit else None)


def export_rows(mailing_list: MailingList, filters: MemberFilter) -> Iterator[MemberRow]:
    """Every member, streamed in batches (a session of the caller's choosing must stay open)."""
    result = db.session.execute(
        _members_query(mailing_list, filters).order_by(Subscription.id).execution_options(yield_per=2000)
    )
    for row in result:
        yield MemberRow(*row)


def consent_history(contact: Contact) -> list[tuple[Subscription, list[ConsentRecord]]]:
    """A contact's subscriptions, each with its consent records (for the staff contact view)."""
    subscriptions = db.session.scalars(
        select(Subscription).where(Subscription.contact_id == contact.id).order_by(Subscription.id)
    ).all()
    return [(subscription, list(subscription.consents)) for subscription in subscriptions]


# --- a contact's or an organisation's subscriptions (the directory's pages) -----------------

SUBSCRIPTIONS_SHOWN = 100


@dataclass(frozen=True, slots=True)
class SubscriptionRow:
    id: int
    list_id: int
    list_name_en: str
    list_name_fr: str
    list_public: bool
    list_archived: bool
    contact_id: int
    contact_name: str
    status: str
    language: str
    since: datetime


@dataclass(frozen=True, slots=True)
class ConsentRow:
    subscription_id: int
    given: bool
    method: str
    at: datetime
    consent_version: str | None
    language: str
    note: str | None


def subscriptions_for(*, contact_id: int | None = None, organisation_id: int | None = None,
                      limit: int = SUBSCRIPTIONS_SHOWN) -> tuple[list[SubscriptionRow], bool]:
    """The subscriptions of a contact, or of an organisation's contacts, by list and name: (rows, more).

    One query; at most ``limit`` rows (an organisation may have many contacts on many lists).
    """
    query = (select(Subscription.id, MailingList.id, MailingList.name_en, MailingList.name_fr, MailingList.public,
                    MailingList.archived_at.is_not(None), Contact.id, Contact.name, Subscription.status,
                    Subscription.language, Subscription.updated_at)
             .join(MailingList, MailingList.id == Subscription.list_id)
             .join(Contact, Contact.id == Subscription.contact_id))
    if contact_id is not None:
        query = query.where(Subscription.contact_id == contact_id)
    else:
        query = query.where(Contact.organisation_id == organisation_id, Contact.merged_into_id.is_(None))
    rows = db.session.execute(query.order_by(MailingList.name_en, MailingList.id, Contact.name, Contact.id)
                              .limit(limit + 1)).all()
    return [SubscriptionRow(*row[:5], bool(row[5]), *row[6:]) for row in rows[:limit]], len(rows) > limit


def consents_of(subscription_ids: Sequence[int]) -> dict[int, list[ConsentRow]]:
    """The consent records of these subscriptions, oldest first (one query)."""
    if not subscription_ids:
        return {}
    found: dict[int, list[ConsentRow]] = defaultdict(list)
    for row in db.session.execute(
            select(ConsentRecord.subscription_id, ConsentRecord.given, ConsentRecord.method, ConsentRecord.at,
                   ConsentRecord.consent_version, ConsentRecord.language, ConsentRecord.note)
            .where(ConsentRecord.subscription_id.in_(subscription_ids))
            .order_by(ConsentRecord.at, ConsentRecord.id)):
        found[row.subscription_id].append(ConsentRow(*row))
    return dict(found)
