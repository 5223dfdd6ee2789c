"""The dashboard's figures for a period and filters, each against the period before.

Every figure is one SQL aggregation over indexed columns (``received_at``, ``first_response_at``,
``resolved_at``, ``due_at``, ``assignee_id``), bucketed by local day or week with a ``CASE`` on
the bucket bounds computed in the team's time zone, so that both databases agree and a period
that crosses a daylight-saving change keeps its days. Times to first response and to resolution
are in business hours of the team calendar (``inquiries.targets``), computed for the inquiries
answered or resolved in the period only.

Need-to-know (docs/decisions.md, "Dashboard and need-to-know"): every count includes restricted
inquiries (their status, priority, dates and assignee are metadata anyone may see), but a
breakdown by content (channel, topic, organisation kind, organisation, language) puts a
restricted inquiry the reader may not read in one ``RESTRICTED`` group, a filter on content
never matches it, and the top organisations leave it out.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, and_, case, exists, func, literal, or_, select

from inquiry_desk.accounts.models import User
from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Organisation
from inquiry_desk.inquiries.access import Reader
from inquiry_desk.inquiries.models import OPEN_STATUSES, Inquiry
from inquiry_desk.inquiries.targets import working_calendar
from inquiry_desk.inquiries.targets.business_hours import BusinessMinutes
from inquiry_desk.mail.models import Delivery, DeliveryStatus, MailSend, MailSuppression
from inquiry_desk.mailing.models import ConsentRecord, Subscription, SubscriptionStatus
from inquiry_desk.reports.periods import Bucket, Period

RESTRICTED = "restricted"  # the group of restricted inquiries the reader may not read
RESTRICTED_TOPIC = -1
TOP_ORGANISATIONS = 10
DIMENSIONS = ("channel", "topic", "organisation_kind", "language")


@dataclass(frozen=True)
class Filters:
    topic_id: int | None = None
    organisation_kind: str | None = None
    trusted: bool = False  # trusted partners only
    language: str | None = None
    assignee_id: int | None = None

    @property
    def uses_content(self) -> bool:
        return bool(self.topic_id or self.organisation_kind or self.trusted or self.language)

    def as_args(self) -> dict[str, str]:
        args = {"topic": str(self.topic_id or ""), "kind": self.organisation_kind or "",
                "trusted": "1" if self.trusted else "", "language": self.language or "",
                "assignee": str(self.assignee_id or "")}
        return {key: value for key, value in args.items() if value}


class Scope:
    """Who reads and what they chose: the conditions every figure shares."""

    def __init__(self, reader: Reader, filters: Filters | None = None) -> None:
        self.reader = reader
        self.filters = filters or Filters()
        self.readable: ColumnElement[bool] = reader.content_condition()

    def conditions(self) -> list[ColumnElement[bool]]:
        f = self.filters
        found: list[ColumnElement[bool]] = [Inquiry.merged_into_id.is_(None)]
        if f.topic_id:
            found.append(Inquiry.topic_id == f.topic_id)
        if f.organisation_kind:
            found.append(Inquiry.organisation_kind == f.organisation_kind)
        if f.trusted:
            found.append(Inquiry.trusted_partner.is_(True))
        if f.language:
            found.append(Inquiry.language == f.language)
        if f.uses_content and not self.reader.is_lead:
            found.append(self.readable)
        if f.assignee_id:
            found.append(Inquiry.assignee_id == f.assignee_id)
        return found

    def guarded(self, column: Any, hidden: Any) -> Any:
        """The column for the inquiries the reader may read, ``hidden`` for the others."""
        if self.reader.is_lead:
            return column
        return case((self.readable, column), else_=literal(hidden))

    def dimension(self, name: str) -> Any:
        if name == "topic":
            return self.guarded(Inquiry.topic_id, RESTRICTED_TOPIC)
        column = {"channel": Inquiry.channel, "organisation_kind": Inquiry.organisation_kind,
                  "language": Inquiry.language}[name]
        return self.guarded(column, RESTRICTED)


def bucket_of(column: Any, buckets: Sequence[Bucket]) -> Any:
    return case(*[(column < bucket.end, index) for index, bucket in enumerate(buckets)], else_=len(buckets))


# --- inquiries received ------------------------------------------------------------------------


@dataclass
class Series:
    """Counts per bucket for each key (a channel, a status…), in bucket order."""

    buckets: list[Bucket]
    rows: dict[Any, list[int]] = field(default_factory=dict)

    def add(self, key: Any, index: int, count: int) -> None:
        self.rows.setdefault(key, [0] * len(self.buckets))[index] += count

    def totals(self) -> list[int]:
        return [sum(values[i] for values in self.rows.values()) for i in range(len(self.buckets))]

    @property
    def total(self) -> int:
        return sum(self.totals())


def received(period: Period, scope: Scope, by: str = "channel") -> Series:
    """Inquiries received per bucket (day or week), by a dimension (channel by default)."""
    buckets = period.buckets()
    inner = (select(bucket_of(Inquiry.received_at, buckets).label("bucket"), scope.dimension(by).label("key"))
             .where(Inquiry.received_at >= period.start, Inquiry.received_at < period.end, *scope.conditions())
             .subquery())
    series = Series(buckets)
    for bucket, key, count in db.session.execute(
            select(inner.c.bucket, inner.c.key, func.count()).group_by(inner.c.bucket, inner.c.key)):
        series.add(key, int(bucket), int(count))
    return series


def received_count(period: Period, scope: Scope) -> int:
    return int(db.session.scalar(select(func.count()).select_from(Inquiry).where(
        Inquiry.received_at >= period.start, Inquiry.received_at < period.end, *scope.conditions())) or 0)


def breakdown(period: Period, scope: Scope, by: str) -> dict[Any, int]:
    """Inquiries received in the period by topic, organisation kind, channel or language."""
    key = scope.dimension(by).label("key")
    inner = (select(key).where(Inquiry.received_at >= period.start, Inquiry.received_at < period.end,
                               *scope.conditions()).subquery())
    rows = db.session.execute(select(inner.c.key, func.count()).group_by(inner.c.key))
    return {row[0]: int(row[1]) for row in rows}


@dataclass(frozen=True)
class OrganisationCount:
    organisation_id: int
    name: str
    count: int


def top_organisations(period: Period, scope: Scope, limit: int = TOP_ORGANISATIONS) -> list[OrganisationCount]:
    """The organisations that wrote most in the period (restricted inquiries one may not read left out)."""
    conditions = [Inquiry.received_at >= period.start, Inquiry.received_at < period.end,
                  Inquiry.organisation_id.is_not(None), *scope.conditions()]
    if not scope.reader.is_lead:
        conditions.append(scope.readable)
    rows = db.session.execute(
        select(Inquiry.organisation_id, func.count().label("n")).where(*conditions)
        .group_by(Inquiry.organisation_id).order_by(func.count().desc(), Inquiry.organisation_id).limit(limit))
    counts = [(int(row[0] or 0), int(row[1])) for row in rows]
    names = dict(db.session.execute(select(Organisation.id, Organisation.name).where(
        Organisation.id.in_([organisation_id for organisation_id, _ in counts]))).all())
    return [OrganisationCount(organisation_id, names.get(organisation_id, ""), count)
            for organisation_id, count in counts]


def backlog(period: Period, scope: Scope, now: datetime) -> list[tuple[Bucket, int | None]]:
    """Inquiries open at the end of each bucket (``None`` for a bucket that ends in the future)."""
    buckets = period.buckets()
    moments = [bucket.end for bucket in buckets if bucket.end <= now]
    if len(moments) < len(buckets) and buckets[len(moments)].start <= now:
        moments.append(now)  # the bucket under way: open now
    if not moments:
        return [(bucket, None) for bucket in buckets]
    columns = [func.sum(case((and_(Inquiry.received_at < moment,
                                   or_(Inquiry.resolved_at.is_(None), Inquiry.resolved_at >= moment)), 1),
                             else_=0)) for moment in moments]
    row = db.session.execute(select(*columns).where(
        Inquiry.received_at < moments[-1], or_(Inquiry.resolved_at.is_(None), Inquiry.resolved_at >= moments[0]),
        *scope.conditions())).one()
    values = [int(value or 0) for value in row]
    return [(bucket, values[index] if index < len(values) else None) for index, bucket in enumerate(buckets)]


# --- response times and targets ------------------------------------------------------------------


def percentile(values: Sequence[int], share: float) -> int | None:
    """Nearest rank: the smallest value with at least ``share`` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)), 1) - 1]


