"""Files over the attachment limits are refused in the browser when chosen, before a long upload."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select

from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.models import Inquiry

from ..attachment_files import PDF
from .support import Page, assert_accessible, expect, fill_inquiry_form

pytestmark = pytest.mark.browser

FORM = {"en": "/en/inquiry", "fr": "/fr/demande"}
OVER_LIMIT = {"en": "The files chosen are over the limit: up to 3 files, 1 KB each",
              "fr": "Les fichiers choisis dépassent la limite : au plus 3 fichiers, 1 ko chacun"}
THANKS = {"en": "/en/inquiry/sent", "fr": "/fr/demande/envoyee"}


def _inquiries(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Inquiry)) or 0


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_a_file_over_the_limit_is_refused_when_chosen_and_the_form_is_not_sent(
        page_factory: Callable[..., Page], live_app: Flask, live_server: str, lang: str) -> None:
    live_app.config.update(INTAKE_MIN_FILL_SECONDS=0, ATTACHMENTS_MAX_FILE_BYTES=1000,
                           ATTACHMENTS_MAX_MESSAGE_BYTES=1500, ATTACHMENTS_MAX_FILES=3)
    page = page_factory(lang)
    page.goto(live_server + FORM[lang])
    fill_inquiry_form(page)

    files = page.locator("#attachments")
    files.set_input_files([{"name": "scan.pdf", "mimeType": "application/pdf", "buffer": PDF + b" " * 2000}])
    alert = page.locator("#attachments-over-limit")
    expect(alert).to_have_attribute("role", "alert")
    expect(alert).to_contain_text(OVER_LIMIT[lang])
    expect(files).to_have_attribute("aria-invalid", "true")
    expect(files).to_have_attribute("aria-describedby", "attachments-hint attachments-over-limit")
    assert_accessible(page)
    page.locator("main form [type=submit]").click()
    assert page.url.endswith(FORM[lang])  # the browser keeps the form: nothing is sent
    expect(files).to_be_focused()
    assert _inquiries(live_app) == 0

    # Four small files are one too many; three fit, and the form goes.
    small = [{"name": f"note{n}.pdf", "mimeType": "application/pdf", "buffer": PDF} for n in range(4)]
    files.set_input_files(small)
    expect(alert).to_contain_text(OVER_LIMIT[lang])
    files.set_input_files(small[:3])
    expect(alert).to_have_count(0)
    expect(files).not_to_have_attribute("aria-invalid", "true")
    page.locator("main form [type=submit]").click()
    page.wait_for_url("**" + THANKS[lang])
    assert _inquiries(live_app) == 1
