"""The corpus (tests/data/mail/): each message's outcome, as tests/data/mail/expected.json says.

Threaded to which inquiry, a new inquiry (linked or not, acknowledged or not, in which
language, trusted or not), a note, ignored and why, a bounce recorded (the address
suppressed, the outbox email failed, the directory's follow-up). Placeholders in the files
({{REFERENCE}}, {{CONFIRMATION_ID}}…) are the scenario's inquiries and the emails the desk sent.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from inquiry_desk.core import file_store
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import attachments, links
from inquiry_desk.inquiries.email_in import whole_message
from inquiry_desk.inquiries.models import Channel, Inquiry, MessageKind, Status
from inquiry_desk.inquiries.services import public_thread
from inquiry_desk.mail.inbound.models import InboundEmail
from inquiry_desk.mail.models import EmailStatus, MailSuppression, OutgoingEmail

from ...helpers import edit
from .support import CORPUS, feed, scenario

EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text())


def test_the_corpus_is_large_enough() -> None:
    assert len(EXPECTED) >= 60
    assert {path.stem for path in CORPUS.glob("*.eml")} == set(EXPECTED)


def _acks_to(address: str | None, before: int) -> list[OutgoingEmail]:
    return list(db.session.scalars(select(OutgoingEmail).where(
        OutgoingEmail.id > before, OutgoingEmail.to_address == address,
        OutgoingEmail.cause_key.like("%:confirmation"))))


GROUPS = {
    "replies": ("reply_",),
    "strangers": ("stranger_", "requester_"),
    "new": ("new_",),
    "automatic": ("ooo_", "auto_", "precedence_", "list_", "own_", "null_"),
    "bounces": ("report_", "bounce_"),  # farida's address is suppressed by one of these: kept apart
    "malformed": ("malformed_",),
}


def test_every_message_is_in_a_group() -> None:
    assert all(any(name.startswith(GROUPS[group]) for group in GROUPS) for name in EXPECTED)


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_message_outcomes(app, group: str) -> None:
    """Each message of the group against a scenario of its own (one database per group: fast on PostgreSQL)."""
    app.config["MAIL_AUTHSERV_ID"] = "mx.example.org"
    failures = []
    for name in sorted(name for name in EXPECTED if name.startswith(GROUPS[group])):
        try:
            _check_message(name)
        except AssertionError as exc:
            db.session.rollback()
            failures.append(f"{name}: {exc}")
    assert not failures, "\n".join(failures)


def _check_message(name: str) -> None:
    expected = EXPECTED[name]
    s = scenario()
    edit(s.inquiry, status=Status.WAITING.value)
    db.session.commit()
    by_name = {"A": s.inquiry, "partner": s.partner_inquiry}
    last_inquiry = db.session.scalar(select(func.max(Inquiry.id)))
    last_email = db.session.scalar(select(func.max(OutgoingEmail.id))) or 0
    raw = s.fill((CORPUS / f"{name}.eml").read_bytes())

    result = feed(raw)

    assert result.exit_code == 0
    assert result.outcome == expected["outcome"], (result.outcome, result.reason)
    if "reason" in expected:
        assert result.reason == expected["reason"]
    row = db.session.get_one(InboundEmail, result.inbound_id)
    assert row.raw == raw
    new = db.session.scalars(select(Inquiry).where(Inquiry.id > last_inquiry).order_by(Inquiry.id)).all()
    outcome = expected["outcome"]
    if outcome == "threaded":
        inquiry = by_name[expected["inquiry"]]
        db.session.refresh(inquiry)
        message = inquiry.messages[-1]
        assert message.kind == MessageKind.INBOUND.value and message.inbound_email_id == row.id
        assert message.channel == Channel.EMAIL.value
        assert not new
        if inquiry is s.inquiry:
            assert inquiry.status == Status.OPEN.value  # a waiting inquiry reopens
        _check_body(message.body, expected)
        if name == "reply_partner_colleague":  # kept with its author, not the requester; in the portal too
            assert message.author_contact_id != inquiry.contact_id
            assert message in public_thread(inquiry)
        if "whole_contains" in expected:
            assert expected["whole_contains"] in (whole_message(inquiry, message.id) or "")
        _check_attachments(message.id, expected)
    elif outcome == "note":
        inquiry = by_name[expected["inquiry"]]
        db.session.refresh(inquiry)
        assert inquiry.messages[-1].kind == MessageKind.NOTE.value
        assert inquiry.status == Status.WAITING.value  # an out-of-office reply reopens nothing
        assert not new
    elif outcome == "new_inquiry":
        assert len(new) == 1
        inquiry = new[0]
        assert inquiry.channel == Channel.EMAIL.value and inquiry.messages[0].inbound_email_id == row.id
        _check_body(inquiry.messages[0].body, expected)
        _check_attachments(inquiry.messages[0].id, expected)
        if "linked" in expected:
            assert links.is_linked(inquiry, by_name[expected["linked"]])
            other = by_name[expected["linked"]]
            assert len(db.session.get_one(Inquiry, other.id).messages) == 1  # nothing joined the other thread
        acks = _acks_to(inquiry.contact.email, last_email)
        if "ack" in expected:
            assert len(acks) == (1 if expected["ack"] else 0)
        for ack in acks:
            assert inquiry.reference in ack.subject
            if "linked" in expected:
                other = by_name[expected["linked"]]
                assert other.reference not in ack.subject + ack.body_text
            if expected.get("ack_both"):
                assert "Your inquiry" in ack.subject and "Votre demande" in ack.subject
            elif expected.get("language") == "fr":
                assert ack.subject.startswith("Votre demande")
        if "language" in expected:
            assert inquiry.language == expected["language"]
        if "trusted" in expected:
            assert inquiry.trusted_partner is expected["trusted"]
        if expected.get("organisation"):
            assert inquiry.organisation_id is not None
        if "subject" in expected:
            assert inquiry.subject == expected["subject"]
        if "contact_name" in expected:
            assert inquiry.contact.name == expected["contact_name"]
    elif outcome == "ignored":
        assert not new
    elif outcome == "bounce":
        if "suppressed" in expected:
            assert db.session.get(MailSuppression, expected["suppressed"]) is not None
        if "not_suppressed" in expected:
            assert db.session.get(MailSuppression, expected["not_suppressed"]) is None
        if "failed_email" in expected:
            original = s.values["CONFIRMATION_ID" if expected["failed_email"] == "A" else "PARTNER_CONFIRMATION_ID"]
            email = db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.message_id == original)).one()
            assert email.status == EmailStatus.FAILED.value
        follow_ups = [inquiry for inquiry in new if inquiry.channel == Channel.MANUAL.value]
        assert len(follow_ups) == (1 if expected.get("follow_up") else 0)
        assert len(new) == len(follow_ups)
        if expected.get("follow_up"):
            assert follow_ups[0].topic is not None and follow_ups[0].topic.code == "partnership_funding"
            assert feed(raw.replace(b"Message-ID: <bounce-", b"Message-ID: <again-")).outcome == "bounce"
            assert db.session.scalar(select(func.count()).select_from(Inquiry)
                                     .where(Inquiry.channel == Channel.MANUAL.value)) == 1  # once per address


def _check_body(body: str, expected: dict[str, Any]) -> None:
    assert "\x00" not in body
    if "body_contains" in expected:
        assert expected["body_contains"] in body
    if "body_excludes" in expected:
        assert expected["body_excludes"] not in body


def _check_attachments(message_id: int, expected: dict[str, Any]) -> None:
    """Files kept with the type found in their content (the name may lie), refused ones with their reason."""
    rows = attachments.of_messages([message_id]).get(message_id, [])
    assert [[row.filename, row.content_type, row.refused_reason] for row in rows] == expected.get("attachments", [])
    for row in rows:
        assert (row.sha256 is None) == (row.refused_reason is not None)
        if row.sha256:
            assert file_store.digest(file_store.read(row.sha256) or b"") == row.sha256
