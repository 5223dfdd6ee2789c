"""The dashboard's charts in the reader's language: each a title, a description, categories and series.

A ``Chart`` is what the SVG, its data table and its CSV download are all drawn from, so the
three always show the same figures. Labels are translated here (the services give codes and ids).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, cached_property, lru_cache
from typing import Any

from babel import Locale
from babel.numbers import NumberPattern, parse_pattern
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from inquiry_desk.accounts.models import Role, User
from inquiry_desk.core.extensions import db
from inquiry_desk.core.i18n import current_language
from inquiry_desk.core.templating import translated_label
from inquiry_desk.directory.labels import ORGANISATION_KIND_LABELS
from inquiry_desk.inquiries.labels import CHANNEL_LABELS, PRIORITY_LABELS
from inquiry_desk.inquiries.models import Priority, Topic
from inquiry_desk.reports import services
from inquiry_desk.reports.periods import Bucket, Period
from inquiry_desk.reports.services import RESTRICTED, RESTRICTED_TOPIC, Scope, Times

Value = float | None
PATTERNS = {"hours": "#,##0.0", "percent": "#,##0 %", "count": "#,##0"}


@cache
def _pattern(unit: str) -> NumberPattern:
    return parse_pattern(PATTERNS[unit])


@cache
def _locale(name: str) -> Locale:
    return Locale.parse(name)


@lru_cache(maxsize=8192)
def _formatted(locale: str, unit: str, value: float) -> str:
    """A figure in the locale's digits and separators (as ``format_decimal``/``format_percent``), kept:
    a dashboard formats hundreds of figures, most of them small counts that repeat."""
    return str(_pattern(unit).apply(value, _locale(locale)))


@dataclass
class Chart:
    id: str
    title: str
    description: str
    kind: str  # "columns" (over time) or "bars" (categories)
    category_header: str
    categories: list[str]
    series: list[tuple[str, list[Value]]]
    unit: str = "count"  # count | hours | percent
    stacked: bool = False
    keys: list[str] | None = None  # the categories as the CSV gives them (ISO dates for days and weeks)
    axis: list[str] | None = None  # short labels under the columns (the first day of a week)

    def format(self, value: Value) -> str:
        if value is None:
            return "–"
        return _formatted(str(get_locale() or "en"), self.unit, value)

    def raw(self, value: Value) -> str:
        """A value as the CSV holds it: plain digits, a dot for decimals, shares in per cent."""
        if value is None:
            return ""
        if self.unit == "percent":
            return f"{value * 100:.1f}"
        if self.unit == "hours":
            return f"{value:.2f}"
        return str(int(value))

    def rows(self, raw: bool = False) -> list[tuple[str, list[Value]]]:
        names = self.keys if raw and self.keys is not None else self.categories
        return [(category, [values[i] for _label, values in self.series]) for i, category in enumerate(names)]

    @property
    def empty(self) -> bool:
        return not any(value for _label, values in self.series for value in values)


@dataclass
class HeadlineRow:
    label: str
    current: str
    previous: str
    change: str


@dataclass
class Dashboard:
    period: Period
    headline: list[HeadlineRow]
    charts: list[Chart] = field(default_factory=list)
    sends: list[services.SendReach] = field(default_factory=list)
    subscribers: int = 0

    def chart(self, chart_id: str) -> Chart:
        return next(chart for chart in self.charts if chart.id == chart_id)


def _day(value: Any, width: str = "d MMM") -> str:
    return str(format_date(value, width))


def bucket_label(bucket: Bucket, granularity: str) -> str:
    if granularity == "day":
        return _day(bucket.first_day)
    return _("Week of %(day)s", day=_day(bucket.first_day))


def period_label(period: Period) -> str:
    return _("%(first)s to %(last)s", first=_day(period.first_day, "d MMM y"), last=_day(period.last_day, "d MMM y"))


def _topic_names() -> dict[int, str]:
    french = current_language() == "fr"
    return {topic.id: (topic.name_fr if french else topic.name_en) for topic in db.session.scalars(select(Topic))}


def _topic_label(names: dict[int, str]) -> Callable[[Any], str]:
    def label(key: Any) -> str:
        if key == RESTRICTED_TOPIC:
            return _("Restricted")
        if key is None:
            return _("No topic")
        return names.get(key, str(key))
    return label


def _code_label(labels: dict[str, Any], none: str) -> Callable[[Any], str]:
    def label(key: Any) -> str:
        if key == RESTRICTED:
            return _("Restricted")
        if key is None:
            return none
        return translated_label(labels, key)
    return label


def _hours(minutes: int | None) -> Value:
    return None if minutes is None else minutes / 60


def _compare_categories(current: dict[Any, int], previous: dict[Any, int],
                        label: Callable[[Any], str]) -> tuple[list[str], list[Value], list[Value]]:
    keys = sorted(set(current) | set(previous), key=lambda k: (-current.get(k, 0), label(k)))
    return ([label(k) for k in keys], [float(current.get(k, 0)) for k in keys],
            [float(previous.get(k, 0)) for k in keys])


def _change(current: Value, previous: Value, unit: str, chart: Chart) -> str:
    if current is None or previous is None:
        return "–"
    difference = current - previous
    text = chart.format(abs(difference))
    return ("+" if difference > 0 else "−" if difference < 0 else "±") + text


def headline_rows(figures: services.Headline) -> list[HeadlineRow]:
    count = Chart("h", "", "", "bars", "", [], [])
    hours = Chart("h", "", "", "bars", "", [], [], unit="hours")
    share = Chart("h", "", "", "bars", "", [], [], unit="percent")
    rows = [
        (_("Inquiries received"), figures.received, count, 1.0),
        (_("Inquiries resolved"), figures.resolved, count, 1.0),
        (_("Open at the end of the period"), figures.open_at_end, count, 1.0),
        (_("Median time to first response (business hours)"), figures.first_response_median, hours, 1 / 60),
        (_("Median time to resolution (business hours)"), figures.resolution_median, hours, 1 / 60),
        (_("First responses within target"), figures.first_response_met, share, 1.0),
        (_("Resolutions within target"), figures.resolution_met, share, 1.0),
    ]
    result = []
    for label, compared, chart, scale in rows:
        current = None if compared.current is None else compared.current * scale
        previous = None if compared.previous is None else compared.previous * scale
        result.append(HeadlineRow(label, chart.format(current), chart.format(previous),
                                  _change(current, previous, chart.unit, chart)))
    return result


def _times_chart(chart_id: str, title: str, first: Times, resolution: Times, by: str,
                 label: Callable[[Any], str], keys: Sequence[Any], header: str) -> Chart:
    groups_first = first.by_priority if by == "priority" else first.by_topic
    groups_resolution = resolution.by_priority if by == "priority" else resolution.by_topic
    present = [k for k in keys if k in groups_first or k in groups_resolution]
    series: list[tuple[str, list[Value]]] = [
        (_("First response, median"), [_hours(groups_first[k].median) if k in groups_first else None
                                       for k in present]),
        (_("First response, 90th percentile"), [_hours(groups_first[k].p90) if k in groups_first else None
                                                for k in present]),
        (_("Resolution, median"), [_hours(groups_resolution[k].median) if k in groups_resolution else None
                                   for k in present]),
        (_("Resolution, 90th percentile"), [_hours(groups_resolution[k].p90) if k in groups_resolution else None
                                            for k in present]),
    ]
    description = _("Business hours from receipt to first response and to resolution, median and 90th "
                    "percentile, for %(count)s first responses and %(resolved)s resolutions in the period.",
                    count=first.overall.count, resolved=resolution.overall.count)
    return Chart(chart_id, title, description, "bars", header, [label(k) for k in present], series, unit="hours")


def _targets_chart(chart_id: str, title: str, first: Times, resolution: Times, by: str,
                   label: Callable[[Any], str], keys: Sequence[Any], header: str) -> Chart:
    groups_first = first.by_priority if by == "priority" else first.by_topic
    groups_resolution = resolution.by_priority if by == "priority" else resolution.by_topic
    present = [k for k in keys if k in groups_first or k in groups_resolution]
    series: list[tuple[str, list[Value]]] = [
        (_("First responses within target"), [groups_first[k].met_share if k in groups_first else None
                                              for k in present]),
        (_("Resolutions within target"), [groups_resolution[k].met_share if k in groups_resolution else None
                                          for k in present]),
    ]
    overall_first = first.overall.met_share
    overall_resolution = resolution.overall.met_share
    fmt = Chart("x", "", "", "bars", "", [], [], unit="percent")
    description = _("Share of first responses (%(first)s in all) and resolutions (%(resolution)s in all) "
                    "that came within their target.", first=fmt.format(overall_first),
                    resolution=fmt.format(overall_resolution))
    return Chart(chart_id, title, description, "bars", header, [label(k) for k in present], series,
                 unit="percent")


class Context:
    """One reader's period and filters, with the figures several charts share computed once."""

    def __init__(self, period: Period, scope: Scope, now: datetime) -> None:
        self.period, self.scope, self.now = period, scope, now
        self.previous = period.previous()
        self.buckets = period.buckets()
        self.when = period_label(period)
        self.categories = [bucket_label(bucket, period.granularity) for bucket in self.buckets]
        self.keys = [bucket.first_day.isoformat() for bucket in self.buckets]
        self.axis = [_day(bucket.first_day) for bucket in self.buckets]
        self.header = _("Day") if period.granularity == "day" else _("Week")
        self.unit = _("day") if period.granularity == "day" else _("week")
        self.topic = _topic_label(_topic_names())
        self.priority = _code_label(PRIORITY_LABELS, _("Unknown"))
        self.priorities = [p.value for p in reversed(Priority)]

    @cached_property
    def first(self) -> Times:
        return services.first_response_times(self.period, self.scope)

    @cached_property
    def resolution(self) -> Times:
        return services.resolution_times(self.period, self.scope)

    @cached_property
    def topic_keys(self) -> list[Any]:
        return sorted(set(self.first.by_topic) | set(self.resolution.by_topic), key=lambda k: self.topic(k))

    @cached_property
    def sends(self) -> list[services.SendReach]:
        return services.bulletin_reach(self.period)


