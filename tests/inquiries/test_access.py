"""Need-to-know (issue 12): a restricted inquiry leaks through no page, list, search, export or email.

Five people meet one restricted inquiry: a viewer, an officer who is not named, a named
officer, the assignee and a lead. The restricted inquiry carries secret words in its subject,
its stakeholder's name and its body; whoever may not read it must never meet them, while its
reference stays visible in queues and counts.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Contact
from inquiry_desk.inquiries import access, protection, queues, reminders, triage
from inquiry_desk.inquiries.digest import send_daily_digests
from inquiry_desk.inquiries.models import Inquiry, Topic
from inquiry_desk.inquiries.saved_views import services as saved_views
from inquiry_desk.mail.models import OutgoingEmail

from ..helpers import edit, make_inquiry, make_user, page, sign_in

SECRET_SUBJECT = "Zebulon passage plan"
SECRET_BODY = "Quetzalcoatl family hides near the border"
SECRET_NAME = "Xanthippe Okonkwo"
SECRETS = ("Zebulon", "Quetzalcoatl", "Xanthippe")
ROLES = ("viewer", "officer", "named", "assignee", "lead")
READERS = {"named", "assignee", "lead"}


@pytest.fixture
def world(app):
    now = utcnow()
    lead = make_user(role="lead", name="Lena Lead")
    people = {
        "viewer": make_user(role="viewer", name="Vic Viewer"),
        "officer": make_user(role="officer", name="Otto Officer"),
        "named": make_user(role="officer", name="Nora Named"),
        "assignee": make_user(role="officer", name="Asha Assignee"),
        "lead": lead,
    }
    secret = make_inquiry(email="xanthippe@example.net", subject=SECRET_SUBJECT, body=SECRET_BODY)
    secret.contact.name = SECRET_NAME
    db.session.commit()
    open_one = make_inquiry(email="open@example.net", subject="Plain question about forms", body="Forms please")
    triage.assign(secret, people["assignee"], actor=lead, now=now)
    assignee = people["assignee"]
    protection.restrict(secret, "Names a person at risk", actor=assignee, now=now)
    protection.name_staff(secret, people["named"], actor=assignee, now=now)
    db.session.commit()
    assert not access.is_named(secret.id, lead.id)
    return SimpleNamespace(secret=secret, open=open_one, people=people, lead=lead)


def _client(app, user):
    client = app.test_client()
    sign_in(client, user)
    return client


def _leaks(text: str) -> bool:
    return any(secret in text for secret in SECRETS)


@pytest.mark.parametrize("role", ROLES)
def test_queues_show_the_reference_but_no_content(app, world, role) -> None:
    client = _client(app, world.people[role])
    for queue in ("all",):
        html = client.get(f"/staff/inquiries/?queue={queue}").get_data(as_text=True)
        assert world.secret.reference in html and world.open.reference in html
        assert _leaks(html) is (role in READERS)
    counts = queues.queue_counts(world.people[role], utcnow())
    assert counts["all"] == 2  # counted for everyone: the metadata is not secret


@pytest.mark.parametrize("role", ROLES)
def test_search_by_a_word_of_its_body_finds_it_only_for_readers(app, world, role) -> None:
    client = _client(app, world.people[role])
    for query in ("Quetzalcoatl", f"Quetzalcoatl&status={world.secret.status}", "xanthippe@example.net"):
        response = client.get(f"/staff/inquiries/?queue=all&q={query}")
        if role in READERS:
            assert world.secret.reference in response.get_data(as_text=True) or response.status_code == 302
        else:
            table = page(response).select_one("table").get_text()  # the search box shows the query itself
            assert world.secret.reference not in table and not _leaks(table)


@pytest.mark.parametrize("role", ROLES)
def test_filters_on_content_never_match_it_for_others(app, world, role) -> None:
    user = world.people[role]
    for filters in (queues.Filters(language="en"), queues.Filters(channel="web"), queues.Filters(topic="other"),
                    queues.Filters(q="zebulon"), queues.Filters(q="zebulon", status=world.secret.status)):
        found = {item.id for item in queues.list_page("all", filters, actor=user, now=utcnow()).items}
        assert (world.secret.id in found) is (role in READERS), filters
    plain = queues.list_page("all", queues.Filters(status=world.secret.status), actor=user, now=utcnow(),
                             summaries=True)
    row = next(item for item in plain.items if item.id == world.secret.id)
    assert row.hidden is (role not in READERS)


@pytest.mark.parametrize("role", ["officer", "named", "assignee", "lead"])
def test_export_has_the_metadata_only(app, world, role) -> None:
    client = _client(app, world.people[role])
    text = client.get("/staff/inquiries/export.csv?queue=all").get_data(as_text=True)
    rows = {row[0]: row for row in csv.reader(io.StringIO(text))}
    assert world.secret.reference in rows and world.open.reference in rows
    assert _leaks(text) is (role in READERS)
    filtered = client.get("/staff/inquiries/export.csv?queue=all&q=quetzalcoatl").get_data(as_text=True)
    assert (world.secret.reference in filtered) is (role in READERS)


@pytest.mark.parametrize("role", ROLES)
def test_saved_view_respects_it(app, world, role) -> None:
    user = world.people[role]
    view = saved_views.save_view(user, "Secret words", "queue=all&q=Quetzalcoatl", now=utcnow())
    db.session.commit()
    client = _client(app, user)
    table = page(client.get("/staff/inquiries/?" + view.query)).select_one("table").get_text()
    assert (world.secret.reference in table) is (role in READERS)
    assert _leaks(table) is (role in READERS)


@pytest.mark.parametrize("role", ROLES)
def test_the_inquiry_page(app, world, role) -> None:
    client = _client(app, world.people[role])
    response = client.get(f"/staff/inquiries/{world.secret.id}")
    soup = page(response)
    html = response.get_data(as_text=True)
    assert world.secret.reference in soup.h1.get_text()
    if role in ("named", "assignee"):
        assert SECRET_BODY in html
    elif role == "lead":  # not named: asked for a reason first
        assert not _leaks(html) and soup.select_one("form[action$='/justify']")
    else:
        assert not _leaks(html) and soup.select_one("[data-testid=restricted-notice]")
        assert soup.select_one("[data-testid=status]")


@pytest.mark.parametrize("role", ["officer"])
def test_an_officer_not_named_cannot_act_on_it(app, world, role) -> None:
    client = _client(app, world.people[role])
    base = f"/staff/inquiries/{world.secret.id}"
    for action, data in (("/note", {"body": "hello"}), ("/take", {}), ("/restrict", {"restrict-reason": "x"}),
                         ("/named", {"user": str(world.people[role].id)}), ("/access", None)):
        response = client.get(base + action) if data is None else client.post(base + action, data=data)
        assert response.status_code == 403, action
    assert world.secret.assignee_id == world.people["assignee"].id
    result = triage.bulk([world.secret.id], "close", None, actor=world.people[role], now=utcnow())
    assert result.refused == 1 and result.changed == 0


def test_other_inquiries_of_the_stakeholder_are_masked(app, world) -> None:
    other = make_inquiry(email="xanthippe@example.net", subject="Another ordinary question")
    client = _client(app, world.people["officer"])
    html = client.get(f"/staff/inquiries/{other.id}").get_data(as_text=True)
    assert world.secret.reference in html and SECRET_SUBJECT not in html


def test_a_lead_gives_a_reason_which_is_recorded_and_reported(app, world) -> None:
    lead = _client(app, world.lead)
    url = f"/staff/inquiries/{world.secret.id}"
    page(lead.get(url))
    refused = lead.post(url + "/justify", data={"reason": "   "})
    assert refused.status_code == 422
    assert lead.post(url + "/justify", data={"reason": "Privacy officer review"}).status_code == 302
    html = lead.get(url).get_data(as_text=True)
    assert SECRET_BODY in html
    named = _client(app, world.people["named"])
    named.get(url)
    reasons = db.session.scalars(select(AuditEvent).where(AuditEvent.action == access.JUSTIFIED)).all()
    assert [(event.actor_id, event.details["reason"]) for event in reasons] == [
        (world.lead.id, "Privacy officer review")]
    soup = page(lead.get(url + "/access"))
    report = soup.select_one("[data-testid=access-report]").get_text(" ", strip=True)
    rows = soup.select("[data-testid=access-report] tbody tr")
    # Exactly the openings made: the lead's reason, the lead's opening, the named officer's opening.
    assert len(rows) == 3
    assert "Privacy officer review" in report and "Lena Lead" in report and "Nora Named" in report
    # A viewer and an officer not named saw the metadata only: not an opening of the inquiry.
    _client(app, world.people["viewer"]).get(url)
    assert len(protection.access_report(world.secret, actor=world.lead)) == 3
    assert not access.needs_reason(world.secret, world.lead, utcnow())
    later = utcnow() + timedelta(hours=access.JUSTIFICATION_HOURS + 1)
    assert access.needs_reason(world.secret, world.lead, later)


def test_restriction_and_names_are_audited(app, world) -> None:
    actions = [(event.action, event.details) for event in db.session.scalars(
        select(AuditEvent).where(AuditEvent.subject_type == "inquiry", AuditEvent.subject_id == world.secret.id)
        .order_by(AuditEvent.id))]
    assert any(action == "inquiry.restricted" and details.get("reason") == "Names a person at risk"
               for action, details in actions)
    assert any(action == "inquiry.staff_named" and details.get("user_id") == world.people["named"].id
               for action, details in actions)
    lead = _client(app, world.lead)
    lead.post(f"/staff/inquiries/{world.secret.id}/justify", data={"reason": "Tidy up"})
    assert lead.post(f"/staff/inquiries/{world.secret.id}/named/{world.people['named'].id}/remove").status_code == 302
    assert not access.is_named(world.secret.id, world.people["named"].id)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "inquiry.staff_unnamed")) is not None
    assert access.may_read(world.secret, world.people["named"]) is False


@pytest.fixture
def topics_restored(app):
    """Topics are reference data the PostgreSQL tests share (not truncated): put them back."""
    yield
    db.session.rollback()
    for topic in db.session.scalars(select(Topic).where(Topic.restricted.is_(True))):
        topic.restricted = False
    db.session.commit()


def test_a_restricted_topic_restricts_its_inquiries(app, world, topics_restored) -> None:
    officer = world.people["officer"]
    topic = db.session.scalar(select(Topic).where(Topic.code == "other"))
    assert access.may_read(world.open, officer)
    client = _client(app, world.lead)
    response = client.post("/staff/inquiries/topics", data={"restricted": ["other"]})
    assert response.status_code == 302
    db.session.refresh(topic)
    assert topic.restricted
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "topic.restricted")) is not None
    assert not access.may_read(world.open, officer)
    html = _client(app, officer).get("/staff/inquiries/?queue=all").get_data(as_text=True)
    assert world.open.reference in html and "Plain question" not in html


def test_the_digest_hides_the_subject_from_those_who_may_not_read_it(app, world) -> None:
    for user in world.people.values():
        user.wants_digest = True
    db.session.commit()
    send_daily_digests(utcnow())
    emails = {email.to_address: email for email in db.session.scalars(
        select(OutgoingEmail).where(OutgoingEmail.cause_key.like("digest:%")))}
    for role, user in world.people.items():
        text = emails[user.email].body_text
        assert world.secret.reference in text
        assert (SECRET_SUBJECT in text) is (role in READERS), role


def test_reminders_to_the_team_address_hide_the_subject(app_factory) -> None:
    app = app_factory(MAIL_TEAM_ADDRESS="team@example.org")
    with app.app_context():
        lead = make_user(role="lead")
        secret = make_inquiry(subject=SECRET_SUBJECT)
        protection.restrict(secret, "At risk", actor=lead, now=utcnow())
        db.session.commit()
        edit(secret, due_at=utcnow() - timedelta(hours=1))
        db.session.commit()
        assert reminders.send_target_reminders(utcnow()) == 1
        sent = db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.to_address == "team@example.org",
                                                              OutgoingEmail.cause_key.like("reminders:%"))).all()
        assert sent and not any(_leaks(email.subject + email.body_text) for email in sent)


def test_the_portal_is_unaffected(app, world) -> None:
    from inquiry_desk.inquiries import services as inquiries

    _link, token = inquiries.create_portal_link(world.secret, now=utcnow())
    db.session.commit()
    html = app.test_client().get(f"/en/portal/{token}").get_data(as_text=True)
    assert SECRET_BODY in html


def test_contact_lookup_by_email_does_not_open_it(app, world) -> None:
    client = _client(app, world.people["officer"])
    response = client.get("/staff/inquiries/?q=xanthippe@example.net")
    assert response.status_code == 200 and world.secret.reference not in response.get_data(as_text=True)
    assert db.session.scalar(select(Contact).where(Contact.email == "xanthippe@example.net")) is not None
    assert db.session.get(Inquiry, world.secret.id).restricted


def test_what_a_staff_member_opened_in_a_period(app, world) -> None:
    named = _client(app, world.people["named"])
    named.get(f"/staff/inquiries/{world.secret.id}")
    named.get(f"/staff/inquiries/{world.open.id}")
    _client(app, world.people["officer"]).get(f"/staff/inquiries/{world.open.id}")  # someone else
    admin = make_user(role="admin")
    client = _client(app, admin)
    today = utcnow().date()
    soup = page(client.get(f"/staff/inquiries/openings?user={world.people['named'].id}"
                           f"&from={today - timedelta(days=1)}&to={today}"))
    rows = soup.select("[data-testid=openings] tbody tr")
    assert [row.select("td")[1].get_text(strip=True) for row in rows] == [world.open.reference,
                                                                        world.secret.reference]
    earlier = page(client.get(f"/staff/inquiries/openings?user={world.people['named'].id}"
                              f"&from=2020-01-01&to=2020-12-31"))
    assert not earlier.select("[data-testid=openings] tbody tr")
    odd = client.get("/staff/inquiries/openings?user=999999999999999999999&from=9999-99-99&before=1e308")
    assert odd.status_code == 200
    assert _client(app, world.lead).get("/staff/inquiries/openings").status_code == 403


def test_searches_and_exports_that_showed_its_content_are_in_the_access_report(app, world) -> None:
    named = _client(app, world.people["named"])
    named.get("/staff/inquiries/?queue=all&q=Quetzalcoatl")
    named.get("/staff/inquiries/export.csv?queue=all").get_data()
    officer = _client(app, world.people["officer"])  # saw the metadata only: not a reading
    officer.get("/staff/inquiries/?queue=all&q=forms")
    officer.get("/staff/inquiries/export.csv?queue=all").get_data()
    readings = [(opening.user_id, opening.action) for opening in
                protection.access_report(world.secret, actor=world.lead)]
    assert readings == [(world.people["named"].id, access.FOUND), (world.people["named"].id, access.EXPORTED)]
    lead = _client(app, world.lead)
    lead.post(f"/staff/inquiries/{world.secret.id}/justify", data={"reason": "Review"})
    report = page(lead.get(f"/staff/inquiries/{world.secret.id}/access")).get_text()
    assert "Found it by a search of its content" in report and "Exported its content" in report


def test_ids_beyond_the_columns_are_not_found(app, world) -> None:
    lead = _client(app, world.lead)
    big = 10**20
    for url in (f"/staff/inquiries/{world.secret.id}/named/{big}/remove",
                f"/staff/inquiries/{world.secret.id}/people/{big}/remove",
                f"/staff/inquiries/{world.secret.id}/messages/{big}/redact",
                f"/staff/inquiries/{big}/restrict", f"/staff/inquiries/{big}/justify"):
        assert lead.post(url, data={"reason": "x"}).status_code == 404, url


def test_a_stakeholder_reply_notice_to_the_team_address_hides_the_subject(app_factory) -> None:
    from inquiry_desk.inquiries import services as inquiries
    from inquiry_desk.inquiries.models import Channel

    app = app_factory(MAIL_TEAM_ADDRESS="team@example.org")
    with app.app_context():
        holder = make_user(role="officer")
        secret = make_inquiry(subject=SECRET_SUBJECT)
        protection.restrict(secret, "At risk", actor=holder, now=utcnow())
        db.session.commit()
        inquiries.add_stakeholder_message(secret, "More about Quetzalcoatl", channel=Channel.WEB, now=utcnow())
        db.session.commit()
        sent = db.session.scalars(select(OutgoingEmail).where(
            OutgoingEmail.cause_key.like("%:stakeholder-reply:%"))).all()
        assert sent and not any(_leaks(email.subject + email.body_text) for email in sent)


@pytest.mark.parametrize("role", ROLES)
def test_directory_pages_list_it_without_its_subject(app, world, role) -> None:
    """The contact's page in the directory lists their inquiries: a restricted one shows no subject."""
    client = _client(app, world.people[role])
    html = client.get(f"/staff/directory/contacts/{world.secret.contact_id}").get_data(as_text=True)
    assert world.secret.reference in html
    where = html.find("Zebulon")
    assert (where >= 0) is (role in READERS), html[max(where - 300, 0):where + 50]
    if role not in READERS:
        assert "(restricted)" in html
