"""The directory's pages through HTTP: list and filters, an organisation's and a contact's pages, create,
domains and the badge, merge, import with preview and progress, export, a person's data, filing a sender."""

from __future__ import annotations

import csv
import io
import json
import time
import zipfile

from sqlalchemy import func, select

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.directory import rules
from inquiry_desk.directory import services as directory
from inquiry_desk.directory.models import Contact, Organisation
from inquiry_desk.inquiries.models import Inquiry

from ..directory.support import prove_address
from ..helpers import make_inquiry, page


def _organisation(name: str, **values):
    organisation = directory.create_organisation(rules.parse_organisation({"name": name, "kind": "ngo", **values}),
                                                 status=values.get("status", "active"), actor=None, now=utcnow())
    db.session.commit()
    return organisation


def test_list_filters_and_pages_by_keyset(app, signed_in, monkeypatch) -> None:
    from inquiry_desk.inquiries.stakeholders import listing

    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    for name in ("Alpha", "Bravo", "Charlie", "Delta"):
        _organisation(name, tags="health" if name in ("Bravo", "Delta") else "")
    make_inquiry(email="x@charlie.example")
    directory.get_organisation(3)
    inquiry = db.session.scalar(select(Inquiry))
    with_org = directory.find_organisation_by_name("Charlie")
    from ..helpers import edit

    edit(inquiry, organisation_id=with_org.id)
    db.session.commit()
    client = signed_in("viewer")
    soup = page(client.get("/staff/directory/"))
    names = [a.get_text() for a in soup.select("[data-testid=organisations] tbody a")]
    assert names == ["Alpha", "Bravo"]
    soup = page(client.get(soup.select_one(".pager a")["href"]))
    assert [a.get_text() for a in soup.select("[data-testid=organisations] tbody a")] == ["Charlie", "Delta"]
    soup = page(client.get("/staff/directory/?tag=HEALTH"))
    assert [a.get_text() for a in soup.select("[data-testid=organisations] tbody a")] == ["Bravo", "Delta"]
    soup = page(client.get("/staff/directory/?open_inquiries=yes"))
    assert [a.get_text() for a in soup.select("[data-testid=organisations] tbody a")] == ["Charlie"]
    soup = page(client.get("/staff/directory/?q=ELT"))
    assert [a.get_text() for a in soup.select("[data-testid=organisations] tbody a")] == ["Delta"]
    for bad in ("?cursor=%%%", "?cursor=WzEsMl0", "?kind=bogus", "?q=%00", "?open_inquiries=maybe"):
        assert client.get("/staff/directory/" + bad).status_code == 400, bad


def test_create_an_organisation_and_add_a_domain_gives_an_earlier_inquiry_the_badge(app, signed_in) -> None:
    earlier = make_inquiry(email="worker@amanlara.org")
    prove_address(earlier)
    lead = signed_in("lead")
    response = lead.post("/staff/directory/organisations/new", data={
        "name": "Aman Lara", "name_fr": "Aman Lara", "kind": "ngo", "status": "active", "tags": "kabul"})
    assert response.status_code == 302
    organisation = directory.find_organisation_by_name("Aman Lara")
    url = f"/staff/directory/organisations/{organisation.id}"
    lead.post(url + "/status", data={"status": "trusted_referral_partner", "reason": "Met on 2026-11-02"})
    lead.post(url + "/domains", data={"domain": "amanlara.org", "method": "phone call"})
    db.session.expire_all()
    assert earlier.trusted_partner and earlier.organisation_id == organisation.id
    soup = page(lead.get(url))
    assert "amanlara.org" in soup.select_one("#domains + p + div table").get_text()
    assert earlier.reference in soup.get_text() and "Trusted partner" in soup.get_text()
    timeline = soup.select("ol.history")[-1].get_text()
    assert "Inquiry received" in timeline and "Verified domain added" in timeline
    assert "Trusted referral partner" in soup.select_one("[data-testid=partnership-status]").get_text()
    # The inquiry page links to the organisation and the contact.
    inquiry_page = page(lead.get(f"/staff/inquiries/{earlier.id}"))
    assert inquiry_page.select_one(f'a[href="{url}"]')