@dataclass
class TimeFigures:
    """Business minutes from receipt, for the inquiries answered (or resolved) in the period."""

    minutes: list[int] = field(default_factory=list)
    met: int = 0

    @property
    def count(self) -> int:
        return len(self.minutes)

    @property
    def median(self) -> int | None:
        return percentile(self.minutes, 0.5)

    @property
    def p90(self) -> int | None:
        return percentile(self.minutes, 0.9)

    @property
    def met_share(self) -> float | None:
        return self.met / self.count if self.count else None


@dataclass
class Times:
    overall: TimeFigures = field(default_factory=TimeFigures)
    by_priority: dict[str, TimeFigures] = field(default_factory=lambda: defaultdict(TimeFigures))
    by_topic: dict[int | None, TimeFigures] = field(default_factory=lambda: defaultdict(TimeFigures))


def _times(period: Period, scope: Scope, at: Any, due: Any) -> Times:
    minutes_between = BusinessMinutes(working_calendar()).between
    result = Times()
    rows = db.session.execute(
        select(Inquiry.received_at, at, due, Inquiry.priority, scope.dimension("topic"))
        .where(at >= period.start, at < period.end, *scope.conditions()))
    for received_at, done_at, due_at, priority, topic in rows:
        minutes = minutes_between(received_at, done_at)
        met = due_at is None or done_at <= due_at
        for figures in (result.overall, result.by_priority[priority], result.by_topic[topic]):
            figures.minutes.append(minutes)
            figures.met += int(met)
    return result


