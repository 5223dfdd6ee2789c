"""A contact's and an organisation's timeline show the bulletins their contacts received."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select, update

from inquiry_desk.bulletins import dispatch, services
from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Contact
from inquiry_desk.mail.models import Delivery

from ..helpers import make_organisation, make_user, page, sign_in
from .series_support import approve, staff
from .support import T0, fields, make_list, subscribe


def test_the_timelines_show_each_bulletin_received(app: Flask) -> None:
    organisation = make_organisation()
    mailing_list = make_list()
    for email, lang in (("amal@example.net", "fr"), ("bo@example.net", "en"), ("else@example.net", "en")):
        subscribe(mailing_list, email, lang)
    contacts = db.session.scalars(select(Contact).where(Contact.email.in_(("amal@example.net", "bo@example.net"))))
    for contact in contacts:
        contact.organisation_id = organisation.id
    author = staff("officer")
    bulletin = services.create(fields((mailing_list.id,)), actor=author, now=T0)
    approve(bulletin, now=T0)
    services.schedule(bulletin, None, actor=author, now=T0)
    db.session.commit()
    dispatch.run(T0 + timedelta(seconds=1))
    not_yet = services.create(fields((mailing_list.id,), title_en="Not sent yet"), actor=author, now=T0)
    db.session.execute(update(Delivery).values(status="sent", accepted_at=T0 + timedelta(seconds=2), smtp_code=250))
    db.session.commit()
    amal = db.session.scalar(select(Contact).where(Contact.email == "amal@example.net"))

    client = app.test_client()
    sign_in(client, make_user(role="officer"))
    soup = page(client.get(f"/staff/directory/organisations/{organisation.id}"))
    entries = [item.get_text(" ", strip=True) for item in soup.select("ol.history li")]
    assert any("Bulletin received by 2 contacts: November update" in entry for entry in entries), entries
    link = soup.select_one(f"ol.history a[href='/staff/bulletins/{bulletin.id}']")
    assert link is not None
    with client.session_transaction() as session:
        session["lang"] = "fr"
    soup = page(client.get(f"/staff/directory/contacts/{amal.id}"), lang="fr")
    entries = [item.get_text(" ", strip=True) for item in soup.select("ol.history li")]
    assert any("Bulletin reçu : Le point de novembre" in entry for entry in entries), entries
    assert not any(not_yet.title_en in entry for entry in entries)
