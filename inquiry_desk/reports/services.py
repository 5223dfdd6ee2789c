"""The dashboard's figures for a period and filters, each against the period before.

Counts and times over complete past days come from the daily roll-up (``rolled``); today, the
days not rolled up and the days touched by a change since the roll-up are counted live, with SQL
aggregations over indexed columns (``received_at``, ``first_response_at``, ``resolved_at``,
``due_at``, ``assignee_id``) bucketed by local day or week (a ``CASE`` on the bucket bounds
computed in the team's time zone), so that both databases agree and a period that crosses a
daylight-saving change keeps its days. The two add up: a day gives the same figures either way.
Times to first response and to resolution are in business hours of the team calendar
(``inquiries.targets``), for the inquiries answered or resolved in the period, kept as histograms.

Need-to-know (docs/decisions.md, "Dashboard and need-to-know"): every count includes restricted
inquiries (their status, priority, dates and assignee are metadata anyone may see), but a
breakdown by content (channel, topic, organisation kind, organisation, language) puts a
restricted inquiry the reader may not read in one ``RESTRICTED`` group, a filter on content
never matches it, and the top organisations leave it out.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, and_, case, exists, false, func, literal, or_, select

from inquiry_desk.accounts.models import User
from inquiry_desk.bulletins.models import Bulletin
from inquiry_desk.core.clock import team_timezone
from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Organisation
from inquiry_desk.inquiries.models import OPEN_STATUSES, Inquiry
from inquiry_desk.inquiries.targets import working_calendar
from inquiry_desk.inquiries.targets.business_hours import BusinessMinutes
from inquiry_desk.mail.models import Delivery, DeliveryStatus, MailSend, MailSuppression
from inquiry_desk.mailing.models import ConsentRecord, Subscription, SubscriptionStatus
from inquiry_desk.reports import rolled
from inquiry_desk.reports.periods import Bucket, Period
from inquiry_desk.reports.scope import RESTRICTED, RESTRICTED_TOPIC, Filters, Scope, Series, bucket_of

__all__ = ["RESTRICTED", "RESTRICTED_TOPIC", "Filters", "Scope", "Series"]

TOP_ORGANISATIONS = 10
DIMENSIONS = ("channel", "topic", "organisation_kind", "language")
Spans = Sequence[tuple[datetime, datetime]]
EVENTS = {"received": Inquiry.received_at, "resolved": Inquiry.resolved_at}


def _within(column: Any, spans: Spans) -> ColumnElement[bool]:
    return or_(*[and_(column >= start, column < end) for start, end in spans]) if spans else false()


# --- inquiries received ------------------------------------------------------------------------


def _per_bucket(period: Period, scope: Scope, measure: str, by: str | None) -> Series:
    """Inquiries received (or resolved) per bucket, by a dimension: rolled-up days and live spans added."""
    key = ("per bucket", period, measure, by)
    if key not in scope.memo:
        scope.memo[key] = _count_per_bucket(period, scope, measure, by)
    found: Series = scope.memo[key]
    return found


def _count_per_bucket(period: Period, scope: Scope, measure: str, by: str | None) -> Series:
    buckets = period.buckets()
    covered = rolled.coverage(scope, period.first_day, period.end_day)
    series = Series(buckets)
    for bucket, key, count in rolled.per_bucket(scope, covered.rolled, buckets, measure, by):
        series.add(key, bucket, count)
    if covered.live:
        column = EVENTS[measure]
        key = scope.dimension(by) if by else literal(0)
        inner = (select(bucket_of(column, buckets).label("bucket"), key.label("key"))
                 .where(_within(column, covered.live), *scope.conditions()).subquery())
        for bucket, found, count in db.session.execute(
                select(inner.c.bucket, inner.c.key, func.count()).group_by(inner.c.bucket, inner.c.key)):
            series.add(found, int(bucket), int(count))
    return series


def received(period: Period, scope: Scope, by: str = "channel") -> Series:
    """Inquiries received per bucket (day or week), by a dimension (channel by default)."""
    return _per_bucket(period, scope, "received", by)


def _count(first_day: date, end_day: date, scope: Scope, measure: str) -> int:
    """Inquiries received (resolved) on the days; asked once per request (the headline and charts share)."""
    key = ("count", first_day, end_day, measure)
    if key not in scope.memo:
        covered = rolled.coverage(scope, first_day, end_day)
        found = rolled.count(scope, covered.rolled, measure)
        if covered.live:
            found += int(db.session.scalar(select(func.count()).select_from(Inquiry).where(
                _within(EVENTS[measure], covered.live), *scope.conditions())) or 0)
        scope.memo[key] = found
    counted: int = scope.memo[key]
    return counted


def received_count(period: Period, scope: Scope) -> int:
    return _count(period.first_day, period.end_day, scope, "received")


def breakdown(period: Period, scope: Scope, by: str) -> dict[Any, int]:
    """Inquiries received in the period by topic, organisation kind, channel or language."""
    covered = rolled.coverage(scope, period.first_day, period.end_day)
    found = Counter(rolled.breakdown(scope, covered.rolled, by))
    if covered.live:
        key = scope.dimension(by).label("key")
        inner = select(key).where(_within(Inquiry.received_at, covered.live), *scope.conditions()).subquery()
        found.update({row[0]: int(row[1]) for row in db.session.execute(
            select(inner.c.key, func.count()).group_by(inner.c.key))})
    return dict(found)


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


def _open_now(scope: Scope) -> int:
    """Inquiries open now: not resolved (``resolved_at`` is indexed, NULL for the open ones)."""
    if "open now" not in scope.memo:
        scope.memo["open now"] = int(db.session.scalar(select(func.count()).select_from(Inquiry).where(
            Inquiry.resolved_at.is_(None), *scope.conditions())) or 0)
    found: int = scope.memo["open now"]
    return found


def open_at(day: date, scope: Scope) -> int:
    """Inquiries open at the local midnight that begins ``day``: open now, less those received since, plus
    those resolved since (an inquiry is resolved after it was received; nothing happens after now, so a
    ``day`` after today gives the inquiries open now). Only the days since ``day`` are counted, not history.
    """
    tomorrow = scope.now.astimezone(team_timezone()).date() + timedelta(days=1)
    if day >= tomorrow:
        return _open_now(scope)
    return (_open_now(scope) - _count(day, tomorrow, scope, "received")
            + _count(day, tomorrow, scope, "resolved"))


def _open_until(period: Period, now: datetime) -> date:
    """The day whose midnight ends the period's open count: its end, or tomorrow while it is under way."""
    return min(period.end_day, now.astimezone(team_timezone()).date() + timedelta(days=1))


