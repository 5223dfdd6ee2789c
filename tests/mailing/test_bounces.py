"""Issue 14's leftover: a hard bounce met by the send engine is on the leads' suppression page, with its
reason and date, and the subscriber is marked bounced (mail.bounced wired to recipients.record_bounce)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from inquiry_desk.core.extensions import db
from inquiry_desk.mail import signals
from inquiry_desk.mailing import bounces
from inquiry_desk.mailing import services as mailing
from inquiry_desk.mailing.models import Subscription, SuppressionEntry

from ..helpers import page
from ..mail.send_support import drain, make_send, worker
from ..mail.smtp_server import SmtpSink
from .support import T0, make_list

pytestmark = pytest.mark.allow_smtp


@pytest.fixture
def app(app_factory, smtp_sink: SmtpSink):
    app = app_factory(**smtp_sink.app_config(MAIL_RETRY_FIRST_SECONDS=60))
    with app.app_context():
        yield app


def test_an_engine_bounce_is_listed_on_the_suppression_page(app, smtp_sink: SmtpSink, signed_in) -> None:
    news = make_list("Sponsorship news")
    for address in ("gone@example.net", "here@example.net"):
        mailing.add_member(news, address, name=None, language="en", consent_source="Asked at the fair",
                           actor=None, now=T0)
    db.session.commit()
    smtp_sink.answer("rcpt", "550 5.1.1 No such user", to="gone@example.net")
    make_send(["gone@example.net", "here@example.net"], now=T0)
    result = drain(worker(app), T0)
    assert (result.sent, result.failed) == (1, 1)

    db.session.expire_all()
    entry = db.session.scalars(select(SuppressionEntry)).one()
    assert (entry.address, entry.reason, entry.created_at) == ("gone@example.net", "hard_bounce", T0)
    statuses = {s.contact.email: s.status for s in db.session.scalars(select(Subscription))}
    assert statuses == {"gone@example.net": "bounced", "here@example.net": "subscribed"}

    soup = page(signed_in("lead").get("/staff/mailing-lists/suppressions"))
    rows = [row.get_text(" ", strip=True) for row in soup.select("table tbody tr")]
    assert len(rows) == 1 and rows[0].startswith("gone@example.net Hard bounce send engine: <")
    assert "2026" in rows[0]  # the date


def test_a_bounce_the_lists_cannot_record_leaves_the_engine_sending(app, smtp_sink: SmtpSink, caplog) -> None:
    """A receiver's failure is logged by its class only and never stops the worker."""
    signals.bounced.send(app, address="not an address", message_id="<x@example.org>", now=T0)
    assert db.session.scalar(select(SuppressionEntry.id)) is None
    assert "a bounce was not recorded on the mailing lists: " in caplog.text
    assert "not an address" not in caplog.text
    assert bounces.record_engine_bounce in [ref() for ref in signals.bounced.receivers.values()]
