"""Outgoing mail in /metrics: the outbox backlog, read from the database at each scrape."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select

from inquiry_desk.core.extensions import db
from inquiry_desk.core.metrics import register_database_reader
from inquiry_desk.mail.models import EmailStatus, OutgoingEmail

BACKLOG_STATUSES = (EmailStatus.PENDING.value, EmailStatus.FAILED.value)


def outbox_backlog() -> Iterator[Metric]:
    backlog = GaugeMetricFamily("inquiry_desk_outbox_backlog", "Outgoing emails not sent, by status.",
                                labels=["status"])
    counts = {status: count for status, count in db.session.execute(
        select(OutgoingEmail.status, func.count())
        .where(OutgoingEmail.status.in_(BACKLOG_STATUSES))
        .group_by(OutgoingEmail.status)
    )}
    for status in BACKLOG_STATUSES:
        backlog.add_metric([status], counts.get(status, 0))
    yield backlog


register_database_reader(outbox_backlog)
