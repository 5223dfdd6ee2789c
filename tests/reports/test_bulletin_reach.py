"""Bulletin reach from the send engine's deliveries, and list growth from consent records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import time_machine
from flask import Flask
from sqlalchemy import select, update

from inquiry_desk.bulletins.models import Bulletin
from inquiry_desk.core.extensions import db
from inquiry_desk.mail import sending
from inquiry_desk.mail.models import Delivery, DeliveryStatus, MailSuppression
from inquiry_desk.mail.rendering import RenderedEmail
from inquiry_desk.mailing import services as mailing
from inquiry_desk.reports import periods
from inquiry_desk.reports import services as reports

from ..helpers import make_user, page, sign_in
from .dataset import TORONTO

NOW = datetime(2026, 11, 4, 15, 0, tzinfo=UTC)


def _period() -> periods.Period:
    return periods.resolve("custom", today=NOW.date(), zone=TORONTO, first=date(2026, 11, 2), last=date(2026, 11, 8))


def test_reach_per_send_and_list_growth(app: Flask) -> None:
    the_list = mailing.save_list(None, mailing.ListFields(name_en="Partners", name_fr="Partenaires"), actor=None,
                                 now=NOW - timedelta(days=30))
    members = [mailing.add_member(the_list, f"member{i}@example.org", name=None, language="en",
                                  consent_source="meeting", actor=None, now=NOW - timedelta(days=1))
               for i in range(5)]
    # Before the period: one more joined, outside it.
    mailing.add_member(the_list, "early@example.org", name=None, language="en", consent_source="meeting",
                       actor=None, now=NOW - timedelta(days=20))
    send = sending.create_send("bulletin:1", {"en": RenderedEmail("Bulletin", "Text")}, now=NOW - timedelta(hours=5))
    sending.add_recipients(send, [sending.Recipient(f"member{i}@example.org", "en", members[i].id) for i in range(5)],
                           now=NOW - timedelta(hours=5))
    sending.start_send(send, now=NOW - timedelta(hours=5))
    accepted = NOW - timedelta(hours=4)
    rows = db.session.scalars(select(Delivery).order_by(Delivery.id)).all()
    statuses = [DeliveryStatus.SENT, DeliveryStatus.SENT, DeliveryStatus.SENT, DeliveryStatus.FAILED,
                DeliveryStatus.QUEUED]
    for row, status in zip(rows, statuses, strict=True):
        db.session.execute(update(Delivery).where(Delivery.id == row.id).values(
            status=status.value, accepted_at=accepted if status == DeliveryStatus.SENT else None))
    # member1 bounces after acceptance; member2 unsubscribes after reading.
    db.session.add(MailSuppression(address_key="member1@example.org", reason="bounce",
                                   created_at=NOW - timedelta(hours=3)))
    mailing.one_click_unsubscribe(members[2], now=NOW - timedelta(hours=2))
    db.session.commit()

    [reach] = reports.bulletin_reach(_period())
    assert (reach.recipients, reach.sent, reach.failed, reach.bounced, reach.unsubscribed, reach.delivered) == (
        5, 3, 1, 1, 1, 2)
    assert reach.title("fr") == "bulletin:1"  # no bulletin made this send: its key
    over_time = reports.reach_over_time(_period())
    assert {key: sum(values) for key, values in over_time.rows.items()} == {"sent": 3, "failed": 1, "bounced": 1}
    growth = reports.list_growth(_period())
    # 5 joined on Tuesday 3 November (local), one left on Wednesday.
    assert growth.rows["joined"][1] == 5 and sum(growth.rows["joined"]) == 5
    assert growth.rows["left"][2] == 1 and sum(growth.rows["left"]) == 1
    assert reports.subscribers() == 5
    # A send started in another period is not in this one.
    assert reports.bulletin_reach(_period().previous()) == []

    # The bulletin that made the send: its title in the reader's language, a link to its page.
    bulletin = Bulletin(sender_name="Desk", title_en="Autumn news", title_fr="Nouvelles d’automne",
                        status="sent", send_key="bulletin:1")
    db.session.add(bulletin)
    db.session.commit()
    [reach] = reports.bulletin_reach(_period())
    assert (reach.bulletin_id, reach.title("en"), reach.title("fr")) == (bulletin.id, "Autumn news",
                                                                         "Nouvelles d’automne")
    client = app.test_client()
    with time_machine.travel(NOW, tick=False):
        sign_in(client, make_user(role="officer"))
        for language, title in (("en", "Autumn news"), ("fr", "Nouvelles d’automne")):
            with client.session_transaction() as session:
                session["lang"] = language
            soup = page(client.get("/staff/dashboard/?period=custom&from=2026-11-02&to=2026-11-08"), lang=language)
            link = soup.select_one("#sends-heading ~ table tbody th a")
            assert (link.get_text(), link["href"]) == (title, f"/staff/bulletins/{bulletin.id}")
    # A send of one language only shows its title in the other language too.
    bulletin.title_fr = ""
    db.session.commit()
    assert reports.bulletin_reach(_period())[0].title("fr") == "Autumn news"
