"""A person's data (QUALITY.md S8): everything the desk holds about one contact, exported or erased.

The person is a contact and the contacts merged into it (their other addresses).

Export: one ZIP archive holding ``person.json`` (every record, field by field) and
``summary.html`` (the same, readable). It holds the contact rows; their inquiries with every
message (internal notes included: they are about the person); the private links issued
(dates only: a token is never stored); the emails the desk queued or sent to them; and the
audit entries about them and their inquiries; the people concerned named in their inquiries;
and what other capabilities register in ``directory/personal_sources.py`` (mailing-list
subscriptions with their consent records).

Erasure: the contact rows keep only their id: name ``—``, email ``erased-<id>@invalid``
(the column is unique), phone, title, notes and typed organisation emptied, ``erased_at``
set. Each of their inquiries is anonymised through the recorder as the retention purge does
(subject and every message body replaced, typed organisation emptied, ``purged_at`` set, so
its search document is emptied at commit), its private links and attachments deleted (and the
files of attachments they sent into other inquiries), and every outgoing
email about it or to the person's addresses deleted, digests naming it included. The
inquiries stay, anonymous, for the figures (dates, status, topic, times). The audit entry
``contact.erased`` records the ids and counts, never the content. The people concerned named
in their inquiries are deleted with the content; registered sources erase their own rows.
"""

from __future__ import annotations

import html
import io
import json
import zipfile
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, inspect, or_, select, update
from sqlalchemy.orm import selectinload

from inquiry_desk.accounts.models import User
from inquiry_desk.audit import services as audit
from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core import file_store
from inquiry_desk.core.database import rows_affected
from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Contact, DirectoryImport
from inquiry_desk.directory.personal_sources import sources
from inquiry_desk.directory.rules import require_lead
from inquiry_desk.inquiries import attachments, recorder
from inquiry_desk.inquiries.models import Attachment, Inquiry, Message, PersonConcerned, PortalLink
from inquiry_desk.mail.inbound.models import InboundEmail
from inquiry_desk.mail.models import OutgoingEmail

ERASED_NAME = "—"
ERASED_TEXT = "[erased at the person's request]"


def erased_email(contact_id: int) -> str:
    return f"erased-{contact_id}@invalid"


def person_contacts(contact: Contact) -> list[Contact]:
    """The contact and every contact merged into it (directly or through another)."""
    found = [contact]
    frontier = [contact.id]
    while frontier:
        merged = db.session.scalars(select(Contact).where(Contact.merged_into_id.in_(frontier))).all()
        merged = [other for other in merged if other not in found]
        found.extend(merged)
        frontier = [other.id for other in merged]
    return found


def _inquiries(contact_ids: Sequence[int]) -> Sequence[Inquiry]:
    return db.session.scalars(
        select(Inquiry).where(Inquiry.contact_id.in_(contact_ids)).order_by(Inquiry.id)
        .options(selectinload(Inquiry.messages), selectinload(Inquiry.tags), selectinload(Inquiry.topic))
    ).all()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _columns(row: Any, leave_out: Sequence[str] = ()) -> dict[str, Any]:
    return {column.key: _plain(getattr(row, column.key)) for column in inspect(row).mapper.column_attrs
            if column.key not in leave_out}


def _emails_filter(addresses: Sequence[str], inquiry_ids: Sequence[int]) -> Any:
    conditions = [OutgoingEmail.to_address.in_(addresses)]
    conditions.extend(OutgoingEmail.cause_key.like(f"inquiry:{inquiry_id}:%") for inquiry_id in inquiry_ids)
    return or_(*conditions)