def test_an_officer_cannot_give_trust_or_verify_a_domain(app, signed_in) -> None:
    organisation = _organisation("Aman Lara")
    officer = signed_in("officer")
    url = f"/staff/directory/organisations/{organisation.id}"
    officer.post(url + "/status", data={"status": "trusted_referral_partner", "reason": "because"})
    assert officer.post(url + "/domains", data={"domain": "amanlara.org"}).status_code == 403
    db.session.expire_all()
    assert organisation.status == "active" and organisation.domains == []
    soup = page(officer.get(url))
    assert soup.select_one("#add-domain") is None


def test_form_errors_are_shown_on_their_fields(app, signed_in) -> None:
    soup = page(signed_in("officer").post("/staff/directory/organisations/new",
                                          data={"name": "  ", "kind": "ngo", "status": "active"}), 200)
    assert soup.title.get_text().startswith("Error")
    assert soup.select_one("#name")["aria-invalid"] == "true"


def test_file_the_sender_of_an_inquiry_in_one_step(app, signed_in) -> None:
    inquiry = make_inquiry(email="farida@example.net")
    officer = signed_in("officer")
    soup = page(officer.get(f"/staff/inquiries/{inquiry.id}"))
    link = soup.select_one("[data-testid=file-sender]")["href"]
    response = officer.post(link, data={"name": "Farida Rahimi", "title": "Coordinator", "phone": "",
                                        "language": "fr", "organisation": "",
                                        "new_organisation": "Community Sponsors of Halifax",
                                        "new_kind": "private_sponsor"})
    assert response.status_code == 302
    db.session.expire_all()
    organisation = directory.find_organisation_by_name("Community Sponsors of Halifax")
    assert organisation.kind == "private_sponsor"
    assert inquiry.contact.organisation_id == organisation.id and inquiry.contact.title == "Coordinator"
    assert inquiry.organisation_id == organisation.id and not inquiry.trusted_partner


