"""Consent: the privacy notice's version each stakeholder accepted is recorded with the inquiry (issue 10)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import select

from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.models import Inquiry

from ..helpers import inquiry_form_data, make_user, page, sign_in


def test_the_accepted_version_is_recorded_and_shown(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(PRIVACY_NOTICE_VERSION="2027-03")
    with app.app_context():
        client = app.test_client()
        assert "Version 2027-03" in page(client.get("/en/privacy")).get_text()
        assert client.post("/en/inquiry", data=inquiry_form_data()).status_code == 302
        inquiry = db.session.scalar(select(Inquiry))
        assert inquiry.privacy_notice_version == "2027-03"
        staff = app.test_client()
        sign_in(staff, make_user(role="viewer"))
        text = " ".join(page(staff.get(f"/staff/inquiries/{inquiry.id}")).get_text(" ").split())
        assert "Privacy notice accepted version 2027-03" in text
