"""A form whose body is over the server's limit gets a page that names the files' limits, in its language."""

from __future__ import annotations

import pytest
from flask import Flask

FORM = {"en": "/en/inquiry", "fr": "/fr/demande"}
TITLE = {"en": "Files too large", "fr": "Fichiers trop volumineux"}
LIMITS = {"en": "Nothing was sent. The files chosen are over the limit: up to 3 files, 1 KB each and 2 KB together.",
          "fr": "Rien n’a été envoyé. Les fichiers choisis dépassent la limite : au plus 3 fichiers, 1 ko chacun "
                "et 2 ko en tout."}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_a_body_over_the_limit_on_a_form_with_files_names_the_limits(app_factory, lang: str) -> None:
    app: Flask = app_factory(ATTACHMENTS_MAX_FILE_BYTES=1000, ATTACHMENTS_MAX_MESSAGE_BYTES=1500,
                             ATTACHMENTS_MAX_FILES=3)
    body = b"x" * (1500 + 1_000_000 + 1)  # the per-message limit plus the room for the text fields, and one
    response = app.test_client().post(FORM[lang], data=body, content_type="application/octet-stream")
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert TITLE[lang] in page
    assert LIMITS[lang] in " ".join(page.split())


def test_a_body_over_the_limit_elsewhere_keeps_the_plain_message(app_factory) -> None:
    app: Flask = app_factory(MAX_CONTENT_LENGTH=1000)
    response = app.test_client().post("/en/portal/new-link", data=b"x" * 2000,
                                      content_type="application/octet-stream")
    assert response.status_code == 413
    assert "What you sent is too large" in response.get_data(as_text=True)
