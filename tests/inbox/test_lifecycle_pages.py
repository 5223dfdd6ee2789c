"""The pages over links' siblings: reply marks in the inbox, holds on the inquiry page, the notification choice."""

from __future__ import annotations

from sqlalchemy import select

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import triage
from inquiry_desk.inquiries.models import Inquiry
from inquiry_desk.intake import services as intake

from ..helpers import edit, make_inquiry, page


def test_a_portal_reply_long_after_closing_says_a_new_inquiry_was_opened(app, client) -> None:
    from datetime import timedelta

    from inquiry_desk.inquiries import services as inquiries

    inquiry = make_inquiry(now=utcnow() - timedelta(days=100))
    edit(inquiry, status="closed", resolved_at=utcnow() - timedelta(days=90))
    db.session.commit()
    _link, token = inquiries.create_portal_link(inquiry, now=utcnow())
    db.session.commit()
    response = client.post(f"/fr/portail/{token}", data={"message": "Encore une question"})
    soup = page(client.get(response.headers["Location"]), lang="fr")
    newest = db.session.scalars(select(Inquiry).order_by(Inquiry.id.desc())).first()
    assert newest.id != inquiry.id
    notice = soup.select_one(".notice-success").get_text()
    assert newest.reference in notice and "nouvelle demande" in notice
    assert "Encore une question" not in soup.get_text()  # it is in the new inquiry's thread, not this one


def _new_reply_refs(client) -> list[str]:
    soup = page(client.get("/staff/inquiries/?queue=all"))
    return [row.select_one("a[id^=ref-]").get_text() for row in soup.select("tbody tr")
            if row.select_one(".badge-new-reply")]


def test_a_stakeholder_reply_is_marked_in_the_inbox_until_the_assignee_opens_it(app, signed_in) -> None:
    assignee, colleague = signed_in("officer"), signed_in("officer")
    inquiry = make_inquiry()
    triage.assign(inquiry, assignee.user, actor=assignee.user, now=utcnow())
    edit(inquiry, status="closed", resolved_at=utcnow())
    db.session.commit()
    intake.reply_from_portal(inquiry, "A reply to a closed inquiry", now=utcnow())
    db.session.commit()
    assert _new_reply_refs(assignee) == [inquiry.reference]
    page(colleague.get(f"/staff/inquiries/{inquiry.id}"))  # someone else's look does not count
    assert _new_reply_refs(assignee) == [inquiry.reference]
    page(assignee.get(f"/staff/inquiries/{inquiry.id}"))
    assert _new_reply_refs(assignee) == []


def test_a_lead_puts_an_inquiry_on_hold_the_page_shows_it_and_lifting_is_audited(app, signed_in) -> None:
    lead, officer = signed_in("lead"), signed_in("officer")
    inquiry = make_inquiry()
    assert not page(officer.get(f"/staff/inquiries/{inquiry.id}")).select("#hold-submit")
    assert officer.post(f"/staff/inquiries/{inquiry.id}/hold", data={"reason": "Legal matter"}).status_code == 403
    assert lead.post(f"/staff/inquiries/{inquiry.id}/hold", data={"reason": "ATIP A-2026-0042"}).status_code == 302
    soup = page(officer.get(f"/staff/inquiries/{inquiry.id}"))
    assert "ATIP A-2026-0042" in soup.select_one("[data-testid=hold]").get_text()
    assert "put on hold: ATIP A-2026-0042" in soup.select_one(".history").get_text()
    assert lead.post(f"/staff/inquiries/{inquiry.id}/lift-hold").status_code == 302
    db.session.expire_all()
    assert db.session.get(Inquiry, inquiry.id).hold_reason is None
    lifted = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "inquiry.hold_lifted")).one()
    assert lifted.actor_id == lead.user.id and lifted.details["reason"] == "ATIP A-2026-0042"
    assert not page(lead.get(f"/staff/inquiries/{inquiry.id}")).select("[data-testid=hold]")


def test_an_empty_hold_reason_is_refused_with_a_message(app, signed_in) -> None:
    lead = signed_in("lead")
    inquiry = make_inquiry()
    response = lead.post(f"/staff/inquiries/{inquiry.id}/hold", data={"reason": "  "})
    assert "Give the reason for the hold." in page(lead.get(response.headers["Location"])).get_text()


def test_the_notification_choice_is_on_by_default_and_saved_from_the_account_page(app, signed_in) -> None:
    officer = signed_in("officer")
    soup = page(officer.get("/staff/account"))
    box = soup.select_one("input[name=wants_notifications]")
    assert box.has_attr("checked")
    assert officer.post("/staff/account/notifications", data={}).status_code == 302
    db.session.expire_all()
    assert officer.user.wants_notifications is False
    assert not page(officer.get("/staff/account")).select_one("input[name=wants_notifications]").has_attr("checked")
    officer.post("/staff/account/notifications", data={"wants_notifications": "y"})
    db.session.expire_all()
    assert officer.user.wants_notifications is True


def test_an_id_beyond_the_integer_column_is_a_404_not_a_500(app, signed_in) -> None:
    lead = signed_in("lead")
    inquiry = make_inquiry()
    huge = 10**20
    assert lead.get(f"/staff/inquiries/{huge}").status_code == 404
    assert lead.post(f"/staff/inquiries/{huge}/hold", data={"reason": "x"}).status_code == 404
    assert lead.post(f"/staff/inquiries/{inquiry.id}/unlink/{huge}").status_code == 404