def test_merge_two_contacts_through_the_page(app, signed_in) -> None:
    first = make_inquiry(email="farida@example.net").contact
    second = make_inquiry(email="f.rahimi@example.org").contact
    lead = signed_in("lead")
    soup = page(lead.get(f"/staff/directory/contacts/{second.id}/merge?q=farida@"))
    assert soup.select_one(f'input[value="{first.id}"]')
    response = lead.post(f"/staff/directory/contacts/{second.id}/merge",
                         data={"q": "farida@", "kept_id": str(first.id), "confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert second.merged_into_id == first.id
    assert db.session.scalar(select(func.count()).select_from(Inquiry).where(Inquiry.contact_id == first.id)) == 2


def _wait_for_import(client, import_id: int) -> dict:
    for _ in range(200):
        state = json.loads(client.get(f"/staff/directory/import/{import_id}/status").get_data())
        if state["status"] in ("done", "failed"):
            return state
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


def test_import_preview_then_background_import(app, signed_in) -> None:
    officer = signed_in("officer")
    rows = "email,name,language\r\n" + "".join(f"p{n}@example.org,Émilie {n},fr\r\n" for n in range(300))
    response = officer.post("/staff/directory/import", data={
        "subject": "contacts", "file": (io.BytesIO(("\ufeff" + rows).encode()), "people.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    preview_url = response.headers["Location"]
    soup = page(officer.get(preview_url))
    assert "300 to add" in soup.select_one("[data-testid=import-summary]").get_text()
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 0
    start = soup.select_one("form[action$='/start']")["action"]
    assert officer.post(start).status_code == 302
    import_id = int(preview_url.rstrip("/").rsplit("/", 1)[1])
    state = _wait_for_import(officer, import_id)
    # Steps: 300 rows checked, then 300 written.
    assert state == {"status": "done", "done": 600, "total": 600, "created": 300, "updated": 0}
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 300
    soup = page(officer.get(preview_url))
    assert soup.select_one("progress")["value"] == soup.select_one("progress")["max"] == "600"


def test_import_with_bad_rows_shows_each_and_offers_no_import(app, signed_in) -> None:
    officer = signed_in("officer")
    rows = "email,name\r\nok@example.org,OK\r\nnot-an-address,Bad\r\nok@example.org,Twice\r\n"
    response = officer.post("/staff/directory/import", data={
        "subject": "contacts", "file": (io.BytesIO(rows.encode()), "bad.csv")}, content_type="multipart/form-data")
    soup = page(officer.get(response.headers["Location"]))
    lines = [row.select("td")[0].get_text() for row in soup.select("[data-testid=import-errors] tbody tr")]
    assert lines == ["3", "4"]
    assert soup.select_one("#import-start") is None
    assert soup.title.get_text()  # the error summary is at the top
    assert soup.select_one("[data-error-summary]")


def test_import_refuses_a_file_that_is_not_utf8(app, signed_in) -> None:
    officer = signed_in("officer")
    response = officer.post("/staff/directory/import", data={
        "subject": "contacts", "file": (io.BytesIO("email,name\r\né@x.org,É\r\n".encode("latin-1")), "l1.csv")},
        content_type="multipart/form-data")
    soup = page(response)
    assert soup.select_one("#file")["aria-invalid"] == "true"


def test_export_streams_csv_with_accents(app, signed_in) -> None:
    _organisation("Société d'accueil", name_fr="Société d'accueil", tags="Québec")
    response = signed_in("officer").get("/staff/directory/export/organisations.csv")
    assert response.status_code == 200 and response.was_streamed
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][0] == "name" and rows[1][0] == "Société d'accueil" and rows[1][7] == "Québec"


def test_a_lead_exports_and_erases_a_person_after_confirming(app, signed_in) -> None:
    inquiry = make_inquiry(email="farida@example.net", subject="Zanzibar question")
    lead = signed_in("lead")
    url = f"/staff/directory/contacts/{inquiry.contact_id}"
    soup = page(lead.post(url + "/export", data={}))
    assert soup.title.get_text().startswith("Error")
    response = lead.post(url + "/export", data={"confirm": "y"})
    assert response.mimetype == "application/zip"
    data = json.loads(zipfile.ZipFile(io.BytesIO(response.get_data())).read("person.json"))
    assert data["inquiries"][0]["subject"] == "Zanzibar question"
    assert lead.post(url + "/erase", data={"confirm": "y"}).status_code == 302
    db.session.expire_all()
    assert inquiry.contact.erased_at is not None and inquiry.subject != "Zanzibar question"
    soup = page(lead.get(url))
    assert "erased" in soup.get_text()
    assert signed_in("officer").get(url + "/erase").status_code == 403


def test_organisation_page_with_inquiries_pages_them(app, signed_in, monkeypatch) -> None:
    from inquiry_desk.inquiries.stakeholders import listing

    monkeypatch.setattr(listing, "INQUIRIES_PAGE", 2)
    organisation = _organisation("Aman Lara")
    from ..helpers import edit

    for number in range(3):
        edit(make_inquiry(email=f"p{number}@example.net", subject=f"Question {number}"),
             organisation_id=organisation.id)
    db.session.commit()
    client = signed_in("viewer")
    soup = page(client.get(f"/staff/directory/organisations/{organisation.id}"))
    assert "Question 2" in soup.get_text() and "Question 0" not in soup.select("table")[1].get_text()
    more = soup.select_one(".pager a")["href"]
    assert "Question 0" in page(client.get(more)).select("table")[1].get_text()
    assert client.get(f"/staff/directory/organisations/{organisation.id}?open_cursor=bad").status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 1


def test_huge_or_malformed_numbers_are_not_found_not_errors(app, signed_in) -> None:
    lead = signed_in("lead")
    huge = "99999999999999999999999"
    for path in (f"/staff/directory/organisations/{huge}", f"/staff/directory/contacts/{huge}",
                 f"/staff/directory/contacts/{huge}/erase", f"/staff/directory/import/{huge}",
                 f"/staff/directory/inquiries/{huge}/sender"):
        assert lead.get(path).status_code == 404, path
    assert lead.get(f"/staff/directory/contacts/new?organisation_id={huge}").status_code == 200
    assert lead.get("/staff/directory/contacts/?q=%00").status_code == 400
    assert lead.get("/staff/directory/contacts/?cursor=W10").status_code == 400


def test_control_characters_in_an_organisation_name_are_refused_on_the_field(app, signed_in) -> None:
    officer = signed_in("officer")
    soup = page(officer.post("/staff/directory/contacts/new", data={
        "email": "x@example.org", "name": "X", "language": "en", "organisation": "Aman\x00Lara"}))
    assert soup.select_one("#organisation")["aria-invalid"] == "true"
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 0
