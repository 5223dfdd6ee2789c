"""Dispatch once, each subscriber in their language with the unsubscribe headers, the snapshot, the archive."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from flask import Flask
from sqlalchemy import func, select

from inquiry_desk.bulletins import dispatch, reports, services
from inquiry_desk.bulletins.models import Bulletin, BulletinSnapshot
from inquiry_desk.core.extensions import db
from inquiry_desk.mail.models import Delivery, MailSend

from ..helpers import make_user, page
from ..mail.send_support import drain, worker
from ..mail.smtp_server import SmtpSink
from .support import T0, approved, at_once, make_bulletin, make_list, subscribe

pytestmark = pytest.mark.allow_smtp
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def app(app_factory, smtp_sink: SmtpSink):
    app = app_factory(**smtp_sink.app_config())
    with app.app_context():
        yield app


def _audience() -> tuple[int, int]:
    public = make_list("Partner news", public=True)
    private = make_list("Settlement partners", public=False)
    subscribe(public, "anna@example.net", "en")
    subscribe(public, "benoit@example.net", "fr")
    subscribe(public, "chloe@example.net", "fr")
    subscribe(private, "chloe@example.net", "fr")  # on both lists: one copy
    subscribe(private, "dev@example.net", "en")
    return public.id, private.id


def test_each_subscriber_gets_one_copy_in_their_language_with_unsubscribe_and_archive_links(
        app: Flask, smtp_sink: SmtpSink) -> None:
    lists = _audience()
    bulletin, author, _ = approved(lists)
    services.schedule(bulletin, None, actor=author, now=T0)
    db.session.commit()
    assert dispatch.run(T0 + timedelta(seconds=1)) == "started 1, sent 0"
    assert dispatch.run(T0 + timedelta(seconds=2)) == "started 0, sent 0"  # once
    drain(worker(app), now=T0 + timedelta(seconds=3))
    by_address = {message["To"]: message for message in smtp_sink.messages}
    assert Counter(smtp_sink.recipients()) == Counter(
        ["anna@example.net", "benoit@example.net", "chloe@example.net", "dev@example.net"])
    for address, lang, subject in (("anna@example.net", "en", "November update for partners"),
                                   ("dev@example.net", "en", "November update for partners"),
                                   ("benoit@example.net", "fr", "Le point de novembre pour les partenaires"),
                                   ("chloe@example.net", "fr", "Le point de novembre pour les partenaires")):
        message = by_address[address]
        assert message["Subject"] == subject and message["Content-Language"] == lang
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["List-Unsubscribe"].startswith("<http") and "/u/" in message["List-Unsubscribe"]
        text = message.get_body(("plain",)).get_content()
        assert f"/{lang}/bulletins/{bulletin.id}" in text  # read in your browser
        assert "%%UNSUBSCRIBE_URL%%" not in text and "/u/" in text
    assert dispatch.run(T0 + timedelta(seconds=5)) == "started 0, sent 1"
    db.session.expire_all()
    bulletin = db.session.get(Bulletin, bulletin.id)
    assert bulletin.status == "sent"
    snapshot = reports.snapshot_of(bulletin)
    assert snapshot is not None and snapshot.total == 4 and snapshot.public
    assert snapshot.content["fr"]["subject"] == "Le point de novembre pour les partenaires"
    assert snapshot.recipients["lists"][str(lists[1])] == {"name_en": "Settlement partners",
                                                          "name_fr": "Settlement partners (fr)", "en": 1, "fr": 1,
                                                          "unsubscribed": 0, "unconfirmed": 0, "suppressed": 0}
    assert snapshot.recipients["duplicate"] == 1
    report = reports.send_report(bulletin, now=T0 + timedelta(seconds=5))
    assert report is not None and report.counts["sent"] == 4 and report.percent == 100


def test_a_single_language_bulletin_reaches_everyone_in_that_language(app: Flask, smtp_sink: SmtpSink) -> None:
    lists = _audience()
    author = make_user(role="officer")
    lead = make_user(role="lead")
    bulletin = make_bulletin(author, lists[:1], title_fr="", subject_fr="", body_fr="")
    services.submit(bulletin, actor=author, now=T0)
    services.mark_single_language(bulletin, "en", "Sent to English-speaking partners only", actor=lead, now=T0)
    services.approve(bulletin, version=1, acknowledged=[], actor=lead, now=T0)
    services.schedule(bulletin, None, actor=author, now=T0)
    db.session.commit()
    dispatch.run(T0 + timedelta(seconds=1))
    drain(worker(app), now=T0 + timedelta(seconds=2))
    assert {message["Subject"] for message in smtp_sink.messages} == {"November update for partners"}
    assert {message["Content-Language"] for message in smtp_sink.messages} == {"en"}


def test_a_bulletin_scheduled_later_waits_for_its_time(app: Flask) -> None:
    lists = _audience()
    bulletin, author, _ = approved(lists)
    services.schedule(bulletin, T0 + timedelta(hours=1), actor=author, now=T0)
    db.session.commit()
    assert dispatch.run(T0 + timedelta(minutes=59)) == "started 0, sent 0"
    assert dispatch.run(T0 + timedelta(hours=1)) == "started 1, sent 0"


def test_two_schedulers_at_once_dispatch_each_bulletin_once(app: Flask, app_factory) -> None:
    """QUALITY.md R3 for bulletins: two dispatchers race (own connections; a barrier starts them together)."""
    lists = _audience()
    ids = []
    for _ in range(3):
        bulletin, author, _lead = approved(lists)
        services.schedule(bulletin, None, actor=author, now=T0)
        ids.append(bulletin.id)
    db.session.commit()
    other = app_factory(**{key: app.config[key] for key in ("MAIL_BACKEND", "SMTP_HOST", "SMTP_PORT")})
    started = at_once((app, other), lambda: dispatch.dispatch_due(T0 + timedelta(seconds=1)))
    assert sum(started) == 3
    assert db.session.scalar(select(func.count()).select_from(MailSend)) == 3
    assert db.session.scalar(select(func.count()).select_from(BulletinSnapshot)) == 3
    per_send = db.session.execute(select(Delivery.send_id, func.count()).group_by(Delivery.send_id)).all()
    assert sorted(count for _send, count in per_send) == [4, 4, 4]


def test_the_public_archive_and_atom_feed_in_both_languages(app: Flask, smtp_sink: SmtpSink) -> None:
    lists = _audience()
    public_bulletin, author, _ = approved(lists[:1])
    private_bulletin, _, _ = approved(lists[1:], title_en="Private note", title_fr="Note privée")
    for bulletin in (public_bulletin, private_bulletin):
        services.schedule(bulletin, None, actor=author, now=T0)
    db.session.commit()
    dispatch.run(T0 + timedelta(seconds=1))
    client = app.test_client()
    response = client.get("/en/bulletins")
    assert response.mimetype == "text/html" and "public" in response.headers["Cache-Control"]
    soup = page(response, lang="en")
    titles = [a.get_text(strip=True) for a in soup.select("[data-archive] a")]
    assert titles == ["November update"]
    assert "https:" not in response.headers["Content-Security-Policy"]
    response = client.get(f"/fr/bulletins/{public_bulletin.id}")
    # The page shows the bulletin as its emails did: https images from other hosts, and nothing else widened.
    policy = response.headers["Content-Security-Policy"]
    assert "img-src 'self' data: https:;" in policy and "script-src 'self';" in policy
    assert response.headers["Referrer-Policy"] == "no-referrer"
    soup = page(response, lang="fr")
    assert soup.h1.get_text(strip=True) == "Le point de novembre"
    assert soup.select_one("[data-other-language]")["href"] == f"/en/bulletins/{public_bulletin.id}"
    assert client.get(f"/en/bulletins/{private_bulletin.id}").status_code == 404
    for lang, title in (("en", "November update"), ("fr", "Le point de novembre")):
        response = client.get(f"/{lang}/bulletins/feed.atom")
        assert response.status_code == 200 and response.mimetype == "application/atom+xml"
        feed = ElementTree.fromstring(response.get_data())  # noqa: S314 - our own feed, in a test
        assert feed.tag == f"{ATOM}feed" and feed.findtext(f"{ATOM}id") and feed.findtext(f"{ATOM}updated")
        entries = feed.findall(f"{ATOM}entry")
        assert [entry.findtext(f"{ATOM}title") for entry in entries] == [title]
        link = entries[0].find(f"{ATOM}link").get("href")
        assert link.endswith(f"/{lang}/bulletins/{public_bulletin.id}")
        assert "guide" in entries[0].findtext(f"{ATOM}content")
