"""Issue 15: a list with an unsubscribed and an unconfirmed member: neither is sent the bulletin nor becomes a
delivery; the audience and the snapshot count only the subscribed member.

(The engine counts the addresses it leaves out itself, suppressed and repeated; the list leaves these two
out by their subscription status and nothing counts them yet: see the polish report.)
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from inquiry_desk.bulletins import audience, dispatch, reports, services
from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Contact
from inquiry_desk.mail.models import Delivery, MailSend
from inquiry_desk.mailing.models import Subscription, SubscriptionStatus

from ..mail.send_support import drain, worker
from ..mail.smtp_server import SmtpSink
from .support import T0, approved, make_list, subscribe

pytestmark = pytest.mark.allow_smtp


@pytest.fixture
def app(app_factory, smtp_sink: SmtpSink):
    app = app_factory(**smtp_sink.app_config())
    with app.app_context():
        yield app


def _set_status(email: str, status: SubscriptionStatus) -> None:
    subscription = db.session.scalars(select(Subscription).join(Contact, Contact.id == Subscription.contact_id)
                                      .where(Contact.email == email)).one()
    subscription.status = status.value
    db.session.commit()


def test_unsubscribed_and_unconfirmed_members_are_left_out(app: Flask, smtp_sink: SmtpSink) -> None:
    mailing_list = make_list()
    for email in ("anna@example.net", "ben@example.net", "carl@example.net"):
        subscribe(mailing_list, email)
    _set_status("ben@example.net", SubscriptionStatus.UNSUBSCRIBED)
    _set_status("carl@example.net", SubscriptionStatus.PENDING)  # never confirmed
    bulletin, author, _ = approved((mailing_list.id,))
    assert [item.total for item in audience.by_list(bulletin)] == [1]
    services.schedule(bulletin, None, actor=author, now=T0)
    db.session.commit()
    assert dispatch.run(T0 + timedelta(seconds=1)) == "started 1, sent 0"
    drain(worker(app), now=T0 + timedelta(seconds=2))
    assert smtp_sink.recipients() == ["anna@example.net"]
    send = db.session.scalars(select(MailSend)).one()
    assert db.session.scalar(select(func.count()).select_from(Delivery).where(Delivery.send_id == send.id)) == 1
    assert (send.left_out_suppressed, send.left_out_duplicate) == (0, 0)  # not the engine's to leave out
    snapshot = reports.snapshot_of(bulletin)
    assert snapshot is not None and snapshot.total == 1