def _received(c: Context) -> Chart:
    received = services.received(c.period, c.scope)
    channel = _code_label(CHANNEL_LABELS, _("Unknown"))
    before = services.received_count(c.previous, c.scope)
    return Chart(
        "received", _("Inquiries received, by channel"),
        _("Inquiries received per %(unit)s from %(period)s, by channel: %(count)s in all, against %(before)s "
          "in the previous period.", unit=c.unit, period=c.when, count=received.total, before=before),
        "columns", c.header, c.categories,
        [(channel(key), [float(v) for v in values]) for key, values in sorted(received.rows.items(),
                                                                             key=lambda kv: channel(kv[0]))],
        stacked=True, keys=c.keys, axis=c.axis)


def _backlog(c: Context) -> Chart:
    backlog = services.backlog(c.period, c.scope, c.now)
    known = [value for _bucket, value in backlog if value is not None]
    return Chart(
        "backlog", _("Open inquiries over time"),
        _("Inquiries open at the end of each %(unit)s from %(period)s: %(last)s at the latest count.",
          unit=c.unit, period=c.when, last=known[-1] if known else 0),
        "columns", c.header, c.categories, [(_("Open"), [None if v is None else float(v) for _b, v in backlog])],
        keys=c.keys, axis=c.axis)


def _topics(c: Context) -> Chart:
    labels, current, past = _compare_categories(services.breakdown(c.period, c.scope, "topic"),
                                                services.breakdown(c.previous, c.scope, "topic"), c.topic)
    return Chart("topics", _("Inquiries received, by topic"),
                 _("Inquiries received in each topic, this period against the previous one."),
                 "bars", _("Topic"), labels, [(_("This period"), current), (_("Previous period"), past)])


