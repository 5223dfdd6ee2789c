"""The lead's settings page: targets in hours, the working week, closures; officers are kept out."""

from __future__ import annotations

from datetime import date

import pytest
from bs4 import BeautifulSoup
from flask.testing import FlaskClient
from sqlalchemy import select

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import services as inquiries
from inquiry_desk.inquiries import targets
from inquiry_desk.inquiries.targets.models import Closure, ServiceTarget

from ..helpers import form_errors, page
from ..inquiries.targets.test_targets import restore_reference_tables  # noqa: F401  (autouse: targets and calendar put back)

URL = "/staff/targets/"


def _target(priority: str, topic_id: int | None = None) -> ServiceTarget:
    return db.session.scalar(select(ServiceTarget).where(ServiceTarget.priority == priority,
                                                         ServiceTarget.topic_id.is_(topic_id)
                                                         if topic_id is None else ServiceTarget.topic_id == topic_id))


def _audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _settings_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.subject_type.in_(("service_target", "service_targets", "team_calendar", "closure")))
        .order_by(AuditEvent.id)))


def _form_values(soup: BeautifulSoup, prefix: str) -> dict[str, str]:
    return {field["name"]: field.get("value", "") for field in soup.select(f"input[name^='{prefix}']")
            if field.get("type") != "submit"}


def _fresh() -> None:
    """See what the requests committed (they ran in their own app contexts)."""
    db.session.expire_all()


@pytest.fixture
def lead(signed_in) -> FlaskClient:
    return signed_in("lead")


def test_the_page_shows_targets_in_hours_the_week_and_holidays(lead: FlaskClient) -> None:
    soup = page(lead.get(URL))
    urgent = _target("urgent")
    assert soup.select_one(f"#targets-first_{urgent.id}")["value"] == "4"
    assert soup.select_one(f"#targets-resolution_{urgent.id}")["value"] == "16"
    assert [box["value"] for box in soup.select("input[name='calendar-working_days'][checked]")] == [
        "1", "2", "3", "4", "5"]
    assert soup.select_one("#calendar-opens")["value"] == "08:30"
    assert soup.select_one("#calendar-subdivision option[selected]")["value"] == "ON"
    assert "Canada Day" in soup.get_text()
    assert "Targets and calendar" in [a.get_text(strip=True) for a in soup.select("nav a")]


def test_the_page_in_french(lead: FlaskClient) -> None:
    lead.get("/lang/fr")
    soup = page(lead.get(URL), lang="fr")
    assert "Fête du Canada" in soup.get_text()
    assert soup.select_one("label[for='calendar-working_days']").get_text(strip=True) == "Lundi"


@pytest.mark.parametrize("role", ["viewer", "officer"])
def test_only_leads_may_open_or_change_the_settings(signed_in, role: str) -> None:
    client = signed_in(role)
    assert client.get(URL).status_code == 403
    assert client.post("/staff/targets/closures", data={"closure-day": "2026-12-24",
                                                        "closure-reason": "x"}).status_code == 403
    assert client.post("/staff/targets/working-week", data={"calendar-working_days": ["1"]}).status_code == 403
    assert "Targets and calendar" not in client.get("/staff/").get_data(as_text=True)
    _fresh()
    assert db.session.scalar(select(Closure)) is None


def test_a_lead_edits_the_targets_in_hours(lead: FlaskClient) -> None:
    version = targets.calendar_version()
    values = _form_values(page(lead.get(URL)), "targets-")
    urgent, low = _target("urgent"), _target("low")
    values[f"targets-first_{urgent.id}"] = "2.5"
    values[f"targets-resolution_{urgent.id}"] = "12,25"  # a decimal comma, as typed in French
    values[f"targets-first_{low.id}"] = " 48 "
    response = lead.post("/staff/targets/service-targets", data=values)
    assert response.status_code == 302 and response.headers["Location"].endswith("#service-targets")
    _fresh()
    assert (urgent.first_response_minutes, urgent.resolution_minutes) == (150, 735)
    assert low.first_response_minutes == 48 * 60
    assert _target("normal").first_response_minutes == 16 * 60
    [event] = _audit("targets.update")
    assert event.actor_id == lead.user.id
    assert {change["priority"] for change in event.details["changes"]} == {"urgent", "low"}
    assert targets.calendar_version() == version + 1
    assert "Service targets saved." in lead.get(URL).get_data(as_text=True)


