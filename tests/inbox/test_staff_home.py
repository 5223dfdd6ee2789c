"""The staff home shows the user's figures at a glance, each linking to its list (issue 10)."""

from __future__ import annotations

from datetime import timedelta

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import triage

from ..helpers import edit, make_inquiry, make_user, page


def _figures(soup) -> dict[str, tuple[int, str]]:
    return {item.select_one(".home-figure-label").get_text(strip=True):
            (int(item.select_one(".home-figure-count").get_text()), item.a["href"])
            for item in soup.select(".home-figure")}


def test_an_officer_sees_their_figures_with_links(app, signed_in) -> None:
    officer = signed_in("officer")
    lead = make_user(role="lead")
    now = utcnow()
    overdue, soon, later = (make_inquiry(subject=s, email=f"{s}@example.net") for s in ("late", "soon", "later"))
    for inquiry, due in ((overdue, now - timedelta(hours=1)), (soon, now + timedelta(hours=1)),
                         (later, now + timedelta(days=3))):
        triage.assign(inquiry, officer.user, actor=lead, now=now)
        edit(inquiry, due_at=due)
    make_inquiry(subject="nobody's", email="new@example.net")
    db.session.commit()

    figures = _figures(page(officer.get("/staff/")))
    assert figures["My open inquiries"][0] == 3
    assert figures["Mine due soon"][0] == 1 and figures["Mine overdue"][0] == 1
    assert figures["New and unassigned"][0] == 1
    overdue_list = page(officer.get(figures["Mine overdue"][1])).get_text()
    assert overdue.reference in overdue_list and soon.reference not in overdue_list
    unassigned_list = page(officer.get(figures["New and unassigned"][1])).get_text()
    assert overdue.reference not in unassigned_list and "INQ-" in unassigned_list


def test_figures_are_in_french_for_a_french_user(app, signed_in) -> None:
    officer = signed_in("officer", language="fr")
    with officer.session_transaction() as session:
        session["lang"] = "fr"
    figures = _figures(page(officer.get("/staff/"), lang="fr"))
    assert set(figures) == {"Mes demandes ouvertes", "Les miennes bientôt échues", "Les miennes en retard",
                            "Nouvelles et non attribuées"}


def test_a_viewer_sees_only_the_team_figure(app, signed_in) -> None:
    assert set(_figures(page(signed_in("viewer").get("/staff/")))) == {"New and unassigned"}


def test_the_inbox_shows_the_assignee_and_bulk_assigns_to_a_colleague(app, signed_in) -> None:
    """Issue 10: an assignee column; bulk assign to a named colleague (with the confirmation step)."""
    from inquiry_desk.inquiries.models import Inquiry

    lead = signed_in("lead", name="Lena Lead")
    colleague = make_user(role="officer", name="Omar Haddad")
    first, second = make_inquiry(email="a@example.net"), make_inquiry(email="b@example.net")
    soup = page(lead.get("/staff/inquiries/?queue=all"))
    headers = [th.get_text(strip=True) for th in soup.select("table thead th")]
    assert "Assigned to" in headers
    column = headers.index("Assigned to")
    assert {row.select("td")[column].get_text(strip=True) for row in soup.select("table tbody tr")} == {"Nobody"}
    options = {option["value"]: option.get_text() for option in soup.select("select[name=action] option")}
    assert options[f"assign_{colleague.id}"] == "Assign to Omar Haddad"
    data = {"action": f"assign_{colleague.id}", "selected": [str(first.id), str(second.id)], "confirmed": "yes"}
    assert lead.post("/staff/inquiries/bulk", data=data).status_code == 302
    db.session.expire_all()
    assert {db.session.get(Inquiry, i.id).assignee_id for i in (first, second)} == {colleague.id}
    soup = page(lead.get("/staff/inquiries/?queue=all"))
    assert {row.select("td")[column].get_text(strip=True) for row in soup.select("table tbody tr")} == {"Omar Haddad"}