def _kinds(c: Context) -> Chart:
    kind = _code_label(ORGANISATION_KIND_LABELS, _("Not given"))
    labels, current, past = _compare_categories(services.breakdown(c.period, c.scope, "organisation_kind"),
                                                services.breakdown(c.previous, c.scope, "organisation_kind"), kind)
    return Chart("kinds", _("Inquiries received, by kind of organisation"),
                 _("Inquiries received from each kind of organisation, this period against the previous one."),
                 "bars", _("Kind of organisation"), labels, [(_("This period"), current), (_("Previous period"), past)])


def _organisations(c: Context) -> Chart:
    top = services.top_organisations(c.period, c.scope)
    return Chart("organisations", _("Top organisations"),
                 _("The %(count)s organisations that sent the most inquiries in the period.", count=len(top)),
                 "bars", _("Organisation"), [o.name for o in top], [(_("Inquiries"), [float(o.count) for o in top])])


def _times_priority(c: Context) -> Chart:
    return _times_chart("times_priority", _("Response times, by priority"), c.first, c.resolution, "priority",
                        c.priority, c.priorities, _("Priority"))


def _times_topic(c: Context) -> Chart:
    return _times_chart("times_topic", _("Response times, by topic"), c.first, c.resolution, "topic",
                        c.topic, c.topic_keys, _("Topic"))


