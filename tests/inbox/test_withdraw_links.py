"""Issue 11, M3: staff withdraw a stakeholder's private links from the inquiry page, and replies stop
minting a fresh 90-day link while one still works."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import correspondence
from inquiry_desk.inquiries import services as inquiries
from inquiry_desk.inquiries.models import PortalLink
from inquiry_desk.mail.models import OutgoingEmail

from ..helpers import make_inquiry, make_user, page


def _links(inquiry) -> int:
    return db.session.scalar(select(func.count()).select_from(PortalLink).where(PortalLink.inquiry_id == inquiry.id))


def test_an_officer_withdraws_the_links_from_the_inquiry_page(app, signed_in) -> None:
    officer = signed_in("officer")
    inquiry = make_inquiry()
    _, token = inquiries.create_portal_link(inquiry, now=utcnow())
    db.session.commit()
    soup = page(officer.get(f"/staff/inquiries/{inquiry.id}"))
    assert "2 private links to this inquiry work." in soup.get_text()
    response = officer.post(f"/staff/inquiries/{inquiry.id}/withdraw-links")
    assert response.status_code == 302
    db.session.expire_all()
    assert inquiries.live_portal_links(inquiry, now=utcnow()) == 0
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "inquiry.portal_links_revoked"))
    assert event is not None and event.actor_id == officer.user.id and event.details["count"] == 2
    soup = page(officer.get(f"/staff/inquiries/{inquiry.id}"))
    assert "private links withdrawn" in soup.get_text()
    assert "No private link to this inquiry works now." in soup.get_text()
    assert app.test_client().get(f"/en/portal/{token}").status_code == 410


def test_a_viewer_cannot_withdraw_links(app, signed_in) -> None:
    viewer = signed_in("viewer")
    inquiry = make_inquiry()
    assert viewer.post(f"/staff/inquiries/{inquiry.id}/withdraw-links").status_code == 403
    assert inquiries.live_portal_links(inquiry, now=utcnow()) == 1


def test_a_reply_mints_no_new_link_while_one_still_works(app) -> None:
    officer = make_user(role="officer")
    inquiry = make_inquiry(language="fr")
    assert _links(inquiry) == 1
    reply = correspondence.send_reply(inquiry, "Voici la réponse.", actor=officer, now=utcnow())
    db.session.commit()
    assert _links(inquiry) == 1
    row = db.session.scalar(select(OutgoingEmail).where(OutgoingEmail.message_id == reply.email_message_id))
    assert "/fr/portail/nouveau-lien" in row.body_text and "courriels précédents" in row.body_text
    assert not re.search(r"/fr/portail/(?!nouveau-lien)\S{20,}", row.body_text)


def test_a_reply_mints_a_new_link_when_none_works_for_long_enough(app) -> None:
    officer = make_user(role="officer")
    inquiry = make_inquiry()
    later = utcnow() + timedelta(days=app.config["PORTAL_LINK_DAYS"] * 0.6)
    reply = correspondence.send_reply(inquiry, "Here is the answer.", actor=officer, now=later)
    db.session.commit()
    assert _links(inquiry) == 2
    row = db.session.scalar(select(OutgoingEmail).where(OutgoingEmail.message_id == reply.email_message_id))
    token = re.search(r"/en/portal/(\S{20,})", row.body_text)
    assert token and token.group(1) != "new-link"
    assert inquiries.open_portal_link(token.group(1), now=later) == inquiry
