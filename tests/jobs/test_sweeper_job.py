"""The outbox sweeper job against a real SMTP server: a 4xx is retried, and in the end given up on."""

from __future__ import annotations

from datetime import timedelta

import pytest

from inquiry_desk.core.extensions import db
from inquiry_desk.jobs.runner import run_job

from ..mail.smtp_server import SmtpSink, smtp_sink  # noqa: F401
from ..mail.support import T0, queue, reload

pytestmark = pytest.mark.allow_smtp
GREYLISTED = "greylisted@example.net"


@pytest.fixture
def app(app_factory, smtp_sink: SmtpSink):  # noqa: F811
    app = app_factory(**smtp_sink.app_config(), MAIL_GIVE_UP_HOURS=1)
    with app.app_context():
        yield app


def test_the_sweeper_retries_a_4xx_then_delivers(app, smtp_sink: SmtpSink) -> None:  # noqa: F811
    row_id = queue("sweep:1", to=GREYLISTED, now=T0).id
    db.session.commit()
    smtp_sink.answer("rcpt", f"451 4.7.1 <{GREYLISTED}>: greylisted", to=GREYLISTED, times=1)
    first = run_job("outbox_sweep", occurrence=f"outbox_sweep@{T0.isoformat()}", now=T0)
    assert first.outcome == "ok" and "retrying 1" in first.summary
    row = reload(row_id)
    assert row.status == "pending" and row.attempts == 1 and row.next_attempt_at > T0
    later = row.next_attempt_at
    second = run_job("outbox_sweep", occurrence=f"outbox_sweep@{later.isoformat()}", now=later)
    assert "sent 1" in second.summary and reload(row_id).status == "sent"
    assert [message["To"] for message in smtp_sink.messages] == [GREYLISTED]


def test_the_sweeper_gives_up_in_the_end(app, smtp_sink: SmtpSink) -> None:  # noqa: F811
    row_id = queue("sweep:2", to=GREYLISTED, now=T0).id
    db.session.commit()
    smtp_sink.answer("rcpt", f"451 4.7.1 <{GREYLISTED}>: greylisted", to=GREYLISTED)
    now = T0
    for _ in range(20):
        run_job("outbox_sweep", occurrence=f"outbox_sweep@{now.isoformat()}", now=now)
        row = reload(row_id)
        if row.status != "pending":
            break
        now = row.next_attempt_at
    assert row.status == "failed" and row.attempts > 1
    assert now - T0 >= timedelta(hours=1)  # retried until MAIL_GIVE_UP_HOURS, then failed
    assert "451" in row.last_error and smtp_sink.messages == []