def backlog(period: Period, scope: Scope, now: datetime) -> list[tuple[Bucket, int | None]]:
    """Inquiries open at the end of each bucket (``None`` for a bucket that begins in the future)."""
    buckets = period.buckets()
    received_in = received(period, scope).totals()  # by channel (as the chart), every inquiry in one
    resolved_in = _per_bucket(period, scope, "resolved", None).totals()
    found: list[tuple[Bucket, int | None]] = []
    value = open_at(period.first_day, scope)
    for index, bucket in enumerate(buckets):
        value += received_in[index] - resolved_in[index]
        found.append((bucket, value if bucket.start <= now else None))
    return found


# --- response times and targets ------------------------------------------------------------------


def percentile(values: Sequence[int], share: float) -> int | None:
    """Nearest rank: the smallest value with at least ``share`` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[_rank(len(ordered), share) - 1]


def _rank(count: int, share: float) -> int:
    return max(math.ceil(share * count), 1)


@dataclass
class TimeFigures:
    """Business minutes from receipt, for the inquiries answered (or resolved) in the period.

    Kept as a histogram (minutes: how many inquiries), which the roll-up's rows and the live rows
    both add to: the median and 90th percentile are exact ranks whichever way a day was read.
    """

    histogram: Counter[int] = field(default_factory=Counter)
    met: int = 0

    def add(self, minutes: int, count: int = 1, met: int = 0) -> None:
        self.histogram[minutes] += count
        self.met += met

    @property
    def minutes(self) -> list[int]:
        return sorted(self.histogram.elements())

    @property
    def count(self) -> int:
        return sum(self.histogram.values())

    def _percentile(self, share: float) -> int | None:
        total = self.count
        if not total:
            return None
        rank, seen = _rank(total, share), 0
        for minutes in sorted(self.histogram):
            seen += self.histogram[minutes]
            if seen >= rank:
                return minutes
        return None  # pragma: no cover (the ranks add up to the total)

    @property
    def median(self) -> int | None:
        return self._percentile(0.5)

    @property
    def p90(self) -> int | None:
        return self._percentile(0.9)

    @property
    def met_share(self) -> float | None:
        return self.met / self.count if self.count else None


@dataclass
class Times:
    overall: TimeFigures = field(default_factory=TimeFigures)
    by_priority: dict[str, TimeFigures] = field(default_factory=lambda: defaultdict(TimeFigures))
    by_topic: dict[int | None, TimeFigures] = field(default_factory=lambda: defaultdict(TimeFigures))

    def add(self, priority: str, topic: int | None, minutes: int, count: int, met: int) -> None:
        for figures in (self.overall, self.by_priority[priority], self.by_topic[topic]):
            figures.add(minutes, count, met)

    def add_rows(self, rows: Iterable[tuple[str, Any, int, int, int]], detail: bool = True) -> None:
        """``add`` for each row (the roll-up's: a hundred thousand at a million inquiries), with no call per
        row and group (``dict.get``, not ``Counter``'s missing key); without ``detail``, to the overall alone."""
        overall = self.overall.histogram
        by_priority, by_topic = self.by_priority, self.by_topic
        met_total = 0
        for priority, topic, minutes, count, met in rows:
            overall[minutes] = overall.get(minutes, 0) + count
            met_total += met
            if detail:
                for figures in (by_priority[priority], by_topic[topic]):
                    histogram = figures.histogram
                    histogram[minutes] = histogram.get(minutes, 0) + count
                    figures.met += met
        self.overall.met += met_total


MEASURE_COLUMNS = {"first_response": (Inquiry.first_response_at, Inquiry.first_response_due_at),
                   "resolution": (Inquiry.resolved_at, Inquiry.resolution_due_at)}


def _times(period: Period, scope: Scope, measure: str, detail: bool = True) -> Times:
    """Rolled-up days from the business minutes stored per inquiry; the other days counted live.
    Without ``detail``, the overall figures alone (the headline's): no split by priority and topic."""
    result = Times()
    covered = rolled.coverage(scope, period.first_day, period.end_day)
    result.add_rows(rolled.times(scope, covered.rolled, measure, detail), detail)
    if covered.live:
        at, due = MEASURE_COLUMNS[measure]
        minutes_between = BusinessMinutes(working_calendar()).between
        rows = db.session.connection().execute(  # Core: thousands of rows on a busy day
            select(Inquiry.received_at, at, due, Inquiry.priority, scope.dimension("topic") if detail else literal(0))
            .where(_within(at, covered.live), *scope.conditions()))
        result.add_rows(((priority, topic, minutes_between(received_at, done_at), 1,
                          int(due_at is None or done_at <= due_at))
                         for received_at, done_at, due_at, priority, topic in rows), detail)
    return result


def first_response_times(period: Period, scope: Scope) -> Times:
    return _times(period, scope, "first_response")


def resolution_times(period: Period, scope: Scope) -> Times:
    return _times(period, scope, "resolution")


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
    """Per team member: open now, due soon, overdue, and resolved in the period.

    The open figures by the partial index of open inquiries per assignee and due time; the
    resolutions from the roll-up on its days and live on the others (as the other counts)."""
    soon = now + timedelta(minutes=current_app.config["INBOX_DUE_SOON_MINUTES"])

    def count_if(condition: ColumnElement[bool]) -> Any:
        return func.sum(case((condition, 1), else_=0))

    figures: dict[int, list[int]] = {}
    for row in db.session.execute(
            select(Inquiry.assignee_id, func.count(), count_if(and_(Inquiry.due_at >= now, Inquiry.due_at < soon)),
                   count_if(Inquiry.due_at < now))
            .where(Inquiry.assignee_id.is_not(None), Inquiry.status.in_(OPEN_STATUSES), *scope.conditions())
            .group_by(Inquiry.assignee_id)):
        figures[int(row[0])] = [int(value or 0) for value in row[1:]] + [0]
    covered = rolled.coverage(scope, period.first_day, period.end_day)
    resolved = Counter(rolled.per_assignee(scope, covered.rolled, "resolved"))
    if covered.live:
        resolved.update({int(row[0] or 0): int(row[1]) for row in db.session.execute(
            select(Inquiry.assignee_id, func.count())
            .where(Inquiry.assignee_id.is_not(None), _within(Inquiry.resolved_at, covered.live),
                   *scope.conditions())
            .group_by(Inquiry.assignee_id))})
    for user_id, count in resolved.items():
        if count:
            figures.setdefault(user_id, [0, 0, 0, 0])[3] += count
    names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(figures))).all())
    return sorted((Workload(user_id, names.get(user_id, ""), *values)
                   for user_id, values in figures.items()), key=lambda w: (w.name.casefold(), w.user_id))


