"""The daily roll-up: inquiries counted per local day and per the dimensions the dashboard filters on.

``DailyRollup``: one row per (day, channel, topic, organisation kind, language, trusted, priority,
assignee, restricted by hand) that had anything that day: inquiries received, first responses (and
how many met their target), resolutions (and how many met theirs). ``InquiryTime``: the business
minutes of each first response and resolution, one row per inquiry and measure on the local day
of the event, so that medians and 90th percentiles over rolled-up days are exact. ``DailyFacet``:
the same counts summed over every dimension but one (``facet``), keeping those that decide who may
read a row (topic, assignee, restricted): a few hundred rows a day where ``DailyRollup`` can have
thousands, read by the figures without a filter on content. ``RolledDay``:
the days whose rows are complete (the dashboard reads only those from the roll-up).
``RollupState.changes_checked_at``: every inquiry changed before it (less a margin) has its days
rolled up again. Kept by the ``report_rollup`` job and ``flask reports rollup`` (``rollup``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from inquiry_desk.core.database import UTCDateTime
from inquiry_desk.core.extensions import Model


class DailyRollup(Model):
    __tablename__ = "report_daily_rollup"
    __table_args__ = (Index("ix_report_daily_rollup_day", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)  # in the team's time zone
    channel: Mapped[str] = mapped_column(String(16))
    topic_id: Mapped[int | None] = mapped_column()  # no foreign key: a deleted topic keeps its history
    organisation_kind: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(2))
    trusted_partner: Mapped[bool] = mapped_column()
    priority: Mapped[str] = mapped_column(String(16))
    assignee_id: Mapped[int | None] = mapped_column()
    # Restricted one by one (Inquiry.restricted); a restricted topic is applied when the roll-up is read.
    restricted: Mapped[bool] = mapped_column()
    received: Mapped[int] = mapped_column(default=0)
    first_responses: Mapped[int] = mapped_column(default=0)
    first_response_met: Mapped[int] = mapped_column(default=0)
    resolved: Mapped[int] = mapped_column(default=0)
    resolution_met: Mapped[int] = mapped_column(default=0)


# The facets kept in DailyFacet: "all" (no dimension but the reader's) and one per dimension a chart breaks down by.
FACETS = ("all", "channel", "organisation_kind", "language")


class DailyFacet(Model):
    __tablename__ = "report_daily_facets"
    __table_args__ = (Index("ix_report_daily_facets_facet_day", "facet", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    facet: Mapped[str] = mapped_column(String(20))  # one of FACETS
    key: Mapped[str | None] = mapped_column(String(40))  # the facet's value (None for "all")
    topic_id: Mapped[int | None] = mapped_column()
    assignee_id: Mapped[int | None] = mapped_column()
    restricted: Mapped[bool] = mapped_column()
    received: Mapped[int] = mapped_column(default=0)
    first_responses: Mapped[int] = mapped_column(default=0)
    first_response_met: Mapped[int] = mapped_column(default=0)
    resolved: Mapped[int] = mapped_column(default=0)
    resolution_met: Mapped[int] = mapped_column(default=0)


class InquiryTime(Model):
    __tablename__ = "report_inquiry_times"
    # PostgreSQL: the columns the response times read without a content filter, for index-only scans.
    __table_args__ = (Index("ix_report_inquiry_times_measure_day", "measure", "day", postgresql_include=[
        "priority", "topic_id", "restricted", "assignee_id", "minutes", "met"]),)

    inquiry_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # no foreign key, as above
    measure: Mapped[str] = mapped_column(String(16), primary_key=True)  # first_response | resolution
    day: Mapped[date] = mapped_column(Date)  # the local day of the first response or resolution
    minutes: Mapped[int] = mapped_column()  # business minutes from receipt
    met: Mapped[bool] = mapped_column()
    channel: Mapped[str] = mapped_column(String(16))
    topic_id: Mapped[int | None] = mapped_column()
    organisation_kind: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(2))
    trusted_partner: Mapped[bool] = mapped_column()
    priority: Mapped[str] = mapped_column(String(16))
    assignee_id: Mapped[int | None] = mapped_column()
    restricted: Mapped[bool] = mapped_column()  # one by one, as in DailyRollup


class RolledDay(Model):
    __tablename__ = "report_rolled_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    rolled_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RollupState(Model):
    __tablename__ = "report_rollup_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # one row, id 1
    changes_checked_at: Mapped[datetime] = mapped_column(UTCDateTime())
