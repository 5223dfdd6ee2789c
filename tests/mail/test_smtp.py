"""The SMTP backend against a real SMTP server on loopback (aiosmtpd): batches, 4xx, 5xx, outages, login."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

import pytest

from inquiry_desk.core.extensions import db
from inquiry_desk.mail import services as mail
from inquiry_desk.mail.models import OutgoingEmail
from inquiry_desk.mail.worker import Sender, Settings

from ..helpers import inquiry_form_data
from .smtp_server import SmtpSink, running_sink
from .support import MINUTE, T0, queue, reload

pytestmark = pytest.mark.allow_smtp

GREYLISTED = "greylisted@example.net"


@pytest.fixture
def app(app_factory, smtp_sink: SmtpSink):
    app = app_factory(**smtp_sink.app_config())
    with app.app_context():
        yield app


def queue_batch(count: int, **options) -> list[OutgoingEmail]:
    rows = [queue(f"batch:{n}", to=f"person{n}@example.net", subject=f"Message {n}", **options) for n in range(count)]
    db.session.commit()
    return rows


def test_a_batch_goes_over_one_connection(app, smtp_sink: SmtpSink) -> None:
    rows = queue_batch(4, html="<p>Hello</p>")
    french = queue("batch:fr", to="helene@example.net", subject="Réponse à votre demande — été",
                   text="Bonjour Hélène,\nÇa avance.\n", language="fr")
    db.session.commit()
    assert mail.deliver_due(T0) == mail.DeliveryReport(sent=5)
    assert smtp_sink.sessions == 1
    assert {item.session for item in smtp_sink.received} == {1}
    assert smtp_sink.recipients() == [row.to_address for row in rows] + ["helene@example.net"]
    assert [m["Message-ID"] for m in smtp_sink.messages] == [row.message_id for row in [*rows, french]]
    assert all(item.mail_from == "inquiries@example.org" for item in smtp_sink.received)  # envelope sender
    received = smtp_sink.messages[-1]
    assert received["Subject"] == "Réponse à votre demande — été"
    body = received.get_body(("plain",)).get_content()
    assert body.replace("\r\n", "\n") == "Bonjour Hélène,\nÇa avance.\n"  # CRLF on the wire
    assert all(reload(row.id).status == "sent" for row in [*rows, french])


@pytest.mark.parametrize("stage", ["rcpt", "data"])
def test_a_4xx_is_retried_later_and_then_succeeds(app, smtp_sink: SmtpSink, stage: str, caplog) -> None:
    caplog.set_level(logging.INFO)
    smtp_sink.answer(stage, f"451 4.7.1 <{GREYLISTED}>: Recipient address rejected: greylisted", to=GREYLISTED)
    before = queue("batch:before", to="farida@example.net")
    greylisted = queue("batch:greylisted", to=GREYLISTED)
    after = queue("batch:after", to="amir@example.net")
    db.session.commit()

    assert mail.deliver_due(T0) == mail.DeliveryReport(sent=2, retrying=1)
    assert smtp_sink.sessions == 1  # the refusal did not cost the connection
    assert smtp_sink.recipients() == ["farida@example.net", "amir@example.net"]
    row = reload(greylisted.id)
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1, T0 + MINUTE)
    reason = "recipient" if stage == "rcpt" else "message"
    assert row.last_error == f"TemporaryDeliveryError 451: the mail server refused the {reason}"
    ours = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("inquiry_desk"))
    assert "451" in ours and GREYLISTED not in ours  # logged, without the address

    smtp_sink.clear_answers()
    assert mail.deliver_due(T0 + timedelta(seconds=30)) == mail.DeliveryReport()  # not due yet
    assert mail.deliver_due(T0 + MINUTE) == mail.DeliveryReport(sent=1)
    assert smtp_sink.recipients() == ["farida@example.net", "amir@example.net", GREYLISTED]
    row = reload(greylisted.id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    assert {reload(before.id).status, reload(after.id).status} == {"sent"}


@pytest.mark.parametrize("stage", ["rcpt", "data"])
def test_a_5xx_fails_at_once_with_its_code(app, smtp_sink: SmtpSink, stage: str) -> None:
    smtp_sink.answer(stage, "550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown",
                     to="nobody@example.net")
    bounced, fine = queue("cause:bounced", to="nobody@example.net"), queue("cause:fine")
    db.session.commit()
    assert mail.deliver_due(T0) == mail.DeliveryReport(sent=1, failed=1)
    row = reload(bounced.id)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error.startswith("PermanentDeliveryError 550: ") and "nobody" not in row.last_error
    assert [r.id for r in mail.failed_emails()] == [bounced.id]
    smtp_sink.clear_answers()
    assert mail.sweep_outbox(T0 + 60 * MINUTE) == mail.DeliveryReport()  # never retried
    assert smtp_sink.recipients() == [fine.to_address]


def test_server_down_is_retried_until_it_is_back(app, smtp_sink: SmtpSink) -> None:
    rows = queue_batch(3)
    smtp_sink.stop()
    assert mail.deliver_due(T0) == mail.DeliveryReport(retrying=3)
    for row in rows:
        row = reload(row.id)
        assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1, T0 + MINUTE)
        assert row.last_error == "TemporaryDeliveryError: cannot reach the mail server (ConnectionRefusedError)"

    smtp_sink.start()  # the same port again
    assert mail.sweep_outbox(T0 + MINUTE) == mail.DeliveryReport(sent=3)
    assert smtp_sink.sessions == 1
    assert smtp_sink.recipients() == [row.to_address for row in rows]


def test_a_421_closing_the_connection_does_not_fail_the_rest_of_the_batch(app, smtp_sink: SmtpSink) -> None:
    smtp_sink.answer("rcpt", "421 4.3.2 Service shutting down", to="person1@example.net", times=1)
    rows = queue_batch(3)
    assert mail.deliver_due(T0) == mail.DeliveryReport(sent=2, retrying=1)
    assert smtp_sink.recipients() == ["person0@example.net", "person2@example.net"]
    assert smtp_sink.sessions == 2  # smtplib hung up after the 421: a new connection for the rest
    assert reload(rows[1].id).last_error == "TemporaryDeliveryError 421: the mail server refused the recipient"
    assert mail.deliver_due(T0 + MINUTE).sent == 1


def test_login_when_the_server_requires_it(app_factory) -> None:
    with running_sink(credentials=("desk", "s3cret-password")) as sink:
        app = app_factory(**sink.app_config())
        with app.app_context():
            queue(to="farida@example.net")
            db.session.commit()
            assert mail.deliver_due(T0).sent == 1
        assert sink.logins == ["desk"] and sink.recipients() == ["farida@example.net"]


def test_a_refused_login_is_retried_and_sends_nothing(app_factory) -> None:
    with running_sink(credentials=("desk", "s3cret-password")) as sink:
        app = app_factory(**sink.app_config(SMTP_PASSWORD="wrong-password"))
        with app.app_context():
            row = queue()
            db.session.commit()
            assert mail.deliver_due(T0) == mail.DeliveryReport(retrying=1)
            row = reload(row.id)
            assert row.status == "pending"
            assert row.last_error == "TemporaryDeliveryError 535: the mail server refused the login"
        assert sink.logins == [] and sink.received == []


def test_the_public_form_confirmation_reaches_the_smtp_server(app, smtp_sink: SmtpSink) -> None:
    client = app.test_client()
    response = client.post("/fr/demande", data=inquiry_form_data(language="fr"))
    assert response.status_code == 302
    assert smtp_sink.sessions == 0  # the web process never talks SMTP: a worker sends it
    sender = Sender(app, Settings.from_config(app.config))
    assert sender.run_once().outbox == 1
    sender.close()
    [received] = smtp_sink.received
    assert received.rcpt_tos == ["farida@example.net"]
    assert received.message["Subject"].startswith("Votre demande INQ-")
    assert received.message["Auto-Submitted"] == "auto-replied"
    assert received.message["Content-Language"] == "fr"
    assert "Bonjour Farida Rahimi" in received.message.get_body(("plain",)).get_content()
    assert db.session.scalar(db.select(OutgoingEmail.status)) == "sent"


def test_the_sink_refuses_mail_before_login_when_it_requires_one() -> None:
    """The helper itself: a server that requires AUTH answers 530 to MAIL FROM without it."""
    with running_sink(credentials=("desk", "s3cret-password")) as sink, \
            smtplib.SMTP(sink.host, sink.port, timeout=5) as client:
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail("inquiries@example.org", ["farida@example.net"], b"Subject: x\r\n\r\nx\r\n")
        assert refused.value.smtp_code == 530
        assert sink.received == [] and sink.sessions == 1
