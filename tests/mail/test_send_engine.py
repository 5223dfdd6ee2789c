"""The send engine against a real SMTP server (aiosmtpd on loopback), on SQLite and PostgreSQL.

One copy per address, suppressed addresses left out, 4xx retried, 5xx failed and
suppressed, an outage survived (R4), pause, resume and cancel, transactional mail first,
leases taken over, the shared rate limit, progress, and the hung server that never
stalls the web (R8).
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import event, literal, select, union_all

from inquiry_desk.core.extensions import db
from inquiry_desk.mail import composer, sending, signals
from inquiry_desk.mail import services as mail
from inquiry_desk.mail.backends import SMTPUTF8_MISSING
from inquiry_desk.mail.claims import claim, reserve_slots
from inquiry_desk.mail.errors import SendStateError
from inquiry_desk.mail.models import Delivery, MailSend
from inquiry_desk.mail.worker import Settings

from ..conftest import is_postgres
from ..helpers import inquiry_form_data
from .send_support import drain, make_send, received_counts, statuses, worker
from .smtp_server import SmtpSink, running_sink, silent_listener
from .support import MINUTE, T0, queue, reload

pytestmark = pytest.mark.allow_smtp

HOUR = timedelta(hours=1)


@pytest.fixture
def app(app_factory, smtp_sink: SmtpSink):
    app = app_factory(**smtp_sink.app_config(MAIL_RETRY_FIRST_SECONDS=60))
    with app.app_context():
        yield app


def people(count: int, prefix: str = "person") -> list[str]:
    return [f"{prefix}{n}@example.net" for n in range(count)]


def test_one_copy_per_address_across_overlapping_lists(app, smtp_sink: SmtpSink) -> None:
    send = sending.create_send("bulletin:1", make_send.__globals__["CONTENT"], now=T0)
    first = sending.add_recipients(send, [sending.Recipient(a, "en", 1) for a in people(30)], now=T0)
    # The same people again, spelt differently, on a second and a third list; some new ones.
    second = sending.add_recipients(send, [sending.Recipient(f"  {a.upper()} ", "en", 2) for a in people(20)]
                                    + [sending.Recipient(a, "fr", 2) for a in people(5, "new")], now=T0)
    third = sending.add_recipients(send, [sending.Recipient(a, "en", 3) for a in people(10)] * 2, now=T0)
    assert (first.added, first.duplicate) == (30, 0)
    assert (second.added, second.duplicate) == (5, 20)
    assert (third.added, third.duplicate) == (0, 20)
    sending.start_send(send, now=T0)
    db.session.commit()

    result = drain(worker(app))
    assert result.sent == 35
    counts = received_counts(smtp_sink)
    assert set(counts) == set(people(30)) | set(people(5, "new")) and set(counts.values()) == {1}
    assert smtp_sink.sessions == 1  # one connection for the whole send
    assert statuses(send) == {"sent": 35}
    assert db.session.get(MailSend, send.id).left_out_duplicate == 40


def test_recipients_from_a_query_in_one_statement(app, smtp_sink: SmtpSink) -> None:
    """The mailing lists hand a query (their unsubscribed and unconfirmed already left out): INSERT … SELECT."""
    sending.suppress("blocked@example.net", "bounce", now=T0)
    rows = [select(literal("a@example.net").label("address"), literal("en").label("language"),
                   literal(1).label("subscription_id")),
            select(literal("A@Example.net "), literal("en"), literal(2)),
            select(literal("b@example.net"), literal("fr"), literal(3)),
            select(literal("blocked@example.net"), literal("en"), literal(4))]
    send = sending.create_send("bulletin:2", make_send.__globals__["CONTENT"], now=T0)
    added = sending.add_recipients_from_select(send, union_all(*rows).subquery().select(), now=T0)
    assert (added.added, added.suppressed, added.duplicate) == (2, 1, 1)
    sending.start_send(send, now=T0)
    db.session.commit()
    drain(worker(app))
    assert sorted(received_counts(smtp_sink)) == ["a@example.net", "b@example.net"]
    french = next(m for m in smtp_sink.messages if m["To"] == "b@example.net")
    assert french["Subject"] == "Bulletin : mise à jour du printemps" and french["Content-Language"] == "fr"


def test_suppressed_addresses_are_left_out_and_counted(app, smtp_sink: SmtpSink) -> None:
    sending.suppress("Person3@example.net", "unsubscribed", now=T0)
    send = make_send(people(5))
    assert db.session.get(MailSend, send.id).left_out_suppressed == 1
    drain(worker(app))
    assert "person3@example.net" not in received_counts(smtp_sink) and len(smtp_sink.received) == 4


def test_the_message_is_built_once_per_language_with_personal_links(app, smtp_sink: SmtpSink, monkeypatch) -> None:
    # Put back afterwards, not removed: bulletins' own link maker is registered when the app is imported, and
    # the tests after this one in the same process (tests/bulletins in its CI shard) need it.
    monkeypatch.setitem(composer._LINK_MAKERS, "bulletin",
                        lambda r: {"unsubscribe_url": f"https://desk.test/u/{r.delivery_id}?a=1&b=2"})
    send = make_send([("amir@example.net", "en"), ("helene@example.net", "fr")])
    drain(worker(app))
    english, french = sorted(smtp_sink.messages, key=lambda m: m["To"])
    ids = dict(db.session.execute(select(Delivery.address, Delivery.id).where(Delivery.send_id == send.id)).all())
    link = f"https://desk.test/u/{ids['amir@example.net']}?a=1&b=2"
    assert english["List-Unsubscribe"] == f"<{link}>"
    assert english["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert english["Message-ID"] == f"<send-{send.id}.{ids['amir@example.net']}@example.org>"
    assert f"Unsubscribe: {link}" in english.get_body(("plain",)).get_content()
    assert 'href="https://desk.test/u/' in english.get_body(("html",)).get_content()
    assert "&amp;b=2" in english.get_body(("html",)).get_content()  # escaped in HTML
    assert "Désabonnement : https://desk.test/u/" in french.get_body(("plain",)).get_content()
    assert english["Precedence"] == "bulk" and english["From"] == "Inquiry Desk <inquiries@example.org>"


def test_a_4xx_is_retried_with_backoff_until_it_succeeds(app, smtp_sink: SmtpSink) -> None:
    smtp_sink.answer("rcpt", "451 4.7.1 Greylisted, try later", to="person1@example.net", times=2)
    send = make_send(people(3))
    sender = worker(app)
    assert drain(sender).sent == 2
    row = db.session.scalar(select(Delivery).where(Delivery.address == "person1@example.net"))
    assert (row.status, row.attempts, row.smtp_code) == ("queued", 1, 451)
    assert T0 + timedelta(seconds=30) <= row.next_attempt_at <= T0 + MINUTE  # 50–100 % of a minute: jitter
    assert drain(sender, T0 + timedelta(seconds=20)).claimed == 0  # not due yet
    drain(sender, T0 + 2 * MINUTE)
    db.session.expire_all()
    assert (row.status, row.attempts) == ("queued", 2)
    assert row.next_attempt_at <= T0 + 4 * MINUTE  # the second wait is longer, at most 2 minutes
    drain(sender, T0 + 5 * MINUTE)
    assert statuses(send) == {"sent": 3}
    assert received_counts(smtp_sink)["person1@example.net"] == 1


def test_a_5xx_fails_and_a_hard_bounce_suppresses_the_address(app, smtp_sink: SmtpSink) -> None:
    smtp_sink.answer("rcpt", "550 5.1.1 No such user", to="person0@example.net")
    smtp_sink.answer("data", "554 5.6.0 Message refused", to="person2@example.net")
    bounces = []

    def on_bounce(sender, *, address, message_id, now) -> None:
        bounces.append(address)

    signals.bounced.connect(on_bounce)
    try:
        send = make_send(people(3))
        result = drain(worker(app))
    finally:
        signals.bounced.disconnect(on_bounce)
    assert (result.sent, result.failed) == (1, 2)
    assert statuses(send) == {"sent": 1, "failed": 2}
    failed = {r.address: r for r in db.session.scalars(select(Delivery).where(Delivery.status == "failed"))}
    assert failed["person0@example.net"].smtp_code == 550
    assert failed["person0@example.net"].last_error.startswith("PermanentDeliveryError 550")
    assert "person0" not in failed["person0@example.net"].last_error
    assert bounces == ["person0@example.net"]
    assert sending.is_suppressed("PERSON0@example.net") and not sending.is_suppressed("person2@example.net")
    assert drain(worker(app), T0 + HOUR).claimed == 0  # never retried


def test_the_server_down_for_part_of_the_send_then_back_delivers_everything(app, smtp_sink: SmtpSink) -> None:
    """R4: an outage in the middle of a send; with the server back, every address gets one copy."""
    send = make_send(people(120))
    sender = worker(app, batch=40)
    assert sender.run_once(T0).sent == 40
    smtp_sink.stop()
    sender.close()  # the server went away between two batches
    down = sender.run_once(T0)
    assert (down.sent, down.retrying) == (0, 1) and down.released == 39  # the rest of the batch waits too
    smtp_sink.start()
    later = T0
    for _ in range(20):
        later += 10 * MINUTE
        drain(sender, later)
        if statuses(send) == {"sent": 120}:
            break
    assert statuses(send) == {"sent": 120}
    counts = received_counts(smtp_sink)
    assert len(counts) == 80 and set(counts.values()) == {1}  # the 80 after the outage, each once


def test_pause_resume_and_cancel(app, smtp_sink: SmtpSink) -> None:
    send = make_send(people(100))
    sender = worker(app, batch=30)
    assert sender.run_once(T0).sent == 30
    sending.pause_send(db.session.get(MailSend, send.id), now=T0)
    db.session.commit()
    assert drain(sender, T0).claimed == 0
    progress = sending.send_progress(db.session.get(MailSend, send.id), now=T0)
    assert (progress.status, progress.counts["sent"], progress.counts["queued"]) == ("paused", 30, 70)

    sending.resume_send(db.session.get(MailSend, send.id), now=T0)
    db.session.commit()
    assert sender.run_once(T0).sent == 30
    assert len(smtp_sink.received) == 60 and set(received_counts(smtp_sink).values()) == {1}

    skipped = sending.cancel_send(db.session.get(MailSend, send.id), now=T0)
    db.session.commit()
    assert skipped == 40
    assert drain(sender, T0).claimed == 0
    assert statuses(send) == {"sent": 60, "skipped": 40}
    with pytest.raises(SendStateError):
        sending.resume_send(db.session.get(MailSend, send.id), now=T0)


def test_a_pause_seen_in_the_middle_of_a_batch_puts_the_rest_back(app, smtp_sink: SmtpSink) -> None:
    send = make_send(people(10))
    sender = worker(app)
    with db.engine.connect() as connection:
        claimed = claim(connection, T0, 10, 300)
        connection.commit()
    assert len(claimed) == 10
    sending.pause_send(db.session.get(MailSend, send.id), now=T0)
    db.session.commit()
    # Its claimed rows: the send is paused, so a resume puts them back at once (their worker let them go).
    sending.resume_send(db.session.get(MailSend, send.id), now=T0 + 10 * MINUTE)
    db.session.commit()
    assert drain(sender, T0 + 10 * MINUTE).sent == 10
    assert set(received_counts(smtp_sink).values()) == {1}


def test_transactional_mail_overtakes_a_running_bulk_send(app, smtp_sink: SmtpSink) -> None:
    make_send(people(200))
    sender = worker(app, batch=50)
    sender.run_once(T0)
    queue("inquiry:1:confirmation", to="farida@example.net")
    db.session.commit()
    result = sender.run_once(T0)
    assert result.outbox == 1
    order = smtp_sink.recipients()
    assert order.index("farida@example.net") == 50  # right after the batch in flight, before the 150 others
    drain(sender, T0)
    assert len(smtp_sink.received) == 201


def test_a_dead_workers_claim_is_taken_over_when_its_lease_ends(app, smtp_sink: SmtpSink) -> None:
    send = make_send(people(5))
    with db.engine.connect() as connection:
        assert len(claim(connection, T0, 5, 60)) == 5  # a worker took them, then died
        connection.commit()
    sender = worker(app)
    assert sender.run_once(T0 + timedelta(seconds=59)).claimed == 0  # still leased
    assert sender.run_once(T0 + timedelta(seconds=61)).sent == 5
    assert statuses(send) == {"sent": 5}
    rows = db.session.scalars(select(Delivery).where(Delivery.send_id == send.id)).all()
    assert {(row.accepted_at, row.attempts, row.smtp_code) for row in rows} == {(T0 + timedelta(seconds=61), 1, 250)}


def test_two_claims_never_take_the_same_rows(app) -> None:
    make_send(people(30))
    with db.engine.connect() as first, db.engine.connect() as second:
        a = {row.id for row in claim(first, T0, 20, 300)}
        first.commit()
        b = {row.id for row in claim(second, T0, 20, 300)}
        second.commit()
    assert len(a) == 20 and len(b) == 10 and not a & b


def test_the_rate_limit_is_shared_by_every_worker(app) -> None:
    """Slots are reserved in one row: two workers asking at once get consecutive windows."""
    with db.engine.connect() as one, db.engine.connect() as two:
        starts = []
        for connection, count, now in ((one, 10, 1000.0), (two, 10, 1000.0), (one, 5, 1000.2), (two, 1, 2000.0)):
            starts.append(reserve_slots(connection, count, 20.0, now))
            connection.commit()
    # Consecutive windows; an idle stretch does not bank credit for a burst later.
    assert starts == [1000.0, 1000.5, 1001.0, 2000.0]


def test_a_rate_limited_worker_keeps_the_pace(app_factory, smtp_sink: SmtpSink) -> None:
    app = app_factory(**smtp_sink.app_config(MAIL_RATE_PER_SECOND=20))
    with app.app_context():
        make_send(people(20))
        sender = worker(app)
        began = time.monotonic()
        drain(sender, T0)
        elapsed = time.monotonic() - began
    assert len(smtp_sink.received) == 20
    assert elapsed >= 0.9  # 20 messages at 20 per second: at least 19 gaps of 50 ms


def test_progress_of_a_send(app, smtp_sink: SmtpSink) -> None:
    send = make_send(people(10))
    worker(app, batch=4).run_once(T0)
    progress = sending.send_progress(db.session.get(MailSend, send.id), now=T0 + timedelta(seconds=10))
    assert (progress.total, progress.counts["sent"], progress.counts["queued"], progress.done) == (10, 4, 6, 4)
    assert progress.rate_per_second == pytest.approx(4 / 60)
    assert progress.seconds_left == pytest.approx(6 / (4 / 60))
    drain(worker(app), T0)
    worker(app).run_once(T0)  # finds nothing: marks the send done
    db.session.expire_all()
    assert db.session.get(MailSend, send.id).status == "done"


def test_a_send_key_is_used_once_and_recipients_only_before_the_start(app) -> None:
    send = make_send(["a@example.net"])
    with pytest.raises(Exception, match="already exists"):
        sending.create_send("bulletin:1", make_send.__globals__["CONTENT"], now=T0)
    db.session.rollback()
    with pytest.raises(SendStateError):
        sending.add_recipients(db.session.get(MailSend, send.id), [sending.Recipient("b@example.net", "en")], now=T0)


def test_a_lease_shorter_than_the_smtp_timeout_allows_is_refused(app_factory, smtp_sink: SmtpSink) -> None:
    app = app_factory(**smtp_sink.app_config(SMTP_TIMEOUT=30, MAIL_WORKER_LEASE_SECONDS=60))
    with pytest.raises(ValueError, match="at least 4 times SMTP_TIMEOUT"):
        Settings.from_config(app.config)


@pytest.fixture
def hung_server():
    """A listener on loopback that accepts connections and never says a word."""
    with silent_listener() as port:
        yield port


def test_a_hung_mail_server_never_stalls_the_web(app_factory, hung_server: int) -> None:
    """R8: submissions and /healthz answer at once while the worker waits for the silent server."""
    timeout = 2
    app = app_factory(MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=hung_server, SMTP_TIMEOUT=timeout,
                      MAIL_WORKER_LEASE_SECONDS=10)
    client = app.test_client()
    for number in range(3):
        with app.app_context():
            data = inquiry_form_data(email=f"visitor{number}@example.net")
        # A request that waited for the silent server would last at least its timeout; the bar is that, not a
        # second (on a loaded 2-core machine, an ordinary submission has taken over a second).
        began = time.monotonic()
        response = client.post("/en/inquiry", data=data)
        assert response.status_code == 302 and time.monotonic() - began < timeout
        began = time.monotonic()
        assert client.get("/healthz").status_code == 200 and time.monotonic() - began < timeout
    with app.app_context():
        sender = worker(app)
        began = time.monotonic()
        result = sender.run_once()
        waited = time.monotonic() - began
        sender.close()
    # One timeout for the first message; the others wait their turn without a connection of their own
    # (three connections would wait three timeouts).
    assert result.outbox == 3 and waited < 2 * timeout
    assert Settings.from_config(app.config).lease_seconds >= 4 * 2


@pytest.mark.skipif(not is_postgres(), reason="NOTIFY is PostgreSQL's")
def test_a_commit_that_queues_an_email_wakes_a_waiting_worker(app) -> None:
    from inquiry_desk.mail.wakeup import Waiter

    waiter = Waiter(db.engine, threading.Event())
    try:
        assert waiter.wait(0.1) is False  # listening now
        queue("inquiry:5:confirmation")
        assert waiter.wait(0.3) is False  # not before the commit
        db.session.commit()
        began = time.monotonic()
        assert waiter.wait(5) is True
        assert time.monotonic() - began < 1
        queue("inquiry:6:confirmation")
        db.session.rollback()
        assert waiter.wait(0.3) is False  # a rolled-back email wakes no one
    finally:
        waiter.close()


def test_metrics_show_deliveries_rate_and_smtp_answers(app_factory, smtp_sink: SmtpSink) -> None:
    from prometheus_client import REGISTRY

    app = app_factory(**smtp_sink.app_config(METRICS_TOKEN="metrics-token-for-tests"))
    before = REGISTRY.get_sample_value("inquiry_desk_mail_smtp_answers_total", {"answer": "5xx"}) or 0
    smtp_sink.answer("rcpt", "550 5.1.1 No such user", to="person0@example.net")
    with app.app_context():
        make_send(people(4))
        sender = worker(app, batch=2)
        sender.run_once()  # real time: the rate counts what was accepted in the last minute
        sender.close()
    body = app.test_client().get("/metrics", headers={"Authorization": "Bearer metrics-token-for-tests"}
                                 ).get_data(as_text=True)
    assert 'inquiry_desk_mail_deliveries{status="queued"} 2.0' in body
    assert 'inquiry_desk_mail_deliveries{status="failed"} 1.0' in body
    assert "inquiry_desk_mail_sent_per_second 0.016" in body  # one accepted in the last minute
    after = REGISTRY.get_sample_value("inquiry_desk_mail_smtp_answers_total", {"answer": "5xx"})
    assert after == before + 1


def test_the_development_servers_worker_thread_sends_within_a_second(app_factory, smtp_sink: SmtpSink) -> None:
    """`make run`: no worker process; a thread of the server polls every second."""
    from inquiry_desk.jobs.scheduler import should_start_in_process
    from inquiry_desk.mail.worker import start_in_process

    app = app_factory(**smtp_sink.app_config(MAIL_WORKER_POLL_SECONDS=0.2))
    app.testing = False
    app.config["MAIL_WORKER_IN_PROCESS"] = True
    run_command = type("Context", (), {"info_name": "run", "params": {"reload": False}})()
    assert should_start_in_process(app, {}, lambda: run_command, flag="MAIL_WORKER_IN_PROCESS")
    app.config["MAIL_WORKER_IN_PROCESS"] = False
    assert not should_start_in_process(app, {}, lambda: run_command, flag="MAIL_WORKER_IN_PROCESS")

    stop, thread = start_in_process(app)
    try:
        with app.app_context():
            queue("inquiry:7:confirmation", to="farida@example.net")
            db.session.commit()
        deadline = time.monotonic() + 5
        while not smtp_sink.received and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(10)
    assert smtp_sink.recipients() == ["farida@example.net"] and not thread.is_alive()


def test_the_send_command_shows_progress_and_pauses_resumes_and_cancels(app, smtp_sink: SmtpSink) -> None:
    make_send([*people(6), "PERSON1@example.net"])
    runner = app.test_cli_runner()
    result = runner.invoke(args=["mail", "send", "status", "bulletin:1"])
    assert result.exit_code == 0
    assert "bulletin:1: sending; queued 6, sending 0, sent 0" in result.output and "1 repeated" in result.output
    assert "paused" in runner.invoke(args=["mail", "send", "pause", "bulletin:1"]).output
    refused = runner.invoke(args=["mail", "send", "pause", "bulletin:1"])
    assert refused.exit_code == 1 and "send_state" in refused.output
    assert "sending" in runner.invoke(args=["mail", "send", "resume", "bulletin:1"]).output
    assert "skipped 6" in runner.invoke(args=["mail", "send", "cancel", "bulletin:1"]).output
    assert runner.invoke(args=["mail", "send", "status", "bulletin:9"]).exit_code == 1


# --- transactional mail beside a bulk send, SMTPUTF8, claims that skip paused sends, waking -----

def _until(condition, seconds: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_confirmation_never_waits_behind_a_rate_limited_bulk_send(app_factory, smtp_sink: SmtpSink) -> None:
    """At 10 bulk messages a second a batch lasts a second; the confirmation leaves within its rate-limit
    waits, outside the bulk limit, and the bulk send carries on."""
    app = app_factory(**smtp_sink.app_config(MAIL_RATE_PER_SECOND=10))
    with app.app_context():
        make_send(people(40))
        sender = worker(app)
        thread = threading.Thread(target=sender.run, daemon=True)
        thread.start()
        try:
            _until(lambda: len(smtp_sink.received) >= 3)
            queue("inquiry:1:confirmation", to="farida@example.net")
            db.session.commit()
            committed, sent_before = time.monotonic(), len(smtp_sink.received)
            _until(lambda: "farida@example.net" in smtp_sink.recipients())
            latency = time.monotonic() - committed
            order = smtp_sink.recipients()
        finally:
            sender.stop.set()
            thread.join(10)
    assert "farida@example.net" in order, "the confirmation never left"
    # Counted in bulk messages, not seconds (a loaded machine stretches seconds): the outbox is looked at every
    # 0.25 s, so at 10 a second at most a few bulk messages pass it; waiting for the batch's end lets up to 10.
    overtaken_by = order.index("farida@example.net") - sent_before
    assert overtaken_by <= 3, f"{overtaken_by} bulk messages went first ({latency:.2f} s)"
    assert order.index("farida@example.net") < 20  # the bulk send was in its first two batches (of 40)


def test_an_address_outside_ascii_leaves_with_smtputf8(app, smtp_sink: SmtpSink) -> None:
    make_send(["zoé@example.net", ("amir@example.net", "fr")])
    assert drain(worker(app), T0).sent == 2
    received = {item.rcpt_tos[0]: item for item in smtp_sink.received}
    assert received["zoé@example.net"].message["To"] == "zoé@example.net"
    email = queue("inquiry:1:confirmation", to="zoé@example.net")
    db.session.commit()
    assert mail.deliver_due(T0) == mail.DeliveryReport(sent=1)
    assert smtp_sink.received[-1].rcpt_tos == ["zoé@example.net"]
    assert smtp_sink.received[-1].message["Message-ID"] == email.message_id


def test_without_smtputf8_an_address_outside_ascii_fails_clearly(app_factory) -> None:
    with running_sink(smtputf8=False) as sink:
        app = app_factory(**sink.app_config())
        with app.app_context():
            make_send(["zoé@example.net", "amir@example.net"])
            result = drain(worker(app), T0)
            assert (result.sent, result.failed, result.retrying) == (1, 1, 0)  # never retried: it cannot work
            row = db.session.scalar(select(Delivery).where(Delivery.address == "zoé@example.net"))
            assert row is not None and row.status == "failed"
            assert row.last_error == f"PermanentDeliveryError: {SMTPUTF8_MISSING}"
            assert not sending.is_suppressed("zoé@example.net")  # not a bounce
            email = queue("inquiry:1:confirmation", to="zoé@example.net")
            db.session.commit()
            assert mail.deliver_due(T0) == mail.DeliveryReport(failed=1)
            assert reload(email.id).last_error == f"PermanentDeliveryError: {SMTPUTF8_MISSING}"
        assert sink.recipients() == ["amir@example.net"]


def test_claims_never_read_the_rows_of_a_paused_send(app) -> None:
    paused = make_send(people(300, "paused"), key="bulletin:paused")
    sending.pause_send(db.session.get(MailSend, paused.id), now=T0)
    db.session.commit()
    running = make_send(people(5), key="bulletin:running")
    statements: list[tuple[str, object]] = []

    def record(connection, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if "mail_deliveries" in statement:
            statements.append((statement, parameters))

    with db.engine.connect() as connection:
        event.listen(connection, "before_cursor_execute", record)
        claimed = claim(connection, T0, 50, 300)
        connection.commit()
        event.remove(connection, "before_cursor_execute", record)
        assert {row.send_id for row in claimed} == {running.id} and len(claimed) == 5
        assert statements
        for statement, parameters in statements:
            if is_postgres():  # named parameters: each send_id bound is the running send's
                assert isinstance(parameters, dict)
                bound = {value for name, value in parameters.items() if name.startswith("send_id")}
                assert bound == {running.id}
            elif statement.lstrip().upper().startswith("SELECT"):  # the index finds the send's due rows
                plan = " ".join(str(row[-1]) for row in connection.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + statement, parameters))  # type: ignore[arg-type]
                assert "ix_mail_deliveries_send_due (send_id=? AND status=? AND next_attempt_at<?)" in plan
                assert parameters[0] == running.id  # type: ignore[index]


def test_a_commit_that_queues_an_email_wakes_the_worker_thread_of_its_process(app) -> None:
    from inquiry_desk.mail import wakeup

    wakeup.take_local()
    waiter = wakeup.Waiter(db.engine, threading.Event())
    try:
        queue("inquiry:5:confirmation")
        assert waiter.wait(0.3) is False  # not before the commit
        db.session.commit()
        began = time.monotonic()
        assert waiter.wait(5) is True
        assert time.monotonic() - began < 0.2
        queue("inquiry:6:confirmation")
        db.session.rollback()
        assert waiter.wait(0.3) is False  # a rolled-back email wakes no one
    finally:
        waiter.close()