def first_response_times(period: Period, scope: Scope) -> Times:
    return _times(period, scope, Inquiry.first_response_at, Inquiry.first_response_due_at)


def resolution_times(period: Period, scope: Scope) -> Times:
    return _times(period, scope, Inquiry.resolved_at, Inquiry.resolution_due_at)


# --- workload ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    user_id: int
    name: str
    open: int
    due_soon: int
    overdue: int
    resolved: int


def workload(period: Period, scope: Scope, now: datetime) -> list[Workload]:
    """Per team member: open now, due soon, overdue, and resolved in the period."""
    soon = now + timedelta(minutes=current_app.config["INBOX_DUE_SOON_MINUTES"])
    is_open = Inquiry.status.in_(OPEN_STATUSES)
    resolved_in = and_(Inquiry.resolved_at >= period.start, Inquiry.resolved_at < period.end)

    def count_if(condition: ColumnElement[bool]) -> Any:
        return func.sum(case((condition, 1), else_=0))

    rows = db.session.execute(
        select(Inquiry.assignee_id, count_if(is_open),
               count_if(and_(is_open, Inquiry.due_at >= now, Inquiry.due_at < soon)),
               count_if(and_(is_open, Inquiry.due_at < now)), count_if(resolved_in))
        .where(Inquiry.assignee_id.is_not(None), or_(is_open, resolved_in), *scope.conditions())
        .group_by(Inquiry.assignee_id))
    figures = {int(row[0]): [int(value or 0) for value in row[1:]] for row in rows}
    names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(figures))).all())
    return sorted((Workload(user_id, names.get(user_id, ""), *values)
                   for user_id, values in figures.items()), key=lambda w: (w.name.casefold(), w.user_id))


# --- bulletins: reach per send and list growth ------------------------------------------------------


@dataclass(frozen=True)
class SendReach:
    send_id: int
    name: str
    started_at: datetime | None
    recipients: int
    sent: int
    failed: int
    bounced: int
    unsubscribed: int

    @property
    def delivered(self) -> int:
        return self.sent - self.bounced


def bulletin_reach(period: Period) -> list[SendReach]:
    """Each bulk send started in the period: recipients, sent, failed, bounced after acceptance, unsubscribes."""
    bounced_later = exists().where(MailSuppression.address_key == Delivery.address_key,
                                   MailSuppression.reason == "bounce",
                                   MailSuppression.created_at >= Delivery.accepted_at)
    left_later = exists().where(ConsentRecord.subscription_id == Delivery.subscription_id,
                                ConsentRecord.given.is_(False), ConsentRecord.at >= Delivery.accepted_at)
    is_sent = Delivery.status == DeliveryStatus.SENT.value
    rows = db.session.execute(
        select(MailSend.id, MailSend.key, MailSend.started_at, func.count(Delivery.id),
               func.sum(case((is_sent, 1), else_=0)),
               func.sum(case((Delivery.status == DeliveryStatus.FAILED.value, 1), else_=0)),
               func.sum(case((and_(is_sent, bounced_later), 1), else_=0)),
               func.sum(case((and_(is_sent, left_later), 1), else_=0)))
        .join(Delivery, Delivery.send_id == MailSend.id)
        .where(MailSend.started_at >= period.start, MailSend.started_at < period.end)
        .group_by(MailSend.id, MailSend.key, MailSend.started_at).order_by(MailSend.started_at, MailSend.id))
    return [SendReach(int(r[0]), str(r[1]), r[2], *(int(value or 0) for value in r[3:]))
            for r in rows]


