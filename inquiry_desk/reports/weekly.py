"""The weekly report: every Monday morning, to each active lead (and admin), in their language.

Last week's headline figures (Monday to Sunday in the team's time zone) against the week
before, the inquiries overdue now (the first ``LISTED``, soonest due first; a restricted one's
subject only to those who may read it, as in the digest), and a link to the dashboard showing
last week. Once a week is kept by the outbox: the cause key ``weekly_report:<user id>:<Monday>``
is unique, so a second run on the same week queues nothing more.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from flask_babel import force_locale
from sqlalchemy import func, select

from inquiry_desk.accounts.models import Role, User
from inquiry_desk.core.clock import team_timezone
from inquiry_desk.core.extensions import db
from inquiry_desk.core.urls import external_url
from inquiry_desk.inquiries.access import RESTRICTED_SUBJECT, Reader
from inquiry_desk.inquiries.digest import DigestItem
from inquiry_desk.inquiries.models import OPEN_STATUSES, Inquiry
from inquiry_desk.mail import services as mail
from inquiry_desk.mail.models import OutgoingEmail
from inquiry_desk.mail.rendering import render_email
from inquiry_desk.reports import charts, services
from inquiry_desk.reports.periods import Period

LISTED = 20


def last_week(now: datetime) -> Period:
    today = now.astimezone(team_timezone()).date()
    monday = today - timedelta(days=today.weekday())
    return Period("week", monday - timedelta(days=7), monday, team_timezone())


def send_weekly_reports(now: datetime) -> int:
    """Queue last week's report for every active lead and admin; returns how many were queued."""
    period = last_week(now)
    leads = db.session.scalars(select(User).where(User.active.is_(True), User.role.in_(
        [role.value for role in Role if role.at_least(Role.LEAD)])).order_by(User.id)).all()
    overdue_query = (select(Inquiry).where(Inquiry.status.in_(OPEN_STATUSES), Inquiry.due_at < now,
                                           Inquiry.merged_into_id.is_(None)))
    overdue_count = db.session.scalar(select(func.count()).select_from(overdue_query.subquery())) or 0
    overdue = [DigestItem(reference=i.reference or "", subject=i.subject, due_at=i.due_at,
                          url=external_url("inbox.show", inquiry_id=i.id), id=i.id, restricted=i.restricted,
                          topic_id=i.topic_id, assignee_id=i.assignee_id)
               for i in db.session.scalars(overdue_query.order_by(Inquiry.due_at, Inquiry.id).limit(LISTED))]
    dashboard_url = external_url("reports.dashboard", period="custom", **{
        "from": period.first_day.isoformat(), "to": period.last_day.isoformat()})
    queued = 0
    for user in leads:
        cause_key = f"weekly_report:{user.id}:{period.end_day.isoformat()}"
        if db.session.scalar(select(OutgoingEmail.id).where(OutgoingEmail.cause_key == cause_key)) is not None:
            continue
        language = user.language if user.language in ("en", "fr") else "en"
        reader = Reader(user)
        figures = services.headline(period, services.Scope(reader, now=now), now)
        with force_locale(language):
            rows = charts.headline_rows(figures)
            when = charts.period_label(period)
        hidden = RESTRICTED_SUBJECT[language]
        listed = [item if reader.may_read(item) else replace(item, subject=hidden) for item in overdue]
        rendered = render_email("weekly_report", language, name=user.name, period=when, rows=rows,
                                overdue=listed, overdue_count=overdue_count, dashboard_url=dashboard_url)
        mail.queue_email(cause_key=cause_key, to=user.email, rendered=rendered, language=language,
                         automatic=mail.AUTO_GENERATED, now=now)
        queued += 1
    return queued