def collect(contact: Contact) -> dict[str, Any]:
    """Every record the desk holds about the person, as plain JSON-ready values."""
    contacts = person_contacts(contact)
    contact_ids = [row.id for row in contacts]
    inquiries = _inquiries(contact_ids)
    inquiry_ids = [inquiry.id for inquiry in inquiries]
    addresses = [row.email for row in contacts]
    links = db.session.scalars(select(PortalLink).where(PortalLink.inquiry_id.in_(inquiry_ids))
                               .order_by(PortalLink.id)).all() if inquiry_ids else []
    emails = db.session.scalars(select(OutgoingEmail).where(_emails_filter(addresses, inquiry_ids))
                                .order_by(OutgoingEmail.id)).all()
    events = db.session.scalars(select(AuditEvent).where(or_(
        (AuditEvent.subject_type == "contact") & AuditEvent.subject_id.in_(contact_ids),
        (AuditEvent.subject_type == "inquiry") & AuditEvent.subject_id.in_(inquiry_ids or [-1]),
    )).order_by(AuditEvent.id)).all()
    people = db.session.scalars(select(PersonConcerned).where(PersonConcerned.inquiry_id.in_(inquiry_ids or [-1]))
                                .order_by(PersonConcerned.id)).all()
    files = db.session.scalars(select(Attachment).where(_their_files(inquiry_ids, contact_ids))
                               .order_by(Attachment.id)).all()
    return {
        "contacts": [{**_columns(row), "organisation": row.organisation.name if row.organisation else None}
                     for row in contacts],
        "inquiries": [{
            **_columns(inquiry, leave_out=("version", "targets_version", "target_notices")),
            "topic": inquiry.topic.code if inquiry.topic else None,
            "tags": [tag.name for tag in inquiry.tags],
            "messages": [_columns(message) for message in inquiry.messages],
        } for inquiry in inquiries],
        "portal_links": [_columns(link, leave_out=("token_hash",)) for link in links],
        "emails": [_columns(email, leave_out=("extra_headers", "claimed_until")) for email in emails],
        "audit_events": [_columns(event) for event in events],
        "people_concerned": [_columns(person) for person in people],
        "attachments": [{**_columns(row), "in_archive": _archived_name(row) if row.sha256 else None}
                        for row in files],
        "subscriptions": [],
        **{source.name: source.collect(contact_ids) for source in sources()},
    }


def export_archive(contact: Contact, *, actor: User | None, now: datetime) -> bytes:
    """The person's data as a ZIP of ``person.json`` and ``summary.html`` (leads only; audited)."""
    require_lead(actor)
    data = collect(contact)
    audit.record("contact.data_exported", actor_id=actor.id if actor else None, subject_type="contact",
                 subject_id=contact.id, details={"contacts": len(data["contacts"]),
                                                 "inquiries": len(data["inquiries"])}, now=now)
    data["exported_at"] = now.isoformat()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("person.json", json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True))
        archive.writestr("summary.html", summary_html(data))
        for row in data["attachments"]:  # the files themselves, beside the records
            content = file_store.read(row["sha256"]) if row["in_archive"] else None
            if content is not None:
                archive.writestr(row["in_archive"], content)
    return buffer.getvalue()


def _their_files(inquiry_ids: Sequence[int], contact_ids: Sequence[int]) -> Any:
    """Files of their inquiries, and those they sent into another (a colleague's reply by email)."""
    return or_(attachments.in_inquiries(inquiry_ids),
               Attachment.message_id.in_(select(Message.id).where(Message.author_contact_id.in_(contact_ids))))


def _archived_name(row: Attachment) -> str:
    return f"files/{row.id}-{row.filename}"


