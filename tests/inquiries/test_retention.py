"""The retention purge leaves no personal data of a purged inquiry anywhere, and running it twice is harmless."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import String, Text, select, text

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Contact
from inquiry_desk.inquiries import correspondence, search, triage
from inquiry_desk.inquiries.models import Inquiry, Message, PortalLink, Status
from inquiry_desk.inquiries.retention import REMOVED, purge_closed_inquiries
from inquiry_desk.mail.models import OutgoingEmail

from ..helpers import edit, make_inquiry, make_user

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=800)  # more than 24 months
EMAIL = "zoltan.quimby@example.net"
# Words that appear only in the personal data of the old inquiry.
SECRETS = ("Quimby", "zoltan", "Xylophonic", "Marmalade", "Wobblewick")


@pytest.fixture
def app(app_factory: Callable[..., Flask]):
    app = app_factory(MAIL_TEAM_ADDRESS="team@example.org", RETENTION_MONTHS=24)
    with app.app_context():
        yield app


def closed_inquiry(*, received: datetime, email: str = EMAIL, subject: str = "Xylophonic question",
                   body: str = "Our Marmalade family needs help") -> Inquiry:
    officer = make_user()
    inquiry = make_inquiry(now=received, email=email, subject=subject, body=body)
    inquiry.contact.name = "Zoltan Quimby"
    inquiry.contact.phone = "+1 613 555 0199"
    inquiry.contact.organisation_name = "Wobblewick Sponsors"
    edit(inquiry, organisation_name="Wobblewick Sponsors")
    triage.assign(inquiry, officer, actor=officer, now=received + timedelta(hours=1))
    triage.add_note(inquiry, "Called Zoltan Quimby about the Marmalade case", actor=officer,
                    now=received + timedelta(hours=2))
    correspondence.send_reply(inquiry, "Dear Zoltan Quimby, about your Xylophonic question…", actor=officer,
                              now=received + timedelta(hours=3))
    triage.set_status(inquiry, Status.CLOSED, actor=officer, now=received + timedelta(days=2))
    search.index_inquiry(inquiry)
    db.session.commit()
    return inquiry


def every_stored_text() -> list[str]:
    """Every string value in every table of the models, the audit details, and the search documents."""
    values: list[str] = []
    for table in db.metadata.sorted_tables:
        columns = [column for column in table.columns
                   if isinstance(column.type, String | Text) or column.type.__class__.__name__ == "JSON"]
        for row in db.session.execute(select(*columns)) if columns else []:
            values.extend(str(value) for value in row if value is not None)
    document = "document::text" if db.engine.dialect.name == "postgresql" else "document"
    values.extend(db.session.scalars(text(f"SELECT {document} FROM fts_inquiries")))  # noqa: S608
    return values


def leaks() -> list[str]:
    return [value for value in every_stored_text()
            if any(secret.casefold() in value.casefold() for secret in SECRETS)]


def test_no_personal_data_of_a_purged_inquiry_remains(app: Flask) -> None:
    inquiry = closed_inquiry(received=LONG_AGO)
    assert leaks()  # the test sees the data before the purge
    assert search.search_ids("Marmalade", limit=10) == [inquiry.id]

    assert purge_closed_inquiries(NOW) == 1

    db.session.expire_all()
    assert leaks() == []
    inquiry = db.session.get(Inquiry, inquiry.id)
    assert inquiry.purged_at == NOW
    assert inquiry.subject == REMOVED
    assert inquiry.organisation_name is None
    assert {message.body for message in inquiry.messages} == {REMOVED}
    contact = db.session.get(Contact, inquiry.contact_id)
    assert (contact.name, contact.email, contact.phone, contact.organisation_name) == (
        "—", f"purged-{contact.id}@invalid", None, None)
    assert db.session.scalars(select(PortalLink).where(PortalLink.inquiry_id == inquiry.id)).all() == []
    assert db.session.scalars(
        select(OutgoingEmail).where(OutgoingEmail.cause_key.like(f"inquiry:{inquiry.id}:%"))).all() == []
    for word in ("Marmalade", "Quimby", EMAIL, "Xylophonic", inquiry.reference):
        assert search.search_ids(word, limit=10) == []
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "inquiry.purged")).all()
    assert (event.subject_type, event.subject_id, event.actor_id) == ("inquiry", inquiry.id, None)
    assert event.details == {"reference": inquiry.reference, "version": inquiry.version}


def test_a_second_run_changes_nothing(app: Flask) -> None:
    closed_inquiry(received=LONG_AGO)
    assert purge_closed_inquiries(NOW) == 1
    before = sorted(every_stored_text())
    events = db.session.scalar(select(db.func.count()).select_from(AuditEvent))
    assert purge_closed_inquiries(NOW) == 0
    assert purge_closed_inquiries(NOW + timedelta(days=1)) == 0
    db.session.expire_all()
    assert sorted(every_stored_text()) == before
    assert db.session.scalar(select(db.func.count()).select_from(AuditEvent)) == events


def test_recent_and_open_inquiries_are_untouched(app: Flask) -> None:
    recent = closed_inquiry(received=NOW - timedelta(days=200), email="recent@example.net")
    still_open = make_inquiry(now=LONG_AGO, email="open@example.net", subject="Still open after years")
    assert purge_closed_inquiries(NOW) == 0
    db.session.expire_all()
    for inquiry in (recent, still_open):
        inquiry = db.session.get(Inquiry, inquiry.id)
        assert inquiry.purged_at is None
        assert REMOVED not in [message.body for message in inquiry.messages]
    assert db.session.get(Inquiry, recent.id).subject == "Xylophonic question"
    assert db.session.get(Contact, recent.contact_id).email == "recent@example.net"
    assert search.search_ids("Marmalade", limit=10) == [recent.id]


def test_a_closed_inquiry_changed_recently_waits(app: Flask) -> None:
    inquiry = closed_inquiry(received=LONG_AGO)
    edit(inquiry, updated_at=NOW - timedelta(days=30))
    db.session.commit()
    assert purge_closed_inquiries(NOW) == 0


def test_the_contact_is_kept_while_another_inquiry_uses_it(app: Flask) -> None:
    old = closed_inquiry(received=LONG_AGO)
    newer = make_inquiry(now=NOW - timedelta(days=10), email=EMAIL, subject="A newer question",
                         body="Nothing secret here")
    assert newer.contact_id == old.contact_id
    assert purge_closed_inquiries(NOW) == 1
    db.session.expire_all()
    contact = db.session.get(Contact, old.contact_id)
    assert contact.email == EMAIL and contact.name == "Farida Rahimi"  # as the newer submission gave it
    assert db.session.get(Inquiry, old.id).subject == REMOVED
    assert {message.body for message in db.session.get(Inquiry, old.id).messages} == {REMOVED}
    assert search.search_ids("Marmalade", limit=10) == []
    assert search.search_ids("newer", limit=10) == [newer.id]


def test_many_inquiries_in_batches_and_their_shared_contact(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    from inquiry_desk.inquiries import retention

    monkeypatch.setattr(retention, "BATCH_SIZE", 2)
    inquiries = [closed_inquiry(received=LONG_AGO + timedelta(days=day)) for day in range(5)]
    assert len({inquiry.contact_id for inquiry in inquiries}) == 1
    assert purge_closed_inquiries(NOW) == 5
    db.session.expire_all()
    assert leaks() == []
    assert db.session.scalars(select(Message.body).distinct()).all() == [REMOVED]


def test_old_digests_go_too(app: Flask) -> None:
    from inquiry_desk.inquiries.digest import send_daily_digests

    reader = make_user()
    reader.wants_digest = True
    db.session.commit()
    closed_inquiry(received=LONG_AGO)
    send_daily_digests(LONG_AGO + timedelta(hours=1))  # lists the Xylophonic question
    send_daily_digests(NOW - timedelta(days=1))
    purge_closed_inquiries(NOW)
    assert leaks() == []
    assert len(db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.cause_key.like("digest:%"))).all()) == 1