# --- bulletins: reach per send and list growth ------------------------------------------------------


@dataclass(frozen=True)
class SendReach:
    send_id: int
    name: str  # the send's key ("bulletin:12")
    started_at: datetime | None
    recipients: int
    sent: int
    failed: int
    bounced: int
    unsubscribed: int
    bulletin_id: int | None = None  # the bulletin that made the send, if one did
    titles: tuple[str, str] = ("", "")  # its title in English and French

    @property
    def delivered(self) -> int:
        return self.sent - self.bounced

    def title(self, language: str) -> str:
        """The bulletin's title in that language (the other one if it has none), else the send's key."""
        english, french = self.titles
        first, other = (french, english) if language == "fr" else (english, french)
        return first.strip() or other.strip() or self.name


def bulletin_reach(period: Period) -> list[SendReach]:
    """Each bulk send started in the period: recipients, sent, failed, bounced after acceptance, unsubscribes."""
    bounced_later = exists().where(MailSuppression.address_key == Delivery.address_key,
                                   MailSuppression.reason == "bounce",
                                   MailSuppression.created_at >= Delivery.accepted_at)
    left_later = exists().where(ConsentRecord.subscription_id == Delivery.subscription_id,
                                ConsentRecord.given.is_(False), ConsentRecord.at >= Delivery.accepted_at)
    is_sent = Delivery.status == DeliveryStatus.SENT.value
    sends = (select(MailSend.id, MailSend.key, MailSend.started_at, func.count(Delivery.id).label("recipients"),
                    func.sum(case((is_sent, 1), else_=0)).label("sent"),
                    func.sum(case((Delivery.status == DeliveryStatus.FAILED.value, 1), else_=0)).label("failed"),
                    func.sum(case((and_(is_sent, bounced_later), 1), else_=0)).label("bounced"),
                    func.sum(case((and_(is_sent, left_later), 1), else_=0)).label("unsubscribed"))
             .join(Delivery, Delivery.send_id == MailSend.id)
             .where(MailSend.started_at >= period.start, MailSend.started_at < period.end)
             .group_by(MailSend.id, MailSend.key, MailSend.started_at).subquery())
    rows = db.session.execute(
        select(sends, Bulletin.id, Bulletin.title_en, Bulletin.title_fr)
        .outerjoin(Bulletin, Bulletin.send_key == sends.c.key).order_by(sends.c.started_at, sends.c.id))
    return [SendReach(int(r[0]), str(r[1]), r[2], recipients=int(r[3] or 0), sent=int(r[4] or 0),
                      failed=int(r[5] or 0), bounced=int(r[6] or 0), unsubscribed=int(r[7] or 0),
                      bulletin_id=r[8], titles=(r[9] or "", r[10] or "")) for r in rows]


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
    return _count(period.first_day, period.end_day, scope, "resolved")


def headline(period: Period, scope: Scope, now: datetime,
             current: tuple[TimeFigures, TimeFigures] | None = None) -> Headline:
    """The headline figures and the previous period's; ``current`` gives this period's times if known."""
    def pair(figure: Any) -> Compared:
        return Compared(figure(period), figure(period.previous()))

    previous = period.previous()
    now_first, now_resolution = current or (_times(period, scope, "first_response", detail=False).overall,
                                            _times(period, scope, "resolution", detail=False).overall)
    first = {period: now_first, previous: _times(previous, scope, "first_response", detail=False).overall}
    resolution = {period: now_resolution, previous: _times(previous, scope, "resolution", detail=False).overall}
    return Headline(
        received=pair(lambda p: received_count(p, scope)),
        resolved=pair(lambda p: _resolved_count(p, scope)),
        open_at_end=pair(lambda p: open_at(_open_until(p, now), scope)),
        first_response_median=pair(lambda p: first[p].median),
        resolution_median=pair(lambda p: resolution[p].median),
        first_response_met=pair(lambda p: first[p].met_share),
        resolution_met=pair(lambda p: resolution[p].met_share),
    )