def test_saving_unchanged_targets_changes_nothing(lead: FlaskClient) -> None:
    version = targets.calendar_version()
    values = _form_values(page(lead.get(URL)), "targets-")
    assert lead.post("/staff/targets/service-targets", data=values).status_code == 302
    _fresh()
    assert not _audit("targets.update") and targets.calendar_version() == version
    assert "Nothing was changed." in lead.get(URL).get_data(as_text=True)


@pytest.mark.parametrize(("first", "resolution", "wrong", "message"), [
    ("abc", "16", "first", "Urgent, first response: enter the hours as a number, like 8 or 1.5."),
    ("", "16", "first", "Urgent, first response: enter a number of hours."),
    ("0", "16", "first", "Urgent, first response: enter more than zero hours."),
    ("-2", "16", "first", "Urgent, first response: enter more than zero hours."),
    ("1.000,5", "16", "first", "Urgent, first response: enter the hours as a number, like 8 or 1.5."),
    ("4", "99999", "resolution", "Urgent, resolution: enter at most 5,000 hours."),
    ("8", "4", "resolution", "Urgent: the time to resolution cannot be shorter than the time to first response."),
])
def test_bad_hours_are_explained_and_nothing_is_saved(lead: FlaskClient, first: str, resolution: str, wrong: str,
                                                      message: str) -> None:
    values = _form_values(page(lead.get(URL)), "targets-")
    urgent = _target("urgent")
    values[f"targets-first_{urgent.id}"] = first
    values[f"targets-resolution_{urgent.id}"] = resolution
    soup = page(lead.post("/staff/targets/service-targets", data=values))
    assert form_errors(soup) == [message]
    assert soup.title.get_text().startswith("Error:")
    field = soup.select_one(f"#targets-{wrong}_{urgent.id}")
    assert field["aria-invalid"] == "true"
    assert field["value"] == (first if wrong == "first" else resolution)
    _fresh()
    assert (urgent.first_response_minutes, urgent.resolution_minutes) == (240, 960)
    assert not _audit("targets.update")


def test_a_lead_adds_and_removes_a_target_for_a_topic(lead: FlaskClient) -> None:
    topic = inquiries.topic_by_code("private_sponsorship")
    data = {"topic-target-topic": str(topic.id), "topic-target-priority": "high",
            "topic-target-first_response": "2", "topic-target-resolution": "24"}
    assert lead.post("/staff/targets/topic-targets", data=data).status_code == 302
    _fresh()
    override = _target("high", topic.id)
    assert (override.first_response_minutes, override.resolution_minutes) == (120, 24 * 60)
    assert targets.target_for("high", topic.id).id == override.id
    soup = page(lead.get(URL))
    assert soup.select_one(f"#targets-first_{override.id}")["value"] == "2"

    soup = page(lead.post("/staff/targets/topic-targets", data=data))
    assert form_errors(soup) == ["This topic already has its own target for this priority. "
                                 "Change it in the table of service targets."]

    assert lead.post("/staff/targets/topic-targets/remove", data={"item_id": str(override.id)}).status_code == 302
    _fresh()
    assert _target("high", topic.id) is None
    assert _settings_actions() == ["targets.add", "targets.remove"]
    # A default cannot be removed, and a second removal is only a notice.
    default = _target("high")
    lead.post("/staff/targets/topic-targets/remove", data={"item_id": str(default.id)})
    assert "That target was already removed." in lead.get(URL).get_data(as_text=True)
    _fresh()
    assert _target("high") is not None


def test_a_topic_target_needs_valid_hours(lead: FlaskClient) -> None:
    topic = inquiries.topic_by_code("media")
    soup = page(lead.post("/staff/targets/topic-targets", data={
        "topic-target-topic": str(topic.id), "topic-target-priority": "low",
        "topic-target-first_response": "ten", "topic-target-resolution": ""}))
    assert form_errors(soup) == ["Hours to first response: enter the hours as a number, like 8 or 1.5.",
                                 "Hours to resolution: enter a number of hours."]


def test_a_lead_changes_the_working_week(lead: FlaskClient) -> None:
    version = targets.calendar_version()
    response = lead.post("/staff/targets/working-week", data={
        "calendar-working_days": ["1", "2", "3", "4"], "calendar-opens": "09:00", "calendar-closes": "17:15",
        "calendar-subdivision": "QC"})
    assert response.status_code == 302
    _fresh()
    row = targets.team_calendar()
    assert (row.working_days, row.opens_minute, row.closes_minute, row.subdivision) == ("1,2,3,4", 540, 1035, "QC")
    assert row.version == version + 1
    [event] = _audit("calendar.update")
    assert event.details["subdivision"] == ["ON", "QC"]
    assert event.details["opens_minute"] == [510, 540]
    calendar = targets.working_calendar()
    assert not calendar.is_open_day(date(2026, 6, 26))  # a Friday
    assert not calendar.is_open_day(date(2026, 6, 24))  # Fête nationale du Québec


