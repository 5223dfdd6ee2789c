"""Email in: a reply threads, a stranger quoting a reference gets an inquiry of their own, a message is stored once."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import func, select

from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import links
from inquiry_desk.inquiries.models import Inquiry, MessageKind, Status
from inquiry_desk.mail.inbound.models import InboundEmail
from inquiry_desk.mail.models import OutgoingEmail

from ...helpers import edit
from ...processes import die_with_parent
from .support import feed, scenario


def _reply(*, sender: str, in_reply_to: str = "", subject: str = "Re: Your inquiry",
           body: str = "Thanks, here is more.", message_id: str = "<reply-1@example.net>") -> bytes:
    headers = [f"From: Someone <{sender}>", "To: inquiries@example.org", f"Subject: {subject}",
               f"Message-ID: {message_id}", "Date: Mon, 30 Nov 2026 10:00:00 -0500", "MIME-Version: 1.0",
               "Content-Type: text/plain; charset=utf-8"]
    if in_reply_to:
        headers += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
    quoted = "\n\nOn Mon, Nov 30, 2026 at 9:00 AM Inquiry Desk <inquiries@example.org> wrote:\n> Your reference\n"
    return ("\r\n".join(headers) + "\r\n\r\n" + body + quoted).encode()


def test_a_reply_by_email_threads_reopens_and_keeps_the_whole_message(app) -> None:
    s = scenario()
    edit(s.inquiry, status=Status.WAITING.value)
    db.session.commit()
    result = feed(_reply(sender="farida@example.net", in_reply_to=s.values["CONFIRMATION_ID"]))
    assert (result.exit_code, result.outcome) == (0, "threaded")
    inquiry = db.session.get(Inquiry, s.inquiry.id)
    assert inquiry is not None and inquiry.status == Status.OPEN.value
    last = inquiry.messages[-1]
    assert last.kind == MessageKind.INBOUND.value and last.channel == "email"
    assert last.body == "Thanks, here is more."  # the quoted history is left out for display
    raw = db.session.get_one(InboundEmail, last.inbound_email_id).raw
    assert b"> Your reference" in raw  # the whole message is kept


def test_the_same_message_twice_is_stored_once(app) -> None:
    s = scenario()
    message = _reply(sender="farida@example.net", in_reply_to=s.values["CONFIRMATION_ID"])
    assert feed(message).status == "taken"
    again = feed(b"Received: from another.example by mx\r\n" + message, source="imap")
    assert (again.status, again.exit_code) == ("duplicate", 0)
    assert db.session.scalar(select(func.count()).select_from(InboundEmail)) == 1
    assert len(db.session.get_one(Inquiry, s.inquiry.id).messages) == 2


def test_a_stranger_quoting_a_real_reference_gets_a_new_inquiry_and_reads_nothing(app) -> None:
    s = scenario()
    reference = s.values["REFERENCE"]
    result = feed(_reply(sender="stranger@elsewhere.example", subject=f"Re: [{reference}] my file",
                         in_reply_to=s.values["CONFIRMATION_ID"], body="Send me everything about this file."))
    assert result.outcome == "new_inquiry" and result.reason == "sender_not_of_inquiry"
    assert len(db.session.get_one(Inquiry, s.inquiry.id).messages) == 1
    new = db.session.scalars(select(Inquiry).order_by(Inquiry.id.desc())).first()
    assert new is not None and new.id != s.inquiry.id and new.contact.email == "stranger@elsewhere.example"
    assert links.is_linked(new, s.inquiry)
    ack = db.session.scalars(select(OutgoingEmail)
                             .where(OutgoingEmail.to_address == "stranger@elsewhere.example")).one()
    assert new.reference in ack.subject and reference not in ack.subject + ack.body_text
    assert s.inquiry.subject not in ack.body_text and "Body of the question" not in ack.body_text


def test_the_command_reads_standard_input_and_answers_with_exit_codes(app, database_url, monkeypatch) -> None:
    from sqlalchemy.exc import OperationalError

    from inquiry_desk.mail.inbound import ingest

    s = scenario()
    message = _reply(sender="farida@example.net", in_reply_to=s.values["CONFIRMATION_ID"])
    db.session.close()  # no transaction of the test's left open beside the command's
    env = {"DATABASE_URL": database_url, "APP_ENV": "testing", "PATH": "/usr/bin:/bin"}
    run = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "mail", "ingest"], input=message,
                         capture_output=True, env=env, timeout=240, preexec_fn=die_with_parent)  # as an MTA's pipe
    assert run.returncode == 0, run.stderr[-2000:]
    assert db.session.get_one(Inquiry, s.inquiry.id).messages[-1].channel == "email"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["mail", "ingest"], input=message).exit_code == 0  # already stored: taken
    app.config["MAIL_INBOUND_MAX_BYTES"] = 100
    assert runner.invoke(args=["mail", "ingest"], input=message + b"x").exit_code == 65
    app.config["MAIL_INBOUND_MAX_BYTES"] = 10_000_000

    def database_down(*args: object, **kwargs: object) -> None:
        raise OperationalError("INSERT", {}, Exception("connection refused"))

    monkeypatch.setattr(ingest, "ingest", database_down)
    assert runner.invoke(args=["mail", "ingest"], input=message + b"y").exit_code == 75


def _new(sender: str, number: int) -> bytes:
    return (f"From: <{sender}>\r\nTo: inquiries@example.org\r\nSubject: Question {number}\r\n"
            f"Message-ID: <new-{number}@example.com>\r\n\r\nHello, this is question {number} for you.\r\n").encode()


def test_one_acknowledgement_per_sender_per_hour_and_a_limit_on_messages(app) -> None:
    from datetime import timedelta

    from inquiry_desk.core.clock import utcnow

    app.config["MAIL_INBOUND_MAX_PER_SENDER_HOUR"] = 3
    now = utcnow()
    results = [feed(_new("busy@example.com", number), now=now + timedelta(minutes=number)) for number in range(4)]
    assert [result.outcome for result in results[:3]] == ["new_inquiry"] * 3
    assert (results[3].status, results[3].exit_code, results[3].reason) == ("refused", 77, "too_many_from_sender")
    acks = db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.to_address == "busy@example.com")).all()
    assert len(acks) == 1
    later = feed(_new("busy@example.com", 9), now=now + timedelta(hours=2))
    assert later.outcome == "new_inquiry"
    assert db.session.scalar(select(func.count()).select_from(OutgoingEmail)
                             .where(OutgoingEmail.to_address == "busy@example.com")) == 2


def test_soft_bounces_suppress_after_the_setting(app) -> None:
    from inquiry_desk.mail.inbound.models import BouncedAddress
    from inquiry_desk.mail.models import MailSuppression

    from .support import CORPUS

    app.config["MAIL_SOFT_BOUNCE_LIMIT"] = 2
    raw = (CORPUS / "bounce_dsn_soft_delayed.eml").read_bytes()
    assert feed(raw).reason == "temporary"
    assert db.session.get(MailSuppression, "slow@example.com") is None
    assert feed(raw.replace(b"<bounce-", b"<second-")).reason == "temporary"
    assert db.session.get(MailSuppression, "slow@example.com") is not None
    assert db.session.get_one(BouncedAddress, "slow@example.com").soft_count == 2


def test_a_per_inquiry_reply_address_threads_a_reply_without_headers(app) -> None:
    from inquiry_desk.inquiries.reply_addresses import reply_address

    app.config.update(MAIL_INBOUND_ADDRESS="desk@example.org", MAIL_INBOUND_PLUS_ADDRESSING=True)
    s = scenario()
    address = reply_address(s.inquiry)
    assert address is not None and address.startswith("desk+")
    message = (f"From: <farida@example.net>\r\nTo: {address}\r\nSubject: no reference here\r\n"
               "Message-ID: <plus-1@example.net>\r\n\r\nAnswer to the reply address.\r\n").encode()
    assert feed(message).outcome == "threaded"
    forged = address.replace("desk+", "desk+1").encode()
    assert feed(message.replace(address.encode(), forged).replace(b"plus-1", b"plus-2")).outcome == "new_inquiry"


def test_a_reply_long_after_closing_opens_a_new_linked_inquiry_confirmed_by_email(app) -> None:
    from datetime import timedelta

    from inquiry_desk.core.clock import utcnow

    s = scenario()
    edit(s.inquiry, status=Status.CLOSED.value, resolved_at=utcnow() - timedelta(days=90))
    db.session.commit()
    result = feed(_reply(sender="farida@example.net", in_reply_to=s.values["CONFIRMATION_ID"]))
    assert (result.outcome, result.reason) == ("new_inquiry", "reopen_window_passed")
    new = db.session.scalars(select(Inquiry).order_by(Inquiry.id.desc())).first()
    assert new is not None and links.is_linked(new, s.inquiry)
    assert db.session.get_one(Inquiry, s.inquiry.id).status == Status.CLOSED.value


def test_emails_that_became_nothing_are_deleted_after_a_month(app) -> None:
    from datetime import timedelta

    from inquiry_desk.core.clock import utcnow
    from inquiry_desk.mail.inbound.ingest import purge_unattached

    from .support import CORPUS

    old = utcnow() - timedelta(days=40)
    assert feed((CORPUS / "ooo_unmatched.eml").read_bytes(), now=old).outcome == "ignored"
    assert feed((CORPUS / "bounce_exim.eml").read_bytes(), now=old).outcome == "bounce"
    kept = feed(_new("keeper@example.com", 1), now=old)
    assert purge_unattached(utcnow()) == 2
    db.session.commit()
    assert db.session.scalars(select(InboundEmail.id)).all() == [kept.inbound_id]
