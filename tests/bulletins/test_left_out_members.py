"""Issue 15: a list with an unsubscribed and an unconfirmed member: neither is sent the bulletin nor becomes a
delivery; the audience and the snapshot count only the subscribed member.

Every member left out is counted, by why: unsubscribed and unconfirmed (the lists leave them out by their
subscription status), suppressed (the lists' query, or the engine) and repeated (the engine's unique key).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from inquiry_desk.bulletins import audience, dispatch, reports, services
from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Contact
from inquiry_desk.mail import sending
from inquiry_desk.mail.models import Delivery, MailSend
from inquiry_desk.mailing import services as mailing
from inquiry_desk.mailing import suppression
from inquiry_desk.mailing.models import Subscription, SubscriptionStatus, SuppressionReason

from ..helpers import page, sign_in
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
    assert reports.left_out(snapshot) == {"unsubscribed": 1, "unconfirmed": 1, "suppressed": 0, "duplicate": 0}


def test_every_member_left_out_is_counted_by_why(app: Flask, smtp_sink: SmtpSink, compiled_translations: None) -> None:
    news, partners = make_list("Partner news"), make_list("Settlement partners")
    for email in ("anna@example.net", "ben@example.net", "dora@example.net", "eve@example.net"):
        subscribe(news, email)
    subscribe(partners, "anna@example.net")  # on both lists: one copy
    subscribe(partners, "fred@example.net", "fr")
    mailing.one_click_unsubscribe(mailing.subscriptions_of(_contact("ben@example.net"))[0], now=T0)
    mailing.request_subscription("carl@example.net", [news.id], language="en", now=T0)  # never confirmed
    suppression.suppress("dora@example.net", SuppressionReason.LEAD, source="asked by phone", actor=None, now=T0)
    sending.suppress("eve@example.net", "bounce", now=T0)  # only in the engine's set (a bounce of its own)
    db.session.commit()
    bulletin, author, approver = approved((news.id, partners.id))
    services.schedule(bulletin, None, actor=author, now=T0)
    db.session.commit()
    assert dispatch.run(T0 + timedelta(seconds=1)) == "started 1, sent 0"
    drain(worker(app), now=T0 + timedelta(seconds=2))

    sent = [(m["To"], m["Subject"]) for m in smtp_sink.messages if "Confirm" not in m["Subject"]]
    assert sorted(sent) == [("anna@example.net", "November update for partners"),
                            ("fred@example.net", "Le point de novembre pour les partenaires")]
    send = db.session.scalars(select(MailSend)).one()
    assert (send.left_out_suppressed, send.left_out_duplicate) == (2, 1)
    snapshot = reports.snapshot_of(bulletin)
    assert snapshot is not None and snapshot.total == 2
    assert reports.left_out(snapshot) == {"unsubscribed": 1, "unconfirmed": 1, "suppressed": 2, "duplicate": 1}
    by_list = snapshot.recipients["lists"]
    assert {key: by_list[str(news.id)][key] for key in ("en", "unsubscribed", "unconfirmed", "suppressed")} == {
        "en": 1, "unsubscribed": 1, "unconfirmed": 1, "suppressed": 2}
    assert {key: by_list[str(partners.id)][key] for key in ("en", "fr", "unsubscribed", "unconfirmed", "suppressed")} \
        == {"en": 1, "fr": 1, "unsubscribed": 0, "unconfirmed": 0, "suppressed": 0}

    client = app.test_client()
    sign_in(client, approver)
    shown = page(client.get(f"/staff/bulletins/{bulletin.id}"))
    assert {tag["data-left-out"]: tag.get_text() for tag in shown.select("[data-left-out]")} == {
        "unsubscribed": "1", "unconfirmed": "1", "suppressed": "2", "duplicate": "1"}
    assert "Members who have not confirmed" in shown.get_text()
    with client.session_transaction() as session:
        session["lang"] = "fr"
    assert "Membres qui n’ont pas confirmé leur abonnement" in page(
        client.get(f"/staff/bulletins/{bulletin.id}"), lang="fr").get_text()


def _contact(email: str) -> Contact:
    return db.session.scalars(select(Contact).where(Contact.email == email)).one()