def reach_over_time(period: Period, sends: Sequence[SendReach] | None = None) -> Series:
    """Deliveries of the sends started in each bucket: sent, failed, bounced."""
    series = Series(period.buckets())
    for send in bulletin_reach(period) if sends is None else sends:
        if send.started_at is None:
            continue
        index = next(i for i, bucket in enumerate(series.buckets) if send.started_at < bucket.end)
        series.add("sent", index, send.sent)
        series.add("failed", index, send.failed)
        series.add("bounced", index, send.bounced)
    return series


def list_growth(period: Period) -> Series:
    """Consents given (``joined``) and withdrawn (``left``) per bucket, over all mailing lists."""
    buckets = period.buckets()
    inner = (select(bucket_of(ConsentRecord.at, buckets).label("bucket"), ConsentRecord.given.label("given"))
             .where(ConsentRecord.at >= period.start, ConsentRecord.at < period.end).subquery())
    series = Series(buckets)
    series.rows = {"joined": [0] * len(buckets), "left": [0] * len(buckets)}
    for bucket, given, count in db.session.execute(
            select(inner.c.bucket, inner.c.given, func.count()).group_by(inner.c.bucket, inner.c.given)):
        series.add("joined" if given else "left", int(bucket), int(count))
    return series


def subscribers() -> int:
    return int(db.session.scalar(select(func.count()).select_from(Subscription).where(
        Subscription.status == SubscriptionStatus.SUBSCRIBED.value)) or 0)


# --- the headline figures, this period against the previous one ------------------------------------


@dataclass(frozen=True)
class Compared:
    current: float | None
    previous: float | None

    @property
    def change(self) -> float | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous


@dataclass(frozen=True)
class Headline:
    received: Compared
    resolved: Compared
    open_at_end: Compared
    first_response_median: Compared
    resolution_median: Compared
    first_response_met: Compared  # a share, 0 to 1
    resolution_met: Compared


def _resolved_count(period: Period, scope: Scope) -> int:
    return int(db.session.scalar(select(func.count()).select_from(Inquiry).where(
        Inquiry.resolved_at >= period.start, Inquiry.resolved_at < period.end, *scope.conditions())) or 0)


def _open_at(moment: datetime, scope: Scope) -> int:
    return int(db.session.scalar(select(func.count()).select_from(Inquiry).where(
        Inquiry.received_at < moment, or_(Inquiry.resolved_at.is_(None), Inquiry.resolved_at >= moment),
        *scope.conditions())) or 0)


def headline(period: Period, scope: Scope, now: datetime,
             current: tuple[TimeFigures, TimeFigures] | None = None) -> Headline:
    """The headline figures and the previous period's; ``current`` gives this period's times if known."""
    def pair(figure: Any) -> Compared:
        return Compared(figure(period), figure(period.previous()))

    previous = period.previous()
    now_first, now_resolution = current or (first_response_times(period, scope).overall,
                                            resolution_times(period, scope).overall)
    first = {period: now_first, previous: first_response_times(previous, scope).overall}
    resolution = {period: now_resolution, previous: resolution_times(previous, scope).overall}
    return Headline(
        received=pair(lambda p: received_count(p, scope)),
        resolved=pair(lambda p: _resolved_count(p, scope)),
        open_at_end=pair(lambda p: _open_at(min(p.end, now), scope)),
        first_response_median=pair(lambda p: first[p].median),
        resolution_median=pair(lambda p: resolution[p].median),
        first_response_met=pair(lambda p: first[p].met_share),
        resolution_met=pair(lambda p: resolution[p].met_share),
    )

