"""Issue 10 defect 5: text at exactly its limit, with line breaks sent as CRLF, is accepted everywhere.

The browser counts a line break once (its ``maxlength``) and sends CRLF; every form that
limits text counts the normalised text, as ``core.text.parse_text`` does.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.canned.models import CannedResponse
from inquiry_desk.inquiries.models import Inquiry, Message

from ..helpers import make_inquiry
from ..intake.test_portal import _portal_path


def _text_of(length: int) -> tuple[str, str]:
    """A text of ``length`` characters as the browser counts it, and as the browser sends it (CRLF)."""
    line = "x" * 99 + "\n"
    text = (line * (length // len(line) + 1))[:length - 1] + "y"  # trailing breaks are trimmed: end on a letter
    assert len(text) == length and "\n" in text
    return text, text.replace("\n", "\r\n")


def test_a_portal_reply_at_the_limit_is_accepted(app, client) -> None:
    inquiry = make_inquiry()
    path = _portal_path(app, inquiry)
    text, sent = _text_of(20_000)
    assert client.post(path, data={"message": sent}).status_code == 302
    assert db.session.scalar(select(Message).where(Message.body == text)) is not None


@pytest.mark.parametrize("action", ["reply", "note"])
def test_a_staff_reply_or_note_at_the_limit_is_accepted(app, signed_in, action: str) -> None:
    officer = signed_in("officer")
    inquiry = make_inquiry()
    text, sent = _text_of(20_000)
    data = {"body": sent, "language": "en", "next_status": "waiting", "version": str(inquiry.version)}
    assert officer.post(f"/staff/inquiries/{inquiry.id}/{action}", data=data).status_code == 302
    db.session.expire_all()
    assert text in [message.body for message in db.session.get(Inquiry, inquiry.id).messages]


def test_a_canned_response_at_the_limit_is_accepted(app, signed_in) -> None:
    from inquiry_desk.inquiries.canned.services import BODY_MAX

    text, sent = _text_of(BODY_MAX)
    response = signed_in("lead").post("/staff/canned-responses/new", data={
        "title_en": "Long", "title_fr": "Long", "body_en": sent, "body_fr": sent})
    assert response.status_code == 302
    saved = db.session.scalar(select(CannedResponse))
    assert saved.body_en == text and saved.body_fr == text


def test_one_character_over_the_limit_is_still_refused(app, signed_in) -> None:
    from inquiry_desk.inquiries.canned.services import BODY_MAX

    _, sent = _text_of(BODY_MAX + 1)
    response = signed_in("lead").post("/staff/canned-responses/new", data={
        "title_en": "Long", "title_fr": "Long", "body_en": sent, "body_fr": "short"})
    assert response.status_code in (200, 422)
    assert db.session.scalar(select(CannedResponse)) is None
