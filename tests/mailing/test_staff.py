"""Staff pages for mailing lists: lists, members, import, export, growth, suppression, consent history."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Contact
from inquiry_desk.mailing import imports, reports, services, suppression
from inquiry_desk.mailing.models import ConsentRecord, MailingList, Subscription

from ..helpers import form_errors, make_organisation, make_user, page, sign_in
from .support import T0, consents, make_list, subscriptions_for

BASE = "/staff/mailing-lists"


def test_a_lead_creates_a_list_in_both_languages(app, signed_in) -> None:
    client = signed_in("lead")
    soup = page(client.get(f"{BASE}/new"))
    assert soup.select_one("#name_fr")
    response = client.post(f"{BASE}/new", data={"name_en": "Settlement news", "name_fr": "Nouvelles d'établissement",
                                                 "description_en": "Monthly", "description_fr": "Mensuel",
                                                 "public": "y", "organisation_kinds": ["settlement_partner", "ngo"]})
    assert response.status_code == 302
    mailing_list = db.session.scalars(select(MailingList)).one()
    assert mailing_list.public and mailing_list.organisation_kinds == ["settlement_partner", "ngo"]
    assert mailing_list.name("fr") == "Nouvelles d'établissement"
    page(client.get(response.headers["Location"]))
    soup = page(client.get(f"{BASE}/"))
    assert "Settlement news" in soup.get_text()
    assert signed_in("officer").get(f"{BASE}/").status_code == 403


def test_adding_a_member_requires_the_consent_source(app, signed_in) -> None:
    client = signed_in("lead")
    news = make_list()
    soup = page(client.post(f"{BASE}/{news.id}/members/new", data={"email": "jean@example.org", "language": "fr",
                                                                    "consent_source": ""}))
    assert form_errors(soup) == ["Say how this person asked to be on the list."]
    response = client.post(f"{BASE}/{news.id}/members/new", data={
        "email": "jean@example.org", "language": "fr", "consent_source": "asked at the partners' meeting"})
    assert response.status_code == 302
    [subscription] = subscriptions_for("jean@example.org")
    [record] = consents(subscription)
    assert record.given and record.method == "staff" and record.actor_id == client.user.id
    assert record.note == "asked at the partners' meeting" and subscription.language == "fr"

    removal = client.post(f"{BASE}/{news.id}/members/{subscription.id}/remove", data={"consent_source": ""})
    assert removal.status_code == 302 and subscriptions_for("jean@example.org")[0].status == "subscribed"
    client.post(f"{BASE}/{news.id}/members/{subscription.id}/remove", data={"consent_source": "asked by email"})
    assert subscriptions_for("jean@example.org")[0].status == "unsubscribed"
    assert [(r.given, r.note) for r in consents(subscription)] == [
        (True, "asked at the partners' meeting"), (False, "asked by email")]
    # The contact's consent history shows both.
    soup = page(client.get(f"{BASE}/contacts/{subscription.contact_id}"))
    assert "Consent given" in soup.get_text() and "Consent withdrawn" in soup.get_text()


def test_a_suppressed_address_cannot_be_added(app, signed_in) -> None:
    client = signed_in("lead")
    news = make_list()
    suppression.suppress("gone@example.org", "complaint", source="ISP feedback loop", actor=None, now=T0)
    db.session.commit()
    soup = page(client.post(f"{BASE}/{news.id}/members/new", data={
        "email": "gone@example.org", "language": "en", "consent_source": "phone"}))
    assert "suppression list" in " ".join(form_errors(soup))
    assert subscriptions_for("gone@example.org") == []


def _members(news: MailingList, count: int, *, language: str = "en") -> None:
    for number in range(count):
        services.add_member(news, f"member{number:03d}@example.org", name=f"Member {number}", language=language,
                            consent_source="import test", actor=None, now=T0)
    db.session.commit()


def test_members_page_filters_and_pages_by_keyset(app, signed_in) -> None:
    client = signed_in("lead")
    news = make_list()
    _members(news, 60)
    organisation = make_organisation("Welcome Place", kind="settlement_partner", domains=("welcomeplace.ca",))
    contact = db.session.scalar(select(Contact).where(Contact.email == "member007@example.org"))
    contact.organisation = organisation
    db.session.commit()

    soup = page(client.get(f"{BASE}/{news.id}/members"))
    rows = soup.select("[data-members] tbody tr")
    assert len(rows) == reports.PAGE_SIZE
    next_link = soup.find("a", string="Next page")["href"]
    soup = page(client.get(next_link))
    assert len(soup.select("[data-members] tbody tr")) == 10
    soup = page(client.get(f"{BASE}/{news.id}/members?kind=settlement_partner"))
    assert [r.td.get_text() for r in soup.select("[data-members] tbody tr")] == ["member007@example.org"]
    soup = page(client.get(f"{BASE}/{news.id}/members?q=member05"))
    assert len(soup.select("[data-members] tbody tr")) == 10
    soup = page(client.get(f"{BASE}/{news.id}/members?status=unsubscribed"))
    assert not soup.select("[data-members] tbody tr")
    assert client.get(f"{BASE}/{news.id}/members?before=abc&status=%00").status_code == 200


def test_counts_by_status_and_language_and_growth(app) -> None:
    news = make_list()
    _members(news, 3, language="en")
    for number in range(2):
        services.add_member(news, f"fr{number}@example.org", name=None, language="fr", consent_source="phone",
                            actor=None, now=T0 + timedelta(days=31))
    services.request_subscription("pending@example.org", [news.id], language="en", now=T0)
    [leaving] = subscriptions_for("member000@example.org")
    services.remove_member(leaving, consent_source="asked", actor=None, now=T0 + timedelta(days=32))
    db.session.commit()

    counts = reports.counts([news.id])[news.id]
    assert counts.by_status == {"subscribed": 4, "unsubscribed": 1, "pending": 1}
    assert counts.by_language == {"en": 2, "fr": 2}
    assert [(m.month, m.joined, m.left, m.total) for m in reports.growth(news)] == [
        ("2026-11", 3, 0, 3), ("2026-12", 2, 1, 4)]


def test_the_list_page_shows_its_figures(app, signed_in) -> None:
    client = signed_in("lead")
    news = make_list()
    _members(news, 2, language="fr")
    soup = page(client.get(f"{BASE}/{news.id}"))
    assert soup.select_one("[data-status=subscribed]").get_text() == "2"
    assert [td.get_text() for td in soup.select("[data-growth] tbody tr td")] == ["2", "0", "2"]


CSV = (
    "email,name,language\n"
    "ok1@example.org,Ok One,en\n"
    "not-an-address,Bad,en\n"
    "ok2@example.org,Ok Two,fr\n"
    "OK1@example.org,Again,en\n"
    "blocked@example.org,Blocked,en\n"
    "ok3@example.org,Ok Three,de\n"
    "member000@example.org,Already,en\n"
)


def test_import_preview_writes_nothing_then_imports_the_good_lines(app, signed_in) -> None:
    client = signed_in("lead")
    news = make_list()
    _members(news, 1)
    suppression.suppress("blocked@example.org", "hard_bounce", source="smtp 550", actor=None, now=T0)
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(Subscription))

    soup = page(client.post(f"{BASE}/{news.id}/import", data={"file": (io.BytesIO(CSV.encode()), "people.csv"),
                                                               "consent_source": ""},
                            content_type="multipart/form-data"))
    assert form_errors(soup) == ["Say how the people in this file asked to be on the list."]
    response = client.post(f"{BASE}/{news.id}/import", data={
        "file": (io.BytesIO(CSV.encode()), "people.csv"), "consent_source": "sign-up sheet, AGM 2026"},
        content_type="multipart/form-data")
    assert response.status_code == 302
    soup = page(client.get(response.headers["Location"]))
    assert soup.select_one("[data-good]").get_text() == "2"
    problems = [[td.get_text() for td in tr.select("td")] for tr in soup.select("[data-problems] tbody tr")]
    assert problems == [
        ["3", "not-an-address", "Not a valid email address"],
        ["5", "OK1@example.org", "Repeated in the file"],
        ["7", "ok3@example.org", "Language is not en or fr"],
        ["6", "blocked@example.org", "On the suppression list"],
        ["8", "member000@example.org", "Already on the list"],
    ]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Subscription)) == before  # the preview wrote none

    client.post(response.headers["Location"])
    _wait_for_import(client, response.headers["Location"])
    assert [s.status for s in subscriptions_for("ok1@example.org")] == ["subscribed"]
    [fr] = subscriptions_for("ok2@example.org")
    assert fr.language == "fr"
    [record] = consents(fr)
    assert record.method == "import" and record.note == "sign-up sheet, AGM 2026" and record.actor_id == client.user.id
    assert subscriptions_for("blocked@example.org") == []
    soup = page(client.get(response.headers["Location"]))
    assert soup.select_one("[data-import-done]")
    # A second run of the same batch is refused.
    client.post(response.headers["Location"])
    assert db.session.scalar(select(func.count()).select_from(ConsentRecord).where(
        ConsentRecord.method == "import")) == 2


def _wait_for_import(client, preview_url: str) -> dict:
    """Follow the status (JSON) of an import running in the background until it ends."""
    import time

    for _ in range(200):
        state = client.get(preview_url + "/status").get_json()
        if state["status"] in ("done", "failed"):
            return state
        time.sleep(0.05)
    raise AssertionError("the import never finished")


def test_an_import_that_fails_writes_nothing(app, monkeypatch) -> None:
    news = make_list()
    batch = imports.preview(news, CSV.encode(), consent_source="sheet", actor=None, now=T0)
    db.session.commit()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the database went away half-way")

    original = imports.write

    def half_then_fail(mailing_list, rows, **kwargs):
        original(mailing_list, rows[:1], **kwargs)
        broken()

    monkeypatch.setattr(imports, "write", half_then_fail)
    with pytest.raises(RuntimeError):
        imports.run(batch, actor=None, now=T0)
    db.session.rollback()
    assert subscriptions_for("ok1@example.org") == []


def test_a_file_that_is_not_csv_is_refused(app) -> None:
    news = make_list()
    with pytest.raises(imports.BadFile):
        imports.preview(news, b"\xff\xfe\x00garbage", consent_source="x", actor=None, now=T0)
    with pytest.raises(imports.BadFile):
        imports.preview(news, b"name\nno email column\n", consent_source="x", actor=None, now=T0)


def test_export_streams_every_member(app, signed_in) -> None:
    client = signed_in("lead")
    news = make_list()
    _members(news, 3)
    services.add_member(news, "formula@example.org", name="=cmd()", language="en", consent_source="x", actor=None,
                        now=T0)
    db.session.commit()
    response = client.get(f"{BASE}/{news.id}/export.csv")
    assert response.status_code == 200 and response.was_streamed
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "email,name,organisation,status,language,updated_at" and len(lines) == 5
    assert lines[-1].startswith("formula@example.org,'=cmd()")
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "mailing_list.exported")) == 1


def test_suppression_list_add_and_lift_with_a_reason(app, signed_in) -> None:
    client = signed_in("lead")
    response = client.post(f"{BASE}/suppressions", data={"email": "Noisy@Example.org", "source": "asked by phone"})
    assert response.status_code == 302
    entry = suppression.active_for("noisy@example.org")
    assert entry.reason == "lead" and entry.created_by_id == client.user.id
    soup = page(client.get(f"{BASE}/suppressions"))
    assert "noisy@example.org" in soup.get_text()
    client.post(f"{BASE}/suppressions/{entry.id}/lift", data={"reason": ""})
    assert suppression.is_suppressed("noisy@example.org")
    client.post(f"{BASE}/suppressions/{entry.id}/lift", data={"reason": "typo in the address fixed"})
    db.session.expire_all()
    assert not suppression.is_suppressed("noisy@example.org")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "suppression.lifted"))
    assert event.details == {"reason": "typo in the address fixed"} and event.actor_id == client.user.id


def test_a_file_larger_than_other_forms_may_be_imported(app, signed_in) -> None:
    client = signed_in("lead")
    news = make_list()
    padding = "x" * 120
    content = "email,name,notes\n" + "".join(f"p{n}@example.org,P {n},{padding}\n" for n in range(20_000))
    assert len(content) > app.config["MAX_CONTENT_LENGTH"]
    response = client.post(f"{BASE}/{news.id}/import", data={"file": (io.BytesIO(content.encode()), "big.csv"),
                                                               "consent_source": "sheet"},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    assert db.session.scalar(select(imports.ImportBatch.report)).get("good") == 20_000


def test_an_address_suppressed_after_the_preview_is_not_imported(app) -> None:
    news = make_list()
    batch = imports.preview(news, CSV.encode(), consent_source="sheet", actor=None, now=T0)
    suppression.suppress("ok2@example.org", "complaint", source="feedback loop", actor=None, now=T0)
    report = imports.run(batch, actor=None, now=T0)
    db.session.commit()
    assert report["imported"] == 3 and report["skipped"]["suppressed"] == 1  # ok1, blocked@, member000 (free here)
    assert subscriptions_for("ok2@example.org") == [] and len(subscriptions_for("ok1@example.org")) == 1


def test_an_import_failing_in_the_background_writes_nothing_and_says_so(app, signed_in, monkeypatch) -> None:
    client = signed_in("lead")
    news = make_list()
    batch = imports.preview(news, CSV.encode(), consent_source="sheet", actor=None, now=T0)
    db.session.commit()
    original = imports.write

    def half_then_fail(mailing_list, rows, **kwargs):
        original(mailing_list, rows[:1], **kwargs)
        raise RuntimeError("the database went away half-way")

    monkeypatch.setattr(imports, "write", half_then_fail)
    url = f"{BASE}/{news.id}/import/{batch.id}"
    client.post(url)
    assert _wait_for_import(client, url)["status"] == "failed"
    assert subscriptions_for("ok1@example.org") == []
    soup = page(client.get(url))
    assert "nothing was written" in soup.select_one(".notice-error").get_text()


def test_a_running_import_shows_a_progress_bar(app, signed_in) -> None:
    client = signed_in("lead")
    news = make_list()
    batch = imports.preview(news, CSV.encode(), consent_source="sheet", actor=None, now=T0)
    imports.start(batch)
    db.session.commit()
    imports.set_progress(batch.id, 1, 4)
    url = f"{BASE}/{news.id}/import/{batch.id}"
    soup = page(client.get(url))
    box = soup.select_one("[data-import-progress]")
    assert box["data-done-text"] == "Import finished: %(created)s subscribers added."
    assert box.select_one("progress")["max"] == "4"
    assert client.get(url + "/status").get_json() == {"status": "running", "done": 1, "total": 4, "created": 0,
                                                      "updated": 0}


def test_each_member_row_has_its_own_labelled_remove_form(app_factory) -> None:
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        _each_row_has_its_form(app)


def _each_row_has_its_form(app) -> None:
    client = app.test_client()
    sign_in(client, make_user(role="lead"))
    news = make_list()
    _members(news, 2)
    soup = page(client.get(f"{BASE}/{news.id}/members"))
    forms = soup.select("[data-members] form")
    ids = sorted(s.id for s in subscriptions_for("member000@example.org") + subscriptions_for("member001@example.org"))
    assert sorted(form["action"] for form in forms) == [f"{BASE}/{news.id}/members/{i}/remove" for i in ids]
    labels = [form.label.get_text() for form in forms]
    assert "How member001@example.org asked to leave the list" in labels
    assert all(form.select_one("input[name=csrf_token]") for form in forms)
    assert soup.select_one("[data-members] tbody td:nth-of-type(4)").get_text() == "Subscribed"


def test_the_send_engine_suppressions_count_and_stay_in_step(app) -> None:
    from inquiry_desk.mail import sending as mail_sending
    from inquiry_desk.mail.models import MailSuppression

    news = make_list()
    mail_sending.suppress("bounced@example.org", "bounce", now=T0, smtp_code=550)  # recorded by the engine
    checked = imports.check(news, "email\nbounced@example.org\nok@example.org\n")
    assert [row.email for row in checked.good] == ["ok@example.org"] and checked.counts == {"suppressed": 1}
    entry = suppression.suppress("lead@example.org", "lead", source="asked", actor=None, now=T0)
    assert db.session.get(MailSuppression, "lead@example.org").reason == "manual"
    suppression.lift(entry, reason="asked again", actor=None, now=T0)
    db.session.flush()
    assert db.session.get(MailSuppression, "lead@example.org") is None