@pytest.mark.parametrize(("data", "messages"), [
    ({"calendar-opens": "08:30", "calendar-closes": "16:30"}, ["Choose at least one working day."]),
    ({"calendar-working_days": ["1"], "calendar-opens": "17:00", "calendar-closes": "09:00"},
     ["The closing time must be after the opening time."]),
    ({"calendar-working_days": ["1"], "calendar-opens": "8h", "calendar-closes": ""},
     ["Enter the opening time as hours and minutes, like 08:30.", "Enter the closing time."]),
    ({"calendar-working_days": ["1"], "calendar-opens": "25:00", "calendar-closes": "16:30"},
     ["Enter the opening time as hours and minutes, like 08:30."]),
])
def test_a_bad_working_week_is_explained(lead: FlaskClient, data: dict, messages: list[str]) -> None:
    soup = page(lead.post("/staff/targets/working-week", data={"calendar-subdivision": "ON", **data}))
    assert form_errors(soup) == messages
    _fresh()
    assert targets.team_calendar().working_days == "1,2,3,4,5"
    assert not _audit("calendar.update")


def test_a_lead_adds_and_removes_a_closure(lead: FlaskClient) -> None:
    version = targets.calendar_version()
    response = lead.post("/staff/targets/closures", data={"closure-day": "2026-12-24",
                                                          "closure-reason": "Holiday closure"})
    assert response.status_code == 302 and response.headers["Location"].endswith("#closures")
    _fresh()
    closure = db.session.scalar(select(Closure))
    closure_id = closure.id
    assert (closure.day, closure.reason) == (date(2026, 12, 24), "Holiday closure")
    assert not targets.working_calendar().is_open_day(date(2026, 12, 24))
    soup = page(lead.get(URL))
    assert "Closure added for Dec 24, 2026." in soup.get_text()
    assert "Holiday closure" in soup.select_one("#closures").find_next("table").get_text()

    soup = page(lead.post("/staff/targets/closures", data={"closure-day": "2026-12-24", "closure-reason": "x"}))
    assert form_errors(soup) == ["This day is already a closure."]

    assert lead.post("/staff/targets/closures/remove", data={"item_id": str(closure_id)}).status_code == 302
    _fresh()
    assert db.session.scalar(select(Closure)) is None
    assert _settings_actions() == ["closure.add", "closure.remove"]
    assert targets.calendar_version() == version + 2
    lead.post("/staff/targets/closures/remove", data={"item_id": str(closure_id)})
    assert "That closure was already removed." in lead.get(URL).get_data(as_text=True)


@pytest.mark.parametrize(("data", "messages"), [
    ({"closure-day": "", "closure-reason": ""},
     ["Enter the date of the closure.", "Enter the reason for the closure."]),
    ({"closure-day": "24/12/2026", "closure-reason": "x"}, ["Enter the date as year, month and day, like 2026-12-24."]),
    ({"closure-day": "1850-12-24", "closure-reason": "x"}, ["Enter a date between the years 2000 and 2100."]),
    ({"closure-day": "2026-12-24", "closure-reason": "x" * 201}, ["The reason can have at most 200 characters."]),
])
def test_a_bad_closure_is_explained(lead: FlaskClient, data: dict, messages: list[str]) -> None:
    assert form_errors(page(lead.post("/staff/targets/closures", data=data))) == messages
    _fresh()
    assert db.session.scalar(select(Closure)) is None


def test_the_forms_carry_a_csrf_token(app_factory) -> None:
    from ..helpers import make_user, sign_in

    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = app.test_client()
        sign_in(client, make_user(role="lead"))
        soup = page(client.get(URL))
        token = soup.select_one("form[action$='/closures'] input[name='closure-csrf_token']")["value"]
        response = client.post("/staff/targets/closures", data={
            "closure-csrf_token": token, "closure-day": "2026-12-24", "closure-reason": "Holiday closure"})
        assert response.status_code == 302
        assert client.post("/staff/targets/closures", data={
            "closure-day": "2026-12-25", "closure-reason": "x"}).status_code == 400
        removal = soup.select_one("#remove-topic-target input[name='csrf_token']")
        assert removal is not None and removal["value"]
