"""What the emails around an inquiry say (issue 10 defect 8)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import select

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import correspondence
from inquiry_desk.mail.models import OutgoingEmail

from ..helpers import make_inquiry, make_user


def _row(cause_key: str) -> OutgoingEmail:
    return db.session.scalar(select(OutgoingEmail).where(OutgoingEmail.cause_key == cause_key))


def test_the_confirmation_repeats_the_message_only_when_configured(app_factory: Callable[..., Flask]) -> None:
    for setting, repeated in ((False, False), (True, True)):
        app = app_factory(CONFIRMATION_INCLUDES_MESSAGE=setting)
        with app.app_context():
            inquiry = make_inquiry(body="Our family's medical details", email=f"p{int(setting)}@example.net")
            row = _row(f"inquiry:{inquiry.id}:confirmation")
            assert ("Our family's medical details" in row.body_text) is repeated
            assert ("Our family&#39;s medical details" in (row.body_html or "")) is repeated
            assert inquiry.reference in row.body_text


def test_the_team_notice_is_written_in_the_team_s_language(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(MAIL_TEAM_ADDRESS="equipe@example.org", MAIL_TEAM_LANGUAGE="fr")
    with app.app_context():
        inquiry = make_inquiry()
        row = _row(f"inquiry:{inquiry.id}:team-notice")
        assert row.language == "fr" and row.subject == f"Nouvelle demande {inquiry.reference}"
        assert "Une nouvelle demande est arrivée" in row.body_text
        assert row.from_address == "Bureau des demandes <inquiries@example.org>"


def test_a_reply_that_ends_with_a_signature_is_not_signed_twice(app) -> None:
    officer = make_user(role="officer", name="Marie Tremblay")
    inquiry = make_inquiry()
    signed = correspondence.send_reply(inquiry, "Here is the answer.\n\nRegards,\nMarie  Tremblay\nOfficer",
                                       actor=officer, now=utcnow())
    unsigned = correspondence.send_reply(inquiry, "One more thing.", actor=officer, now=utcnow())
    db.session.commit()
    signed_row = _row(f"inquiry:{inquiry.id}:reply:{signed.id}")
    unsigned_row = _row(f"inquiry:{inquiry.id}:reply:{unsigned.id}")
    assert signed_row.body_text.count("Tremblay") == 1
    assert (signed_row.body_html or "").count("Tremblay") == 1
    assert unsigned_row.body_text.count("Marie Tremblay") == 1


def test_a_reply_to_an_inquiry_without_confirmation_names_its_reference(app) -> None:
    officer = make_user(role="officer")
    inquiry = make_inquiry(subject="Work permits")
    db.session.delete(_row(f"inquiry:{inquiry.id}:confirmation"))  # as after the retention purge
    db.session.commit()
    reply = correspondence.send_reply(inquiry, "Answer.", actor=officer, now=utcnow())
    db.session.commit()
    row = _row(f"inquiry:{inquiry.id}:reply:{reply.id}")
    assert row.subject == f"Re: Work permits [{inquiry.reference}]"
    assert "In-Reply-To" not in row.extra_headers
