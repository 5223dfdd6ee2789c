"""The inbox through HTTP: lists, the inquiry page, actions, roles, saved views, export."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.models import Inquiry
from inquiry_desk.inquiries.saved_views.models import SavedView

from ..helpers import make_inquiry, page


def _csrf_free(client, url: str, **data: object):
    return client.post(url, data=data)


def test_queue_page_lists_and_counts(app, signed_in) -> None:
    client = signed_in("viewer")
    inquiry = make_inquiry(subject="Travel documents for family")
    soup = page(client.get("/staff/inquiries/?queue=new"))
    assert inquiry.reference in soup.select_one("table").get_text()
    tabs = {a.get_text(" ", strip=True) for a in soup.select(".queue-tabs a")}
    assert any(tab.startswith("New") and tab.endswith("1") for tab in tabs)
    assert soup.select_one('.queue-tabs a[aria-current="page"]').get_text().strip().startswith("New")


def test_search_box_goes_straight_to_a_reference(app, signed_in) -> None:
    client = signed_in("viewer")
    inquiry = make_inquiry()
    response = client.get("/staff/inquiries/", query_string={"q": inquiry.reference.lower()})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/staff/inquiries/{inquiry.id}")


def test_invalid_filter_is_a_message_not_an_error(app, signed_in) -> None:
    client = signed_in("viewer")
    response = client.get("/staff/inquiries/?queue=all&status=bogus")
    assert response.status_code == 302
    soup = page(client.get(response.headers["Location"]))
    assert "does not name anything" in soup.get_text()


def test_inquiry_page_shows_thread_details_and_history(app, signed_in) -> None:
    officer = signed_in("officer")
    inquiry = make_inquiry(subject="Need help <script>alert(1)</script>")
    officer.post(f"/staff/inquiries/{inquiry.id}/note", data={"body": "Internal: call IRCC"})
    officer.post(f"/staff/inquiries/{inquiry.id}/priority", data={"priority": "high"})
    soup = page(officer.get(f"/staff/inquiries/{inquiry.id}"))
    assert soup.select_one(".thread-note .thread-body").get_text() == "Internal: call IRCC"
    assert "<script>" in soup.select_one("h1").get_text() and not soup.select("h1 script")
    history = soup.select_one(".history").get_text()
    assert "priority changed: Normal → High" in history and "internal note added" in history
    views = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "inquiry.viewed")).all()
    assert len(views) == 1 and views[0].actor_id == officer.user.id


def test_viewer_reads_but_cannot_act(app, signed_in) -> None:
    viewer = signed_in("viewer")
    inquiry = make_inquiry()
    soup = page(viewer.get(f"/staff/inquiries/{inquiry.id}"))
    assert soup.select_one("form[action$='/reply']") is None
    assert viewer.post(f"/staff/inquiries/{inquiry.id}/status", data={"status": "closed"}).status_code == 403
    assert viewer.post(f"/staff/inquiries/{inquiry.id}/reply", data={"body": "x"}).status_code == 403
    assert viewer.get("/staff/inquiries/export.csv").status_code == 403


def test_officer_takes_replies_and_collision_is_caught(app, signed_in) -> None:
    first, second = signed_in("officer"), signed_in("officer")
    inquiry = make_inquiry()
    first_page = page(first.get(f"/staff/inquiries/{inquiry.id}"))
    version = first_page.select_one("input[name=version]")["value"]
    second_page = page(second.get(f"/staff/inquiries/{inquiry.id}"))
    assert first.user.name in second_page.select_one("[data-testid=others-viewing]").get_text()
    response = second.post(f"/staff/inquiries/{inquiry.id}/reply",
                           data={"body": "Answer from the second officer", "language": "en",
                                 "next_status": "waiting", "version": version})
    assert response.status_code == 302
    stale = first.post(f"/staff/inquiries/{inquiry.id}/reply",
                       data={"body": "My own answer", "language": "en", "next_status": "waiting", "version": version})
    assert stale.status_code == 409
    soup = page(stale, status=409)
    assert soup.select_one("[data-testid=conflict]")
    assert soup.select_one("textarea[name=body]").get_text().strip() == "My own answer"
    confirmed = first.post(f"/staff/inquiries/{inquiry.id}/reply",
                           data={"body": "My own answer", "language": "en", "next_status": "open",
                                 "version": soup.select_one("input[name=version]")["value"], "confirm": "yes"})
    assert confirmed.status_code == 302
    db.session.expire_all()
    assert [m.body for m in db.session.get(Inquiry, inquiry.id).messages if m.kind == "reply"] == [
        "Answer from the second officer", "My own answer"]


def test_empty_reply_shows_an_error_summary(app, signed_in) -> None:
    officer = signed_in("officer")
    inquiry = make_inquiry()
    soup = page(officer.post(f"/staff/inquiries/{inquiry.id}/reply", data={"body": "  ", "language": "en",
                                                                          "next_status": "waiting"}), status=422)
    assert soup.select_one("[data-error-summary]") and soup.title.get_text().startswith("Error")
    assert soup.select_one("textarea[name=body]")["aria-invalid"] == "true"


def test_only_leads_merge(app, signed_in) -> None:
    officer, lead = signed_in("officer"), signed_in("lead")
    keep, duplicate = make_inquiry(), make_inquiry(subject="The same question again")
    assert officer.post(f"/staff/inquiries/{duplicate.id}/merge", data={"target": keep.reference}).status_code == 403
    response = lead.post(f"/staff/inquiries/{duplicate.id}/merge", data={"target": keep.reference})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Inquiry, duplicate.id).merged_into_id == keep.id
    soup = page(lead.get(f"/staff/inquiries/{duplicate.id}"))
    assert keep.reference in soup.select_one("[data-testid=merged]").get_text()
    missing = lead.post(f"/staff/inquiries/{keep.id}/merge", data={"target": "INQ-1999-000001"})
    assert "No inquiry has the reference" in page(lead.get(missing.headers["Location"])).get_text()


def test_bulk_asks_for_confirmation_first(app, signed_in) -> None:
    officer = signed_in("officer")
    made = [make_inquiry(email=f"b{n}@example.org") for n in range(3)]
    ids = [str(i.id) for i in made]
    soup = page(officer.post("/staff/inquiries/bulk", data={"selected": ids, "action": "close"}))
    assert soup.select_one("h1").get_text() == "Confirm the bulk change"
    db.session.expire_all()
    assert all(db.session.get(Inquiry, i.id).status == "new" for i in made)
    response = officer.post("/staff/inquiries/bulk", data={"selected": ids, "action": "close", "confirmed": "yes"})
    assert response.status_code == 302
    db.session.expire_all()
    assert all(db.session.get(Inquiry, i.id).status == "closed" for i in made)


def test_saved_views_are_per_user(app, signed_in) -> None:
    mine, theirs = signed_in("viewer"), signed_in("viewer")
    response = mine.post("/staff/inquiries/views", data={"name": "French urgent",
                                                         "query": "queue=all&language=fr&priority=urgent&evil=1"})
    assert response.status_code == 302 and "language=fr" in response.headers["Location"]
    view = db.session.scalar(select(SavedView))
    assert view.query == "language=fr&priority=urgent&queue=all"
    assert "French urgent" in page(mine.get("/staff/inquiries/")).get_text()
    assert "French urgent" not in page(theirs.get("/staff/inquiries/")).get_text()
    assert theirs.post(f"/staff/inquiries/views/{view.id}/delete").status_code == 404
    assert mine.post(f"/staff/inquiries/views/{view.id}/delete").status_code == 302


def test_export_streams_the_filtered_list_and_is_audited(app, signed_in) -> None:
    officer = signed_in("officer")
    make_inquiry(language="fr", subject="=HYPERLINK(\"http://evil\")")
    make_inquiry(language="en", email="en@example.org")
    response = officer.get("/staff/inquiries/export.csv?queue=all&language=fr")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.was_streamed  # written out as it is read, not built in memory
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][0] == "reference" and len(rows) == 2
    assert rows[1][rows[0].index("subject")].startswith("'=")  # no formula injection
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "inquiry.exported"))
    assert event.actor_id == officer.user.id and event.details["filters"] == {"language": "fr"}


def test_export_has_a_row_limit(app_factory) -> None:
    app = app_factory(INBOX_EXPORT_MAX_ROWS=2)
    with app.app_context():
        from ..helpers import make_user, sign_in

        client = app.test_client()
        sign_in(client, make_user(role="officer"))
        for n in range(4):
            make_inquiry(email=f"e{n}@example.org")
        rows = list(csv.reader(io.StringIO(client.get("/staff/inquiries/export.csv?queue=all").get_data(as_text=True))))
        assert len(rows) == 3


def test_an_export_by_search_keeps_no_search_words_in_the_audit_log(app, signed_in) -> None:
    officer = signed_in("officer")
    make_inquiry(subject="Question from Zarmina Haidari")
    response = officer.get("/staff/inquiries/export.csv?queue=all&status=new&q=zarmina+haidari")
    assert response.status_code == 200
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "inquiry.exported"))
    assert "zarmina" not in str(event.details).lower() and event.details["filters"]["status"] == "new"
