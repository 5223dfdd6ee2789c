"""A person's data (QUALITY.md S8): the export holds every record about them; after erasure nothing of them
can be found by search, in any table, or in an export; their inquiries stay, anonymous."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from sqlalchemy import ForeignKey, inspect, select, text

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.directory import rules
from inquiry_desk.directory import services as directory
from inquiry_desk.inquiries import correspondence, search, triage
from inquiry_desk.inquiries import services as inquiries
from inquiry_desk.inquiries.models import Inquiry, Message, PortalLink
from inquiry_desk.inquiries.stakeholders import merging, person_data
from inquiry_desk.mail.models import OutgoingEmail

from ..helpers import make_inquiry, make_user

NAME = "Zarghuna Qaderi"
PHONE = "+1 613 555 0199"
EMAIL = "zarghuna.q@example.net"
OTHER_EMAIL = "zq.personal@example.org"
SECRET_WORD = "Xylophonique"  # in a message body only

# Tables that hold (or point to) personal data of a stakeholder, and those checked not to: a new table
# that references contacts or inquiries fails test_every_table_with_personal_data_is_covered until it
# is added here and to person_data.
COVERED = {"contacts", "inquiries", "messages", "portal_links", "outgoing_emails", "audit_events", "inquiry_tags",
           "inquiry_viewers", "directory_imports",
           # ids and dates only: which inquiries are linked, which replies staff have not seen yet,
           # which staff are named on a restricted inquiry, which public forms were already accepted
           "inquiry_links", "reply_notices", "inquiry_named_staff", "form_submissions",
           # the people concerned named in the person's inquiries; registered sources (mailing lists)
           "inquiry_people", "mailing_subscriptions",
           # files of the person's messages (exported, erased: tests/inquiries/test_attachments.py)
           "attachments"}


@pytest.fixture
def person(app):
    """One person with two addresses (two contacts merged), inquiries with replies, notes, links, emails."""
    app.config["MAIL_TEAM_ADDRESS"] = "team@example.org"
    lead = make_user(role="lead")
    first = make_inquiry(email=EMAIL, subject=f"Family of {NAME}", body=f"{SECRET_WORD}: my brother's file")
    first.contact.phone = PHONE
    first.contact.name = NAME
    second = make_inquiry(email=OTHER_EMAIL, subject="Second question", body=f"More about {SECRET_WORD}")
    second.contact.name = NAME
    db.session.commit()
    correspondence.send_reply(first, f"Dear {NAME}, we received it.", actor=lead, now=utcnow())
    triage.add_note(first, f"Called {PHONE}", actor=lead, now=utcnow())
    triage.set_tags(first, ["family"], actor=lead, now=utcnow())
    inquiries.create_portal_link(first, now=utcnow())
    db.session.commit()
    merging.merge_contacts(second.contact, first.contact, actor=lead, now=utcnow())
    bystander = make_inquiry(email="bystander@example.com", subject="Unrelated", body="Nothing personal")
    from inquiry_desk.directory import imports

    imports.record_upload("contacts", "waiting.csv", f"email,name,phone\r\n{EMAIL},{NAME},{PHONE}\r\n",
                          actor=lead, now=utcnow())
    db.session.commit()
    return {"contact": first.contact, "inquiries": [first, second], "lead": lead, "bystander": bystander}


def test_every_table_with_personal_data_is_covered(app) -> None:
    pointing = set()
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if any(isinstance(fk, ForeignKey) and fk.column.table.name in ("contacts", "inquiries")
                   for fk in column.foreign_keys):
                pointing.add(table.name)
    assert pointing | {"contacts", "outgoing_emails", "audit_events"} <= COVERED | {"contacts"}, \
        f"tables not covered by the person's export and erasure: {sorted(pointing - COVERED)}"


def test_export_holds_every_record_about_the_person(app, person) -> None:
    contact, lead = person["contact"], person["lead"]
    archive = zipfile.ZipFile(io.BytesIO(person_data.export_archive(contact, actor=lead, now=utcnow())))
    data = json.loads(archive.read("person.json"))
    summary = archive.read("summary.html").decode()
    ids = [inquiry.id for inquiry in person["inquiries"]]
    assert {row["email"] for row in data["contacts"]} == {EMAIL, OTHER_EMAIL}
    assert sorted(row["id"] for row in data["inquiries"]) == ids
    messages = db.session.scalars(select(Message.id).where(Message.inquiry_id.in_(ids))).all()
    assert sorted(m["id"] for row in data["inquiries"] for m in row["messages"]) == sorted(messages)
    links = db.session.scalars(select(PortalLink.id).where(PortalLink.inquiry_id.in_(ids))).all()
    assert sorted(row["id"] for row in data["portal_links"]) == sorted(links)
    assert all("token_hash" not in row for row in data["portal_links"])
    emails = db.session.scalars(select(OutgoingEmail.id).where(
        OutgoingEmail.to_address.in_([EMAIL, OTHER_EMAIL]))).all()
    assert set(emails) <= {row["id"] for row in data["emails"]} and len(emails) >= 3
    events = db.session.scalars(select(AuditEvent.id).where(AuditEvent.subject_type == "inquiry",
                                                            AuditEvent.subject_id.in_(ids))).all()
    assert set(events) <= {row["id"] for row in data["audit_events"]}
    assert person["bystander"].id not in {row["id"] for row in data["inquiries"]}
    assert SECRET_WORD in summary and PHONE in summary and "family" in json.dumps(data)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "contact.data_exported"))


def test_only_a_lead_exports_or_erases(app, person) -> None:
    officer = make_user(role="officer")
    with pytest.raises(rules.LeadsOnly):
        person_data.export_archive(person["contact"], actor=officer, now=utcnow())
    with pytest.raises(rules.LeadsOnly):
        person_data.erase(person["contact"], actor=officer, now=utcnow())


def _every_text_in_the_database() -> str:
    """Every value of every table (the search index too), as one text to look in."""
    chunks = []
    with db.engine.connect() as connection:
        names = [table.name for table in db.metadata.sorted_tables]
        names.append("fts_inquiries")
        for name in names:
            column = "document" if name == "fts_inquiries" else "*"
            for row in connection.execute(text(f"SELECT {column} FROM {name}")):  # noqa: S608
                chunks.append(" ".join(str(value) for value in row))
    return "\n".join(chunks)


def test_after_erasure_nothing_of_the_person_is_found_anywhere(app, person) -> None:
    contact, lead, bystander = person["contact"], person["lead"], person["bystander"]
    ids = [inquiry.id for inquiry in person["inquiries"]]
    assert search.search_ids(SECRET_WORD, limit=10)
    counts = person_data.erase(contact, actor=lead, now=utcnow())
    db.session.commit()
    assert counts["inquiries"] == 2 and counts["contacts"] == 2
    everything = _every_text_in_the_database()
    for needle in (NAME, "Zarghuna", "Qaderi", EMAIL, OTHER_EMAIL, PHONE, SECRET_WORD, "my brother"):
        assert needle not in everything, needle
        assert needle.lower() not in everything.lower(), needle
    for query in ("Zarghuna", "Qaderi", SECRET_WORD, EMAIL, "brother"):
        assert search.search_ids(query, limit=10) == [], query
    assert search.exact_match(EMAIL) is None
    # The inquiries stay, anonymous, for the figures.
    remaining = db.session.scalars(select(Inquiry).where(Inquiry.id.in_(ids))).all()
    assert len(remaining) == 2 and all(inquiry.purged_at is not None for inquiry in remaining)
    # The erasure is audited without the content; the bystander is untouched.
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "contact.erased"))
    assert event is not None and NAME not in json.dumps(event.details)
    assert search.search_ids("Unrelated", limit=10) == [bystander.id]
    assert bystander.contact.email == "bystander@example.com"
    # An export after the erasure holds nothing of them either.
    archive = zipfile.ZipFile(io.BytesIO(person_data.export_archive(contact, actor=lead, now=utcnow())))
    exported = archive.read("person.json").decode() + archive.read("summary.html").decode()
    for needle in (NAME, EMAIL, OTHER_EMAIL, PHONE, SECRET_WORD):
        assert needle not in exported
    assert inspect(contact).persistent and directory.get_contact(contact.id).erased_at is not None


def test_people_concerned_and_subscriptions_are_exported_and_erased(app, person) -> None:
    """Tables added by need-to-know (issue 12) and mailing lists (issue 14) join the person's data."""
    from inquiry_desk.inquiries.models import PersonConcerned
    from inquiry_desk.mailing.models import ConsentRecord, MailingList, Subscription

    contact, lead, inquiry = person["contact"], person["lead"], person["inquiries"][0]
    db.session.add(PersonConcerned(inquiry_id=inquiry.id, name="Brother Okonkwo-Lindqvist", relationship="brother"))
    bulletin = MailingList(name_en="Updates", name_fr="Nouvelles")
    db.session.add(bulletin)
    db.session.flush()
    subscription = Subscription(list_id=bulletin.id, contact_id=contact.id, status="subscribed", language="en")
    db.session.add(subscription)
    db.session.flush()
    db.session.add(ConsentRecord(subscription_id=subscription.id, given=True, method="public_form", at=utcnow(),
                                 consent_text="Send me the updates", language="en", ip_address="192.0.2.7"))
    db.session.commit()

    data = json.loads(zipfile.ZipFile(io.BytesIO(person_data.export_archive(contact, actor=lead, now=utcnow())))
                      .read("person.json"))
    assert [row["name"] for row in data["people_concerned"]] == ["Brother Okonkwo-Lindqvist"]
    subscriptions = [(row["list"], row["consents"][0]["ip_address"]) for row in data["subscriptions"]]
    assert subscriptions == [("Updates", "192.0.2.7")]

    counts = person_data.erase(contact, actor=lead, now=utcnow())
    db.session.commit()
    assert counts["subscriptions"] == 1
    assert db.session.scalars(select(PersonConcerned)).all() == []
    assert db.session.scalars(select(Subscription)).all() == []
    assert db.session.scalars(select(ConsentRecord)).all() == []
