"""Outgoing mail in /metrics.

From the database at each scrape (right whichever process answers): the outbox backlog,
bulk deliveries by status (queued, sending, failed) and the messages accepted in the last
minute per second. Counted by the worker process itself (``flask mail worker
--metrics-port``): messages sent and SMTP answers by class (2xx, 4xx, 5xx, and "none" when
the server could not be reached).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.core.metrics import register_database_reader
from inquiry_desk.mail.models import Delivery, DeliveryStatus, EmailStatus, OutgoingEmail

BACKLOG_STATUSES = (EmailStatus.PENDING.value, EmailStatus.FAILED.value)
DELIVERY_STATUSES = (DeliveryStatus.QUEUED.value, DeliveryStatus.SENDING.value, DeliveryStatus.FAILED.value)
RATE_WINDOW = timedelta(minutes=1)

MESSAGES_SENT = Counter("inquiry_desk_mail_messages_sent", "Messages the SMTP server accepted, by kind.", ["kind"])
SMTP_ANSWERS = Counter("inquiry_desk_mail_smtp_answers", "SMTP answers to messages, by class.", ["answer"])


_ANSWER_CLASSES = {name: SMTP_ANSWERS.labels(answer=name) for name in ("2xx", "4xx", "5xx", "none")}
BULK_SENT = MESSAGES_SENT.labels(kind="bulk")


def count_answer(code: int | None) -> None:
    _ANSWER_CLASSES.get(f"{code // 100}xx" if code else "none", _ANSWER_CLASSES["none"]).inc()


def count_outbox(report: Any) -> None:
    if report.sent:
        MESSAGES_SENT.labels(kind="transactional").inc(report.sent)
        SMTP_ANSWERS.labels(answer="2xx").inc(report.sent)


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


def deliveries() -> Iterator[Metric]:
    gauge = GaugeMetricFamily("inquiry_desk_mail_deliveries", "Bulk deliveries not sent, by status.",
                              labels=["status"])
    counts = {status: count for status, count in db.session.execute(
        select(Delivery.status, func.count()).where(Delivery.status.in_(DELIVERY_STATUSES))
        .group_by(Delivery.status))}
    for status in DELIVERY_STATUSES:
        gauge.add_metric([status], counts.get(status, 0))
    yield gauge
    recent = db.session.scalar(select(func.count()).where(
        Delivery.status == DeliveryStatus.SENT.value, Delivery.accepted_at > utcnow() - RATE_WINDOW)) or 0
    rate = GaugeMetricFamily("inquiry_desk_mail_sent_per_second",
                             "Bulk messages accepted per second over the last minute (all workers).")
    rate.add_metric([], recent / RATE_WINDOW.total_seconds())
    yield rate


register_database_reader(outbox_backlog)
register_database_reader(deliveries)