def _targets_priority(c: Context) -> Chart:
    return _targets_chart("targets_priority", _("Targets met, by priority"), c.first, c.resolution, "priority",
                          c.priority, c.priorities, _("Priority"))


def _targets_topic(c: Context) -> Chart:
    return _targets_chart("targets_topic", _("Targets met, by topic"), c.first, c.resolution, "topic",
                          c.topic, c.topic_keys, _("Topic"))


def _workload(c: Context) -> Chart:
    load = services.workload(c.period, c.scope, c.now)
    return Chart(
        "workload", _("Workload per team member"),
        _("For each team member: inquiries open now, due soon, overdue, and resolved in the period."),
        "bars", _("Team member"), [w.name for w in load],
        [(_("Open"), [float(w.open) for w in load]), (_("Due soon"), [float(w.due_soon) for w in load]),
         (_("Overdue"), [float(w.overdue) for w in load]), (_("Resolved"), [float(w.resolved) for w in load])])


def _reach(c: Context) -> Chart:
    reach = services.reach_over_time(c.period, c.sends)
    names_of = {"sent": _("Sent"), "failed": _("Failed"), "bounced": _("Bounced")}
    return Chart(
        "reach", _("Bulletin deliveries over time"),
        _("Bulletin deliveries sent, failed and bounced, by when their send started, from %(period)s: "
          "%(sends)s sends.", period=c.when, sends=len(c.sends)),
        "columns", c.header, c.categories,
        [(names_of[key], [float(v) for v in reach.rows.get(key, [0] * len(c.buckets))])
         for key in ("sent", "failed", "bounced")], keys=c.keys, axis=c.axis)


def _growth(c: Context) -> Chart:
    growth = services.list_growth(c.period)
    return Chart(
        "growth", _("Mailing list growth"),
        _("Subscriptions confirmed and withdrawn per %(unit)s, over all mailing lists: %(joined)s joined, "
          "%(left)s left; %(now)s subscribed now.", unit=c.unit,
          joined=sum(growth.rows["joined"]), left=sum(growth.rows["left"]), now=services.subscribers()),
        "columns", c.header, c.categories,
        [(_("Joined"), [float(v) for v in growth.rows["joined"]]),
         (_("Left"), [float(v) for v in growth.rows["left"]])], keys=c.keys, axis=c.axis)


BUILDERS: dict[str, Callable[[Context], Chart]] = {
    "received": _received, "backlog": _backlog, "topics": _topics, "kinds": _kinds,
    "organisations": _organisations, "times_priority": _times_priority, "times_topic": _times_topic,
    "targets_priority": _targets_priority, "targets_topic": _targets_topic, "workload": _workload,
    "reach": _reach, "growth": _growth,
}
CHART_IDS = tuple(BUILDERS)


def build_chart(chart_id: str, period: Period, scope: Scope, now: datetime) -> Chart:
    """One chart alone (its CSV download)."""
    return BUILDERS[chart_id](Context(period, scope, now))


def build(period: Period, scope: Scope, now: datetime) -> Dashboard:
    """Every figure of the dashboard for one reader, period and filters."""
    context = Context(period, scope, now)
    figures = services.headline(period, scope, now, current=(context.first.overall, context.resolution.overall))
    dashboard = Dashboard(period, headline_rows(figures))
    dashboard.charts = [builder(context) for builder in BUILDERS.values()]
    dashboard.sends = context.sends
    dashboard.subscribers = services.subscribers()
    return dashboard


def assignees() -> list[User]:
    """The staff one may filter the dashboard by: officers and above, active."""
    roles = [role.value for role in Role if role.at_least(Role.OFFICER)]
    return list(db.session.scalars(select(User).where(User.active.is_(True), User.role.in_(roles))
                                   .order_by(User.name)))
