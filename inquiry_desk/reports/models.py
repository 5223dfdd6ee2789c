"""The daily roll-up: inquiries counted per local day and per the dimensions the dashboard filters on.

One row per (day, channel, topic, organisation kind, language, trusted, priority, assignee,
restricted) that had anything that day: inquiries received, first responses (and how many met
their target), resolutions (and how many met theirs). Kept by the ``report_rollup`` job (yesterday
and today) and rebuilt for any period with ``flask reports rollup``.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Index, String
from sqlalchemy.orm import Mapped, mapped_column

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
    restricted: Mapped[bool] = mapped_column()
    received: Mapped[int] = mapped_column(default=0)
    first_responses: Mapped[int] = mapped_column(default=0)
    first_response_met: Mapped[int] = mapped_column(default=0)
    resolved: Mapped[int] = mapped_column(default=0)
    resolution_met: Mapped[int] = mapped_column(default=0)
