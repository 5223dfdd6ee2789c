"""The audit log page (issue 12): who did what and who saw what, in words, filtered, keyset-paged, exported."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from inquiry_desk.audit import services as audit
from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import audit_trail, protection, triage

from ..helpers import make_inquiry, make_organisation, make_user, page

URL = "/staff/admin/audit"


def _rows(soup) -> list[list[str]]:
    table = soup.select_one("[data-testid=audit-entries]")
    if table is None:
        return []
    return [[" ".join(cell.get_text(" ").split()) for cell in row.select("td")] for row in table.select("tbody tr")]


def test_names_and_actions_read_in_words_with_links_to_the_subject(app, signed_in) -> None:
    admin = signed_in("admin", name="Ana Lima")
    officer = make_user(role="officer", name="Omar Haddad")
    inquiry = make_inquiry(subject="Safe passage for a family")
    triage.record_view(inquiry, actor=officer, now=utcnow())
    audit.record("inquiry.exported", actor=officer, subject_type="inquiry", details={"queue": "all"}, now=utcnow())
    audit.record("login.failed_second_factor", subject_type="user", subject_id=officer.id, now=utcnow())
    db.session.commit()
    soup = page(admin.get(URL))
    rows = _rows(soup)
    text = soup.select_one("[data-testid=audit-entries]").get_text(" ")
    assert ["Omar Haddad", "Opened an inquiry", f"Inquiry {inquiry.reference}"] == rows_with(rows, "Opened")[0][1:4]
    assert "Exported the inquiry list" in text and "The inquiry list" in text and "inquiry None" not in text
    assert "Sign-in refused: wrong second-factor code" in text and "Staff member Omar Haddad" in text
    assert "login.failed_second_factor" not in text and "inquiry.viewed" not in text
    link = soup.find("a", string=f"Inquiry {inquiry.reference}")
    assert link is not None and link["href"] == f"/staff/inquiries/{inquiry.id}"
    assert soup.find("a", string="Staff member Omar Haddad")["href"] == f"/staff/admin/users/{officer.id}"


def rows_with(rows: list[list[str]], word: str) -> list[list[str]]:
    return [row for row in rows if any(word in cell for cell in row)]


def test_the_page_reads_in_french(app, signed_in) -> None:
    admin = signed_in("admin")
    officer = make_user(role="officer", name="Omar Haddad")
    inquiry = make_inquiry()
    triage.record_view(inquiry, actor=officer, now=utcnow())
    db.session.commit()
    with admin.session_transaction() as session:
        session["lang"] = "fr"
    soup = page(admin.get(URL), lang="fr")
    text = soup.select_one("[data-testid=audit-entries]").get_text(" ")
    assert "A ouvert une demande" in text and f"Demande {inquiry.reference}" in text
    assert soup.find("label", attrs={"for": "audit-action"}).get_text() == "Quoi"


def test_filters_by_actor_action_subject_and_period(app, signed_in) -> None:
    admin = signed_in("admin")
    omar = make_user(role="officer", name="Omar Haddad", email="omar@example.gc.ca")
    lina = make_user(role="lead", name="Lina Park")
    first, second = make_inquiry(subject="One"), make_inquiry(subject="Two")
    organisation = make_organisation("Rainbow Railroad")
    long_ago = datetime(2025, 3, 10, 15, tzinfo=UTC)
    triage.record_view(first, actor=omar, now=long_ago)
    triage.record_view(second, actor=omar, now=utcnow())
    triage.record_view(first, actor=lina, now=utcnow())
    audit.record("organisation.updated", actor=lina, subject_type="organisation", subject_id=organisation.id,
                 details={"fields": ["name"]}, now=utcnow())
    db.session.commit()

    def actions(**args: str) -> list[tuple[str, str]]:
        rows = _rows(page(admin.get(URL, query_string=args)))
        return [(row[1], row[3]) for row in rows]

    assert set(actions(actor=str(omar.id))) == {("Omar Haddad", f"Inquiry {first.reference}"),
                                                ("Omar Haddad", f"Inquiry {second.reference}")}
    assert actions(subject=first.reference.lower(), action="inquiry.viewed") == [
        ("Lina Park", f"Inquiry {first.reference}"), ("Omar Haddad", f"Inquiry {first.reference}")]
    assert actions(subject="railroad") == [("Lina Park", "Organisation Rainbow Railroad")]
    assert actions(subject="omar@example.gc.ca", action="group:users") == [("System or stakeholder",
                                                                             "Staff member Omar Haddad")]
    assert actions(actor=str(omar.id), **{"from": "2025-03-10", "to": "2025-03-10"}) == [
        ("Omar Haddad", f"Inquiry {first.reference}")]
    assert actions(action="group:readings", actor=str(lina.id)) == [("Lina Park", f"Inquiry {first.reference}")]
    soup = page(admin.get(URL, query_string={"subject": "INQ-1999-000001"}))
    assert soup.select_one("[data-testid=audit-none]") is not None
    for bad in ({"action": "not.a.code"}, {"actor": "x"}, {"from": "2025-13-01"}, {"to": "99999-01-01"}):
        assert admin.get(URL, query_string=bad).status_code == 400


def test_keyset_pages_cover_every_entry_once_newest_first(app, signed_in) -> None:
    admin = signed_in("admin")
    officer = make_user(role="officer")
    start = utcnow() - timedelta(days=1)
    for number in range(230):  # three pages; every third shares its time with the one before
        audit.record("inquiry.viewed", actor=officer, subject_type="inquiry", subject_id=number + 1,
                     now=start + timedelta(seconds=number - number % 3))
    db.session.commit()
    seen: list[int] = []
    url: str | None = f"{URL}?actor={officer.id}"
    while url:
        soup = page(admin.get(url))
        seen += [int(row["data-id"]) for row in soup.select("[data-testid=audit-entries] tbody tr")]
        older = soup.select_one("[data-testid=audit-older]")
        url = older["href"] if older else None
    expected = db.session.scalars(select(AuditEvent.id).where(AuditEvent.actor_id == officer.id)
                                  .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())).all()
    assert seen == list(expected) and len(seen) == 230


def test_details_of_a_restricted_inquiry_follow_need_to_know(app) -> None:
    holder = make_user(role="officer")
    other = make_user(role="officer")
    admin = make_user(role="admin")
    inquiry = make_inquiry()
    protection.restrict(inquiry, "Family in hiding", actor=holder, now=utcnow())
    db.session.commit()
    query = audit.Query(subjects=(("inquiry", inquiry.id),), actions=("inquiry.restricted",))
    [for_other], _ = audit_trail.entries(query, actor=other, limit=10)
    assert for_other.hidden and for_other.details == {} and for_other.subject_name == inquiry.reference
    [for_admin], _ = audit_trail.entries(query, actor=admin, limit=10)
    assert not for_admin.hidden and for_admin.details["reason"] == "Family in hiding"
    [for_holder], _ = audit_trail.entries(query, actor=holder, limit=10)
    assert not for_holder.hidden


def test_the_export_is_audited_and_holds_the_filtered_entries_in_words(app, signed_in) -> None:
    admin = signed_in("admin", name="Ana Lima")
    officer = make_user(role="officer", name="Omar Haddad")
    inquiry = make_inquiry()
    triage.record_view(inquiry, actor=officer, now=utcnow())
    audit.record("user.password_changed", actor=officer, subject_type="user", subject_id=officer.id, now=utcnow())
    db.session.commit()
    response = admin.get(f"{URL}/export.csv", query_string={"actor": officer.id, "subject": inquiry.reference})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:4] == ["id", "at", "actor", "action"]
    assert [row[2:6] for row in rows[1:]] == [["Omar Haddad", "Opened an inquiry", "inquiry.viewed",
                                               f"Inquiry {inquiry.reference}"]]
    exported = db.session.scalar(select(AuditEvent).where(AuditEvent.action == audit_trail.EXPORTED))
    assert exported is not None and exported.actor_id == admin.user.id
    assert exported.details["filters"] == {"actor": str(officer.id), "subject": "[words typed not kept]"}
    assert inquiry.reference not in str(exported.details)
    soup = page(admin.get(URL, query_string={"action": audit_trail.EXPORTED}))
    assert rows_with(_rows(soup), "Exported the audit log")[0][1] == "Ana Lima"


def test_only_administrators_read_the_audit_log(app, signed_in) -> None:
    for role in ("viewer", "officer", "lead"):
        assert signed_in(role).get(URL).status_code == 403
        assert signed_in(role).get(f"{URL}/export.csv").status_code == 403