def summary_html(data: dict[str, Any]) -> str:
    """A readable page of the same records: one table per kind of record."""
    parts = ['<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Personal data</title></head><body>',
             "<h1>Personal data held by the Inquiry Desk</h1>", f"<p>Exported {html.escape(data['exported_at'])}</p>"]
    sections = ["contacts", "inquiries", "portal_links", "emails", "audit_events", "people_concerned",
                "attachments", *(source.name for source in sources())]
    for section in dict.fromkeys(sections):
        rows = data[section]
        parts.append(f"<h2>{html.escape(section.replace('_', ' ').capitalize())} ({len(rows)})</h2>")
        for row in rows:
            parts.append("<table>")
            for key, value in row.items():
                if key == "messages":
                    for message in value:
                        parts.append(f"<tr><th scope=\"row\">message {message['id']} ({html.escape(message['kind'])})"
                                     f"</th><td><pre>{html.escape(str(message['body']))}</pre></td></tr>")
                    continue
                shown = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value
                parts.append(f"<tr><th scope=\"row\">{html.escape(key)}</th><td>{html.escape(str(shown))}</td></tr>")
            parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def erase(contact: Contact, *, actor: User | None, now: datetime) -> dict[str, int]:
    """Erase the person (leads only): see the module notes. Returns counts for the audit entry and the page."""
    require_lead(actor)
    contacts = person_contacts(contact)
    contact_ids = [row.id for row in contacts]
    addresses = [row.email for row in contacts]
    names = {row.name for row in contacts if row.name and len(row.name) >= 3}
    inquiries = _inquiries(contact_ids)
    inquiry_ids = [inquiry.id for inquiry in inquiries]
    references = [inquiry.reference for inquiry in inquiries if inquiry.reference]
    for inquiry in inquiries:
        with recorder.change(inquiry, actor=actor, now=now) as change:
            db.session.execute(update(Message).where(Message.inquiry_id == inquiry.id).values(body=ERASED_TEXT)
                               .execution_options(synchronize_session=False))
            db.session.expire(inquiry, ["messages"])
            inquiry.subject = ERASED_TEXT
            inquiry.organisation_name = None
            inquiry.purged_at = inquiry.purged_at or now
            change.event("erased", reference=inquiry.reference)
    # The whole emails they sent, or that came into their inquiries (email in).
    db.session.execute(delete(InboundEmail).where(or_(
        InboundEmail.sender_key.in_(addresses),
        InboundEmail.id.in_(select(Message.inbound_email_id).where(Message.inquiry_id.in_(inquiry_ids)))))
        .execution_options(synchronize_session=False))
    # Files of their inquiries, and those they sent into another (a colleague's reply by email): the
    # rows now, each file after the commit unless another inquiry keeps the same one.
    files = attachments.erase_where(_their_files(inquiry_ids, contact_ids), now=now)
    if inquiry_ids:
        db.session.execute(delete(PortalLink).where(PortalLink.inquiry_id.in_(inquiry_ids)))
        db.session.execute(delete(PersonConcerned).where(PersonConcerned.inquiry_id.in_(inquiry_ids)))
    # Emails about them or to them, and any other email (a digest) that names them or their inquiries.
    mentions = [*addresses, *names, *references]
    email_filter = or_(_emails_filter(addresses, inquiry_ids),
                       *(OutgoingEmail.body_text.contains(text, autoescape=True) for text in mentions),
                       *(OutgoingEmail.subject.contains(text, autoescape=True) for text in mentions))
    emails = rows_affected(db.session.execute(delete(OutgoingEmail).where(email_filter)))
    # A CSV file waiting between its preview and its import may hold their address.
    db.session.execute(delete(DirectoryImport).where(
        or_(*(DirectoryImport.content.contains(address, autoescape=True) for address in addresses))))
    for row in contacts:
        row.name = ERASED_NAME
        row.email = erased_email(row.id)
        row.phone = row.title = row.notes = row.organisation_name = None
        row.active = False
        row.erased_at = now
        row.updated_at = now
    counts = {"contacts": len(contacts), "inquiries": len(inquiries), "emails": int(emails or 0),
              "attachments": files}
    for source in sources():
        counts[source.name] = source.erase(contact_ids, now)
    audit.record("contact.erased", actor_id=actor.id if actor else None, subject_type="contact",
                 subject_id=contact.id, details={**counts, "contact_ids": contact_ids}, now=now)
    return counts
