"""Helpers for the email-in tests: a scenario with one inquiry, and messages fed to ingest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.correspondence import confirmation_cause_key
from inquiry_desk.inquiries.models import Inquiry
from inquiry_desk.mail.inbound import ingest
from inquiry_desk.mail.models import OutgoingEmail

from ...helpers import make_inquiry, make_organisation

CORPUS = Path(__file__).resolve().parents[2] / "data" / "mail"


@dataclass
class Scenario:
    inquiry: Inquiry
    partner_inquiry: Inquiry
    values: dict[str, str]

    def fill(self, raw: bytes) -> bytes:
        for name, value in self.values.items():
            raw = raw.replace(("{{" + name + "}}").encode(), value.encode())
        return raw


def confirmation_id(inquiry: Inquiry) -> str:
    return db.session.scalars(select(OutgoingEmail.message_id)
                              .where(OutgoingEmail.cause_key == confirmation_cause_key(inquiry.id))).one()


def scenario() -> Scenario:
    """farida@example.net's inquiry, and a trusted partner's (partner@amanlara.org, with a colleague on file)."""
    from inquiry_desk.directory.models import Contact, Organisation

    inquiry = make_inquiry(subject="Timeline for our sponsorship")
    organisation = db.session.scalar(select(Organisation).where(Organisation.name == "Aman Lara"))
    if organisation is None:  # one scenario after another in one database: the directory is made once
        organisation = make_organisation()
        db.session.add(Contact(email="colleague@amanlara.org", name="Colleague Amanlara", language="en",
                               organisation_id=organisation.id, created_at=utcnow()))
    partner_inquiry = make_inquiry(email="partner@amanlara.org", subject="Partner question")
    partner_inquiry.contact.organisation_id = organisation.id
    db.session.commit()
    values = {
        "REFERENCE": inquiry.reference or "",
        "CONFIRMATION_ID": confirmation_id(inquiry),
        "PARTNER_REFERENCE": partner_inquiry.reference or "",
        "PARTNER_CONFIRMATION_ID": confirmation_id(partner_inquiry),
    }
    values["CONFIRMATION_ID_BARE"] = values["CONFIRMATION_ID"].strip("<>")
    values["PARTNER_CONFIRMATION_ID_BARE"] = values["PARTNER_CONFIRMATION_ID"].strip("<>")
    values["REFERENCE_Q"] = values["REFERENCE"]
    return Scenario(inquiry=inquiry, partner_inquiry=partner_inquiry, values=values)


def feed(raw: bytes, *, now: datetime | None = None, source: str = "pipe") -> ingest.Result:
    return ingest.ingest_and_commit(raw, source=source, now=now or utcnow())
