"""What service targets are computed from: the targets per priority and topic, the team's
working week, and the days it adds as closed."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inquiry_desk.core.extensions import Model
from inquiry_desk.inquiries.models import Topic


class ServiceTarget(Model):
    """Time to first response and to resolution, in business hours, per priority and optionally topic."""

    __tablename__ = "service_targets"
    __table_args__ = (UniqueConstraint("priority", "topic_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    priority: Mapped[str] = mapped_column(String(16))
    # Empty: the target for every topic without one of its own.
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"))
    first_response_minutes: Mapped[int]
    resolution_minutes: Mapped[int]

    topic: Mapped[Topic | None] = relationship()


class TeamCalendar(Model):
    """The team's working week (one row). Statutory holidays come from the ``holidays`` package."""

    __tablename__ = "team_calendar"

    id: Mapped[int] = mapped_column(primary_key=True)
    # ISO weekdays the team works, "1,2,3,4,5" = Monday to Friday.
    working_days: Mapped[str] = mapped_column(String(20), default="1,2,3,4,5")
    opens_minute: Mapped[int] = mapped_column(default=8 * 60 + 30)  # minutes after midnight, team time
    closes_minute: Mapped[int] = mapped_column(default=16 * 60 + 30)
    # Province or territory whose statutory holidays apply, besides the federal ones.
    subdivision: Mapped[str] = mapped_column(String(2), default="ON")
    # Bumped on every change of the calendar, closures or targets: due times are then recomputed.
    version: Mapped[int] = mapped_column(default=1)


class Closure(Model):
    """A day the team adds as closed (beyond statutory holidays)."""

    __tablename__ = "closures"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    reason: Mapped[str] = mapped_column(String(200))
