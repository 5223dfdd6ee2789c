"""Canned responses: safe rendering in both languages, validation at save, pages, roles, audit, demo."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from inquiry_desk.audit.models import AuditEvent
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.inbox.canned_forms import VARIABLE_DESCRIPTIONS, problem_message
from inquiry_desk.inquiries.canned import services as canned
from inquiry_desk.inquiries.canned.demo import DEMO_CANNED_RESPONSES, seed_canned_responses
from inquiry_desk.inquiries.canned.models import CannedResponse

from ...helpers import edit, form_errors, make_inquiry, make_user, page

EVERY_VARIABLE_EN = ("Hello {{ requester_name }}, about {{ subject }} ({{ reference }}, {{ topic }}) "
                     "from {{ organisation }}. {{ officer_name }}")
EVERY_VARIABLE_FR = ("Bonjour {{ requester_name }}, au sujet de « {{ subject }} » ({{ reference }}, {{ topic }}) "
                     "de {{ organisation }}. {{ officer_name }}")
XSS = '<script>alert("canned")</script><img src=x onerror=alert(1)>'


def _values(**overrides: str) -> dict[str, str]:
    values = {"title_en": "Acknowledgement", "title_fr": "Accusé de réception",
              "body_en": "Hello {{ requester_name }}", "body_fr": "Bonjour {{ requester_name }}"}
    values.update(overrides)
    return values


def _create(lead=None, **overrides: str) -> CannedResponse:
    lead = lead or make_user(role="lead")
    response = canned.create(**_values(**overrides), actor=lead, now=utcnow())
    db.session.commit()
    return response


def _codes(excinfo: pytest.ExceptionInfo) -> list[tuple[str, str]]:
    return [(problem.field, problem.code) for problem in excinfo.value.problems]


# --- Rendering ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("lang", "expected"), [
    ("en", "Hello Farida Rahimi, about Sponsorship timeline (REF, Other) from Halifax Welcome Circle. Nadia Lead"),
    ("fr", "Bonjour Farida Rahimi, au sujet de « Sponsorship timeline » (REF, Autre) de Halifax Welcome Circle. "
           "Nadia Lead"),
])
def test_every_variable_is_filled_in_each_language(app, lang: str, expected: str) -> None:
    officer = make_user(role="lead", name="Nadia Lead")
    inquiry = make_inquiry(subject="Sponsorship timeline", language=lang)
    edit(inquiry, organisation_name="Halifax Welcome Circle")
    response = _create(officer, body_en=EVERY_VARIABLE_EN, body_fr=EVERY_VARIABLE_FR)
    text = canned.render_canned(response, lang, inquiry, officer)
    assert text == expected.replace("REF", inquiry.reference)
    assert inquiry.reference.startswith("INQ-")


def test_rendering_is_plain_text_and_values_are_not_templates(app) -> None:
    officer = make_user(role="lead", name="O'Brien & <Partners>")
    inquiry = make_inquiry(subject="{{ officer_name }} <b>bold</b>")
    response = _create(officer, body_en="{{ subject }} / {{ officer_name }}\n\nLine two\n")
    assert canned.render_canned(response, "en", inquiry, officer) == (
        "{{ officer_name }} <b>bold</b> / O'Brien & <Partners>\n\nLine two")


def test_if_and_text_filters_help_with_empty_values(app) -> None:
    officer = make_user(role="lead")
    inquiry = make_inquiry()
    response = _create(officer, body_en="Hi{% if organisation %} from {{ organisation }}{% endif %}, "
                                        "{{ topic|default('no topic', true)|upper }}")
    assert canned.render_canned(response, "en", inquiry, officer) == "Hi, OTHER"
    edit(inquiry, organisation_name="Aman Lara")
    assert canned.render_canned(response, "en", inquiry, officer) == "Hi from Aman Lara, OTHER"


@pytest.mark.parametrize("template", [
    "{{ reference.__class__ }}",
    "{{ ''.join }}",
    "{{ ''.join(['a', 'b']) }}",
    "{{ reference.upper() }}",
    "{{ reference['__class__'] }}",
    "{{ reference|attr('__class__') }}",
    "{{ requester_name * 1000000 }}",
    "{{ range(10) }}",
    "{{ cycler.__init__.__globals__ }}",
    "{% for x in range(3) %}{{ x }}{% endfor %}",
    "{% set x = reference %}",
    "{{ reference|format(1) }}",
    "{{ subject|upper(1) }}",
    "{{ subject|trim(1) }}",
    "{{ subject|title('x', 'y') }}",
    "{{ subject|default('a', true, 3) }}",
    "{% include 'base.html' %}",
])
def test_attributes_calls_and_statements_are_refused_when_saving(app, template: str) -> None:
    with pytest.raises(canned.InvalidCannedResponse) as excinfo:
        canned.create(**_values(body_fr=template), actor=make_user(role="lead"), now=utcnow())
    assert _codes(excinfo)[0][0] == "body_fr"
    assert _codes(excinfo)[0][1] in ("not_allowed", "unknown_variable")


@pytest.mark.parametrize("template", [
    "{{ reference.__class__ }}",
    "{{ ''.join }}",
    "{{ ''.join(['a']) }}",
    "{{ reference.upper() }}",
    "{{ reference['__class__'] }}",
    "{{ reference.__class__.__mro__[1].__subclasses__() }}",
    "{{ 'a' * 100000000 }}",
    "{{ range(3) }}",
    "{{ lipsum() }}",
])
def test_the_sandbox_refuses_them_even_past_the_save_check(app, monkeypatch, template: str) -> None:
    """A template that reached the database some other way still cannot touch Python objects."""
    monkeypatch.setattr(canned, "template_problems", lambda text, field="body_en": [])
    with pytest.raises(canned.CannedTemplateError):
        canned.render_text(template, {"reference": "INQ-2026-000001"})


def test_a_stored_bad_template_fails_cleanly_when_rendered(app) -> None:
    officer = make_user(role="lead")
    response = CannedResponse(title_en="x", title_fr="x", body_en="{{ reference.__class__ }}", body_fr="{{ nope }}")
    inquiry = make_inquiry()
    with pytest.raises(canned.CannedTemplateError) as excinfo:
        canned.render_canned(response, "fr", inquiry, officer)
    assert excinfo.value.problem.code == "unknown_variable" and excinfo.value.problem.name == "nope"
    with pytest.raises(canned.CannedTemplateError):
        canned.render_canned(response, "en", inquiry, officer)


def test_unknown_variables_and_syntax_errors_are_refused_with_their_names(app) -> None:
    lead = make_user(role="lead")
    with pytest.raises(canned.InvalidCannedResponse) as excinfo:
        canned.create(**_values(body_en="Hi {{ requester }}\n{{ requester }} {{ Reference }}", body_fr="{{ oops"),
                      actor=lead, now=utcnow())
    problems = excinfo.value.problems
    assert [(p.field, p.code, p.name, p.line) for p in problems] == [
        ("body_en", "unknown_variable", "requester", 1),
        ("body_en", "unknown_variable", "requester", 2),
        ("body_en", "unknown_variable", "Reference", 2),
        ("body_fr", "syntax", None, 1),
    ]
    assert db.session.scalar(select(func.count()).select_from(CannedResponse)) == 0


def test_both_languages_are_required_and_lengths_are_checked(app) -> None:
    lead = make_user(role="lead")
    with pytest.raises(canned.InvalidCannedResponse) as excinfo:
        canned.create(**_values(title_fr="   ", body_fr="", title_en="x" * 201, body_en="y" * 10_001),
                      actor=lead, now=utcnow())
    assert sorted(_codes(excinfo)) == [("body_en", "too_long"), ("body_fr", "required"),
                                       ("title_en", "too_long"), ("title_fr", "required")]


def test_deeply_nested_templates_are_refused_not_crashed(app) -> None:
    template = "{% if reference %}" * 344 + "x" + "{% endif %}" * 344
    assert len(template) <= canned.BODY_MAX
    assert [problem.code for problem in canned.template_problems(template)] == ["too_complex"]
    assert [problem.code for problem in canned.template_problems("{{ reference" + "|upper" * 200 + " }}")] == [
        "too_complex"]


@pytest.mark.parametrize(("problem", "expected"), [
    (canned.Problem("title_fr", "required"), "Enter the title in French."),
    (canned.Problem("body_en", "too_long", limit=10_000), "Text in English can have at most 10000 characters."),
    (canned.Problem("body_en", "syntax", line=3), "Text in English, line 3: a variable is not written right."),
    (canned.Problem("body_fr", "unknown_variable", line=2, name="nom"),
     "Text in French, line 2: there is no variable called {{ nom }}."),
    (canned.Problem("body_fr", "not_allowed", line=4), "Text in French, line 4: only variables like {{ reference }}"),
    (canned.Problem("body_fr", "too_complex"), "Text in French: the text has too many {% if %} inside one another."),
])
def test_each_problem_has_a_clear_message(app, problem: canned.Problem, expected: str) -> None:
    label = {"title_fr": "Title in French", "body_en": "Text in English", "body_fr": "Text in French"}[problem.field]
    with app.test_request_context():
        assert problem_message(problem, label).startswith(expected)


def test_spaces_alone_are_refused_with_the_required_message(signed_in) -> None:
    soup = page(signed_in("lead").post("/staff/canned-responses/new", data=_values(body_fr="  \r\n ")))
    assert form_errors(soup) == ["Enter the text in French."]


def test_every_variable_is_described_for_the_edit_page() -> None:
    assert set(canned.available_variables()) == set(VARIABLE_DESCRIPTIONS)
    assert "reference" in canned.available_variables()


# --- Services: list, update, deactivate, audit -----------------------------------------------

def test_list_is_ordered_by_title_in_the_language_and_skips_deactivated(app) -> None:
    lead = make_user(role="lead")
    zebra = _create(lead, title_en="Zebra", title_fr="Accusé")
    apple = _create(lead, title_en="apple", title_fr="Été")
    _create(lead, title_en="Banana", title_fr="Banane")
    old = _create(lead, title_en="Aardvark", title_fr="Aardvark")
    canned.deactivate(old, actor=lead, now=utcnow())
    db.session.commit()
    assert [r.title_en for r in canned.list_active("en")] == ["apple", "Banana", "Zebra"]
    assert [r.title_fr for r in canned.list_active("fr")] == ["Accusé", "Banane", "Été"]
    assert canned.get(old.id) is None and canned.get(old.id, active_only=False) is old
    assert canned.get(zebra.id) is zebra and apple.active


def test_create_update_deactivate_write_the_audit_log(app) -> None:
    lead = make_user(role="lead")
    response = _create(lead)
    assert response.updated_by_id == lead.id
    assert canned.update(response, **_values(body_fr="Bonjour {{ requester_name }}, {{ reference }}"),
                         actor=lead, now=utcnow()) == ["body_fr"]
    assert canned.update(response, **_values(body_fr="Bonjour {{ requester_name }}, {{ reference }}"),
                         actor=lead, now=utcnow()) == []
    canned.deactivate(response, actor=lead, now=utcnow())
    canned.deactivate(response, actor=lead, now=utcnow())  # twice: nothing more is written
    db.session.commit()
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.subject_type == "canned_response")
                                .order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor_id, e.subject_id) for e in events] == [
        ("canned_response.created", lead.id, response.id),
        ("canned_response.updated", lead.id, response.id),
        ("canned_response.deactivated", lead.id, response.id),
    ]
    assert events[1].details == {"changed": ["body_fr"]}
    assert not response.active
    with pytest.raises(canned.CannedResponseError):
        canned.update(response, **_values(), actor=lead, now=utcnow())


# --- Pages and roles --------------------------------------------------------------------------

def test_officer_reads_the_list_but_cannot_manage(signed_in) -> None:
    response = _create()
    officer = signed_in("officer")
    soup = page(officer.get("/staff/canned-responses/"))
    assert "Acknowledgement" in soup.get_text()
    assert not soup.select('a[href$="/staff/canned-responses/new"]')
    page(officer.get("/staff/canned-responses/new"), status=403)
    page(officer.post("/staff/canned-responses/new", data=_values()), status=403)
    page(officer.get(f"/staff/canned-responses/{response.id}"), status=403)
    page(officer.post(f"/staff/canned-responses/{response.id}", data=_values(title_en="Hacked")), status=403)
    page(officer.post(f"/staff/canned-responses/{response.id}/deactivate"), status=403)
    db.session.refresh(response)
    assert response.active and response.title_en == "Acknowledgement"
    page(signed_in("viewer").get("/staff/canned-responses/"), status=403)


def test_the_staff_menu_offers_the_page_to_officers_not_viewers(signed_in) -> None:
    soup = page(signed_in("officer").get("/staff/"))
    assert soup.select_one('nav a[href="/staff/canned-responses/"]')
    soup = page(signed_in("viewer").get("/staff/"))
    assert not soup.select_one('nav a[href="/staff/canned-responses/"]')


def test_lead_creates_edits_and_deactivates(signed_in) -> None:
    lead = signed_in("lead")
    soup = page(lead.get("/staff/canned-responses/new"))
    assert soup.select_one("#title_fr")["lang"] == "fr" and soup.select_one("#body_fr")["lang"] == "fr"
    assert soup.select_one("label[for=body_en]") and soup.select_one("label[for=title_fr]")
    assert "{{ requester_name }}" in soup.get_text()
    response = lead.post("/staff/canned-responses/new", data=_values(body_en="Hello\r\n{{ reference }}\r\n"))
    assert response.status_code == 302
    created = db.session.scalar(select(CannedResponse))
    assert created.body_en == "Hello\n{{ reference }}" and created.updated_by_id == lead.user.id

    soup = page(lead.get(f"/staff/canned-responses/{created.id}"))
    assert soup.select_one("#title_en")["value"] == "Acknowledgement"
    response = lead.post(f"/staff/canned-responses/{created.id}", data=_values(title_en="Acknowledgement (new)"))
    assert response.status_code == 302
    db.session.refresh(created)
    assert created.title_en == "Acknowledgement (new)"

    assert lead.post(f"/staff/canned-responses/{created.id}/deactivate").status_code == 302
    db.session.refresh(created)
    assert not created.active
    soup = page(lead.get("/staff/canned-responses/"))
    assert "deactivated" in " ".join(n.get_text() for n in soup.select("[role=status]"))
    assert not soup.select("section.canned-response")
    page(lead.get(f"/staff/canned-responses/{created.id}"), status=404)
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.subject_id == created.id,
                                                                 AuditEvent.subject_type == "canned_response")).all()
    assert sorted(actions) == ["canned_response.created", "canned_response.deactivated", "canned_response.updated"]


def test_save_errors_are_summarised_and_name_the_variable(signed_in) -> None:
    lead = signed_in("lead")
    soup = page(lead.post("/staff/canned-responses/new", data=_values(
        title_fr="", body_en="Dear {{ requester_nam }}", body_fr="{{ reference.__class__ }}")))
    assert soup.title.get_text().startswith("Error")
    errors = form_errors(soup)
    assert errors[0] == "Enter the title in French."
    assert len(errors) == 1  # the form's own checks come first; the templates are checked next
    soup = page(lead.post("/staff/canned-responses/new", data=_values(
        body_en="Dear {{ requester_nam }}", body_fr="{{ reference.__class__ }}")))
    errors = form_errors(soup)
    assert len(errors) == 2
    assert "{{ requester_nam }}" in errors[0] and "Text in English" in errors[0]
    assert "Text in French, line 1" in errors[1]
    assert soup.select_one("#body_en")["aria-invalid"] == "true"
    assert soup.select_one("#body_fr")["aria-invalid"] == "true"
    assert not soup.select_one("#title_en").get("aria-invalid")
    assert [a["href"] for a in soup.select("[data-error-summary] a")] == ["#body_en", "#body_fr"]
    assert db.session.scalar(select(func.count()).select_from(CannedResponse)) == 0


def test_save_errors_in_french(signed_in) -> None:
    lead = signed_in("lead")
    lead.get("/lang/fr")
    soup = page(lead.post("/staff/canned-responses/new", data=_values(body_fr="{{ nom }}")), lang="fr")
    assert soup.title.get_text().startswith("Erreur")
    assert "{{ nom }}" in form_errors(soup)[0]


def test_xss_in_a_response_is_inert_on_the_list_and_edit_pages(signed_in) -> None:
    lead = signed_in("lead")
    response = _create(title_en=XSS, body_en=XSS + "\n{{ reference }}", body_fr=XSS)
    for url in ("/staff/canned-responses/", f"/staff/canned-responses/{response.id}"):
        html = lead.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(" in html
        soup = page(lead.get(url))
        assert not soup.select("main script") and not soup.select("main img")
    soup = page(lead.get(f"/staff/canned-responses/{response.id}"))
    assert XSS in soup.select_one("#body_en").get_text()


def test_missing_response_is_404_for_leads(signed_in) -> None:
    lead = signed_in("lead")
    page(lead.get("/staff/canned-responses/999"), status=404)
    page(lead.post("/staff/canned-responses/999/deactivate"), status=404)


# --- Demo data --------------------------------------------------------------------------------

def test_demo_seeder_adds_five_valid_responses_once(app) -> None:
    lead = make_user(role="lead")
    lines = seed_canned_responses(utcnow())
    db.session.commit()
    assert lines == ["Canned responses: 5 added."]
    assert seed_canned_responses(utcnow()) == ["Canned responses: already there, none added."]
    db.session.commit()
    responses = db.session.scalars(select(CannedResponse)).all()
    assert len(responses) == len(DEMO_CANNED_RESPONSES) == 5
    assert {r.updated_by_id for r in responses} == {lead.id}
    inquiry = make_inquiry()
    for response in responses:
        for lang in ("en", "fr"):
            text = canned.render_canned(response, lang, inquiry, lead)
            assert lead.name in text and "{{" not in text


def test_a_saved_template_that_fails_at_render_is_a_message_not_a_500(app, signed_in) -> None:
    """Issue 11: ``{{ subject|upper(1) }}`` was saved, then its insertion was a 500."""
    officer = signed_in("officer")
    response = CannedResponse(title_en="Upper", title_fr="Upper", body_en="{{ subject|upper(1) }}",
                              body_fr="{{ subject|upper(1) }}")
    db.session.add(response)
    inquiry = make_inquiry()
    db.session.commit()
    reply = officer.post(f"/staff/inquiries/{inquiry.id}/reply",
                         data={"canned": str(response.id), "insert": "1", "language": "en", "body": ""})
    assert reply.status_code == 422
    assert "cannot be inserted" in reply.get_data(as_text=True)


@pytest.mark.parametrize("field", ["title_en", "body_fr"])
def test_control_characters_are_refused_when_saving(app, field: str) -> None:
    """Issue 11 (H2 on PostgreSQL): a NUL in a canned response was a DataError, a 500."""
    with pytest.raises(canned.InvalidCannedResponse) as excinfo:
        canned.create(**_values(**{field: "Hello\x00there"}), actor=make_user(role="lead"), now=utcnow())
    assert _codes(excinfo) == [(field, "control_characters")]
