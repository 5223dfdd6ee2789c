"""QUALITY.md S1: every route declares who may open it, and that is what happens.

ROUTES lists every endpoint of the app. A route added without an entry here
fails ``test_every_route_is_listed``; the walk then checks each listed route as
anonymous, viewer, officer, lead and admin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from inquiry_desk.accounts.models import Role

from .helpers import make_inquiry, make_user, sign_in

ROLES = ["viewer", "officer", "lead", "admin"]

# endpoint -> (who may open it, URL values given the test's objects)
Values = Callable[[dict[str, Any]], dict[str, Any]]
NONE: Values = lambda objects: {}  # noqa: E731
ROUTES: dict[str, tuple[str, Values]] = {
    "public.home": ("public", NONE),
    "public.set_language": ("public", lambda o: {"lang_code": "fr"}),
    "public.privacy": ("public", lambda o: {"lang_code": "en"}),
    "public.terms": ("public", lambda o: {"lang_code": "fr"}),
    "public.healthz": ("public", NONE),
    "public.favicon": ("public", NONE),
    "observability.metrics": ("public", NONE),
    "auth.login": ("public", NONE),
    "auth.second_factor": ("public", NONE),
    "auth.enrol": ("public", NONE),
    "auth.logout": ("viewer", NONE),
    "staff.home": ("viewer", NONE),
    "staff.account": ("viewer", NONE),
    "staff.change_password": ("viewer", NONE),
    "staff.new_recovery_codes": ("viewer", NONE),
    "staff.digest_preference": ("viewer", NONE),
    "staff.notification_preference": ("viewer", NONE),
    "admin.users": ("admin", NONE),
    "admin.new_user": ("admin", NONE),
    "admin.edit_user": ("admin", lambda o: {"user_id": o["target"].id}),
    "admin.reset_second_factor": ("admin", lambda o: {"user_id": o["target"].id}),
    "jobs.index": ("admin", NONE),
    "jobs.run_now": ("admin", lambda o: {"name": "outbox_sweep"}),
    "intake.form": ("public", lambda o: {"lang_code": "fr"}),
    "intake.thanks": ("public", lambda o: {"lang_code": "en"}),
    "intake.portal": ("public", lambda o: {"lang_code": "en", "token": "not-a-real-token"}),
    "intake.new_link": ("public", lambda o: {"lang_code": "fr"}),
    "inbox.index": ("viewer", NONE),
    "inbox.show": ("viewer", lambda o: {"inquiry_id": o["inquiry"].id}),
    "inbox.save_view": ("viewer", NONE),
    "inbox.delete_view": ("viewer", lambda o: {"view_id": 1}),
    "inbox.bulk": ("officer", NONE),
    "inbox.export": ("officer", NONE),
    "inbox.assign": ("officer", lambda o: {"inquiry_id": o["inquiry"].id}),
    "inbox.take": ("officer", lambda o: {"inquiry_id": o["inquiry"].id}),
    "inbox.set_status": ("officer", lambda o: {"inquiry_id": o["inquiry"].id}),
    "inbox.set_priority": ("officer", lambda o: {"inquiry_id": o["inquiry"].id}),
    "inbox.set_topic": ("officer", lambda o: {"inquiry_id": o["inquiry"].id}),
    "inbox.set_tags": ("officer", lambda o: {"inquiry_id": o["inquiry"].id}),
    "inbox.add_note": ("officer", lambda o: {"inquiry_id": o["inquiry"].id}),
    "inbox.withdraw_links": ("officer", lambda o: {"inquiry_id": o["inquiry"].id}),
    "inbox.reply": ("officer", lambda o: {"inquiry_id": o["inquiry"].id}),
    "inbox.merge": ("lead", lambda o: {"inquiry_id": o["inquiry"].id}),
    "inbox.unmerge": ("lead", lambda o: {"inquiry_id": o["inquiry"].id}),
    "inbox.link": ("officer", lambda o: {"inquiry_id": o["inquiry"].id}),
    "inbox.unlink": ("officer", lambda o: {"inquiry_id": o["inquiry"].id, "other_id": o["inquiry"].id}),
    "inbox.hold": ("lead", lambda o: {"inquiry_id": o["inquiry"].id}),
    "inbox.lift_hold": ("lead", lambda o: {"inquiry_id": o["inquiry"].id}),
    "targets.index": ("lead", NONE),
    "targets.save_targets": ("lead", NONE),
    "targets.add_topic_target": ("lead", NONE),
    "targets.remove_topic_target": ("lead", NONE),
    "targets.save_calendar": ("lead", NONE),
    "targets.add_closure": ("lead", NONE),
    "targets.remove_closure": ("lead", NONE),
    "inbox.restrict": ("officer", lambda o: {"inquiry_id": o["inquiry"].id}),
    "inbox.lift_restriction": ("lead", lambda o: {"inquiry_id": o["inquiry"].id}),
    "inbox.name_staff": ("officer", lambda o: {"inquiry_id": o["inquiry"].id}),
    "inbox.unname_staff": ("officer", lambda o: {"inquiry_id": o["inquiry"].id, "user_id": o["target"].id}),
    "inbox.justify": ("lead", lambda o: {"inquiry_id": o["inquiry"].id}),
    "inbox.access_report": ("lead", lambda o: {"inquiry_id": o["inquiry"].id}),
    "inbox.redact": ("lead", lambda o: {"inquiry_id": o["inquiry"].id, "message_id": o["inquiry"].messages[0].id}),
    "inbox.topics": ("lead", NONE),
    "inbox.redact_subject": ("lead", lambda o: {"inquiry_id": o["inquiry"].id}),
    "inbox.openings_by_user": ("admin", NONE),
    "inbox.add_person": ("officer", lambda o: {"inquiry_id": o["inquiry"].id}),
    "inbox.remove_person": ("officer", lambda o: {"inquiry_id": o["inquiry"].id, "person_id": 1}),
    "inbox.record_consent": ("officer", lambda o: {"inquiry_id": o["inquiry"].id}),
    "canned.index": ("officer", NONE),
    "topics.index": ("lead", NONE),
    "topics.add": ("lead", NONE),
    "topics.rename": ("lead", lambda o: {"topic_id": 1}),
    "canned.new": ("lead", NONE),
    "canned.edit": ("lead", lambda o: {"canned_id": 1}),
    "canned.deactivate": ("lead", lambda o: {"canned_id": 1}),
    "mailing.subscribe": ("public", lambda o: {"lang_code": "fr"}),
    "mailing.check_email": ("public", lambda o: {"lang_code": "en"}),
    "mailing.confirm": ("public", lambda o: {"lang_code": "en", "token": "not-a-real-token"}),
    "mailing.preferences": ("public", lambda o: {"lang_code": "fr", "token": "not-a-real-token"}),
    "mailing.unsubscribe_all": ("public", lambda o: {"lang_code": "en", "token": "not-a-real-token"}),
    "mailing.one_click": ("public", lambda o: {"token": "not-a-real-token"}),
    "mailing.undo": ("public", lambda o: {"token": "not-a-real-token"}),
    "mailing_staff.index": ("lead", NONE),
    "mailing_staff.new": ("lead", NONE),
    "mailing_staff.edit": ("lead", lambda o: {"list_id": 1}),
    "mailing_staff.archive": ("lead", lambda o: {"list_id": 1}),
    "mailing_staff.show": ("lead", lambda o: {"list_id": 1}),
    "mailing_staff.members": ("lead", lambda o: {"list_id": 1}),
    "mailing_staff.add_member": ("lead", lambda o: {"list_id": 1}),
    "mailing_staff.remove_member": ("lead", lambda o: {"list_id": 1, "subscription_id": 1}),
    "mailing_staff.import_file": ("lead", lambda o: {"list_id": 1}),
    "mailing_staff.import_preview": ("lead", lambda o: {"list_id": 1, "batch_id": 1}),
    "mailing_staff.import_status": ("lead", lambda o: {"list_id": 1, "batch_id": 1}),
    "mailing_staff.export": ("lead", lambda o: {"list_id": 1}),
    "mailing_staff.contact": ("lead", lambda o: {"contact_id": o["inquiry"].contact_id}),
    "mailing_staff.suppressions": ("lead", NONE),
    "mailing_staff.lift": ("lead", lambda o: {"entry_id": 1}),
    "directory.organisations": ("viewer", NONE),
    "directory.new_organisation": ("officer", NONE),
    "directory.organisation": ("viewer", lambda o: {"organisation_id": 1}),
    "directory.edit_organisation": ("officer", lambda o: {"organisation_id": 1}),
    "directory.organisation_status": ("officer", lambda o: {"organisation_id": 1}),
    "directory.add_domain": ("lead", lambda o: {"organisation_id": 1}),
    "directory.remove_domain": ("lead", lambda o: {"organisation_id": 1, "domain_id": 1}),
    "directory.organisation_active": ("officer", lambda o: {"organisation_id": 1}),
    "directory.merge_organisation": ("lead", lambda o: {"organisation_id": 1}),
    "directory.contacts": ("viewer", NONE),
    "directory.new_contact": ("officer", NONE),
    "directory.contact": ("viewer", lambda o: {"contact_id": o["inquiry"].contact_id}),
    "directory.edit_contact": ("officer", lambda o: {"contact_id": o["inquiry"].contact_id}),
    "directory.contact_active": ("officer", lambda o: {"contact_id": o["inquiry"].contact_id}),
    "directory.merge_contact": ("lead", lambda o: {"contact_id": o["inquiry"].contact_id}),
    "directory.export_person": ("lead", lambda o: {"contact_id": o["inquiry"].contact_id}),
    "directory.erase_person": ("lead", lambda o: {"contact_id": o["inquiry"].contact_id}),
    "directory.file_sender": ("officer", lambda o: {"inquiry_id": o["inquiry"].id}),
    "directory.import_upload": ("officer", NONE),
    "directory.import_preview": ("officer", lambda o: {"import_id": 1}),
    "directory.import_start": ("officer", lambda o: {"import_id": 1}),
    "directory.import_status": ("officer", lambda o: {"import_id": 1}),
    "directory.export": ("officer", lambda o: {"subject": "contacts"}),
    # audit (issue 12): the audit log page and its export, for administrators
    "audit_log.index": ("admin", NONE),
    "audit_log.export": ("admin", NONE),
    "inbox.redact_field": ("lead", lambda o: {"inquiry_id": o["inquiry"].id}),
    # emailin (issue 17): the whole email a message came in
    "inbox.whole_email": ("viewer", lambda o: {"inquiry_id": o["inquiry"].id,
                                               "message_id": o["inquiry"].messages[0].id}),
    # attach (issue 17): a file of the thread, for staff and through the private link
    "inbox.attachment": ("viewer", lambda o: {"inquiry_id": o["inquiry"].id, "attachment_id": 1}),
    "intake.portal_file": ("public", lambda o: {"lang_code": "en", "token": "not-a-real-token", "attachment_id": 1}),
    # bulletins (issue 16)
    "bulletins.archive": ("public", lambda o: {"lang_code": "en"}),
    "bulletins.archive_page": ("public", lambda o: {"lang_code": "fr", "bulletin_id": 1}),
    "bulletins.feed": ("public", lambda o: {"lang_code": "fr"}),
    "bulletins_staff.index": ("officer", NONE),
    "bulletins_staff.new": ("officer", NONE),
    "bulletins_staff.show": ("officer", lambda o: {"bulletin_id": 1}),
    "bulletins_staff.edit": ("officer", lambda o: {"bulletin_id": 1}),
    "bulletins_staff.preview": ("officer", lambda o: {"bulletin_id": 1, "lang": "en"}),
    "bulletins_staff.test_send": ("officer", lambda o: {"bulletin_id": 1}),
    "bulletins_staff.submit": ("officer", lambda o: {"bulletin_id": 1}),
    "bulletins_staff.review": ("lead", lambda o: {"bulletin_id": 1}),
    "bulletins_staff.approve": ("lead", lambda o: {"bulletin_id": 1}),
    "bulletins_staff.return_to_draft": ("lead", lambda o: {"bulletin_id": 1}),
    "bulletins_staff.single_language": ("lead", lambda o: {"bulletin_id": 1}),
    "bulletins_staff.schedule": ("officer", lambda o: {"bulletin_id": 1}),
    "bulletins_staff.unschedule": ("officer", lambda o: {"bulletin_id": 1}),
    "bulletins_staff.cancel": ("lead", lambda o: {"bulletin_id": 1}),
    "bulletins_staff.pause": ("lead", lambda o: {"bulletin_id": 1}),
    "bulletins_staff.resume": ("lead", lambda o: {"bulletin_id": 1}),
    "bulletins_staff.progress": ("officer", lambda o: {"bulletin_id": 1}),
    "bulletins_staff.export": ("lead", lambda o: {"bulletin_id": 1}),
    # bulletin series (issue 16)
    "bulletins_staff.series.index": ("officer", NONE),
    "bulletins_staff.series.new": ("lead", NONE),
    "bulletins_staff.series.show": ("officer", lambda o: {"series_id": 1}),
    "bulletins_staff.series.edit": ("lead", lambda o: {"series_id": 1}),
    "bulletins_staff.series.pause": ("lead", lambda o: {"series_id": 1}),
    "bulletins_staff.series.resume": ("lead", lambda o: {"series_id": 1}),
    "bulletins_staff.series.end": ("lead", lambda o: {"series_id": 1}),
    "bulletins_staff.series.skip": ("lead", lambda o: {"series_id": 1}),
    "bulletins_staff.series.send_late": ("lead", lambda o: {"bulletin_id": 1}),
    # dashboard (issue 18): the dashboard and each chart's CSV
    "reports.dashboard": ("officer", NONE),
    "reports.chart_csv": ("officer", lambda o: {"chart_id": "received"}),
    # everyday (issue 10): inquiries logged by staff, partners' networks, invitations
    "intake_staff.log_inquiry": ("officer", NONE),
    "intake_staff.networks": ("lead", NONE),
    "intake_staff.add_network": ("lead", NONE),
    "intake_staff.remove_network": ("lead", lambda o: {"entry_id": 1}),
    "auth.invitation": ("public", lambda o: {"token": "no-such-invitation"}),
    "admin.send_invitation": ("admin", lambda o: {"user_id": o["target"].id}),
}


def _endpoints(app: Flask) -> dict[str, set[str]]:
    methods: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static":
            methods.setdefault(rule.endpoint, set()).update((rule.methods or set()) - {"HEAD", "OPTIONS"})
    return methods


def test_every_route_is_listed(app: Flask) -> None:
    endpoints = _endpoints(app)
    missing = sorted(set(endpoints) - set(ROUTES))
    assert not missing, f"routes without an entry in ROUTES: {missing}"
    stale = sorted(set(ROUTES) - set(endpoints))
    assert not stale, f"entries for routes that no longer exist: {stale}"


def test_every_view_declares_its_access(app: Flask) -> None:
    for endpoint, (expected, _values) in ROUTES.items():
        view = app.view_functions[endpoint]
        declared = getattr(view, "access", None)
        assert declared == expected, f"{endpoint} declares {declared!r}, the matrix says {expected!r}"


def _expected_status(required: str, role: str | None, actual: int) -> bool:
    if required == "public":
        return actual not in (401, 403, 500)
    if role is None:
        return actual == 302
    if not Role(role).at_least(required):
        return actual == 403
    return actual not in (401, 403, 500)


@pytest.mark.parametrize("role", [None, *ROLES])
def test_walk_every_route_as_each_role(app: Flask, role: str | None) -> None:
    objects = {"target": make_user(role="viewer"), "inquiry": make_inquiry()}
    make_user(role="admin")  # so that no change leaves the desk without an admin
    client = app.test_client()
    if role:
        sign_in(client, make_user(role=role))
    failures = []
    for endpoint, methods in sorted(_endpoints(app).items()):
        required, values = ROUTES[endpoint]
        with app.test_request_context():
            from flask import url_for

            url = url_for(endpoint, **values(objects))
        for method in sorted(methods):
            if endpoint == "auth.logout" and method == "POST":
                continue  # would end the walk's own session; covered in test_login
            response = client.open(url, method=method)
            if response.status_code == 302 and role is None and required != "public":
                assert "/auth/login" in response.headers["Location"]
            if not _expected_status(required, role, response.status_code):
                failures.append(f"{method} {url} as {role or 'anonymous'}: {response.status_code}")
    assert not failures, "\n".join(failures)


def test_logout_requires_a_signed_in_user(app: Flask) -> None:
    response = app.test_client().post("/auth/logout")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


# A restricted inquiry (need-to-know, issue 12): its page opens for everyone, with the metadata only
# for those who may not read it (and a reason asked of a lead who is not named); every other route
# about it answers 403 to them, whatever their role allows.
ALWAYS_OPEN = {"inbox.show"}


@pytest.mark.parametrize("role", ROLES)
def test_walk_the_routes_of_a_restricted_inquiry_as_each_role(app: Flask, role: str) -> None:
    from inquiry_desk.core.clock import utcnow
    from inquiry_desk.inquiries import protection

    holder = make_user(role="officer")
    inquiry = make_inquiry(body="Names a family at risk")
    protection.restrict(inquiry, "At risk", actor=holder, now=utcnow())
    from inquiry_desk.core.extensions import db

    db.session.commit()
    objects = {"target": holder, "inquiry": inquiry}
    client = app.test_client()
    sign_in(client, make_user(role=role))
    failures = []
    for endpoint, methods in sorted(_endpoints(app).items()):
        required, values = ROUTES[endpoint]
        if required == "public" or "inquiry_id" not in values(objects):
            continue
        with app.test_request_context():
            from flask import url_for

            url = url_for(endpoint, **values(objects))
        for method in sorted(methods):
            response = client.open(url, method=method)
            if endpoint in ALWAYS_OPEN or (endpoint == "inbox.justify" and Role(role).at_least("lead")):
                ok = response.status_code not in (401, 403, 500)
            else:
                ok = response.status_code == 403
            if not ok:
                failures.append(f"{method} {url} as {role}: {response.status_code}")
            if endpoint == "inbox.show" and method == "GET":
                assert "Names a family at risk" not in response.get_data(as_text=True)
    assert not failures, "\n".join(failures)
