"""The public form's per-process cache (intake/form_cache.py) shows the page the template renders, and follows
topic changes; a new inquiry's search document is the one its rows give."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import search, topics
from inquiry_desk.inquiries.models import Inquiry, Topic
from inquiry_desk.intake import form_cache

from ..conftest import is_postgres
from ..helpers import inquiry_form_data, make_user

FORM = {"en": "/en/inquiry", "fr": "/fr/demande"}


def _without_tokens(html: str) -> str:
    """The page with each visitor's own values (CSRF and "started" tokens, CSP nonce) left out."""
    for name in ("csrf_token", "started"):
        found = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
        if found:
            html = html.replace(found.group(0), f'<input name="{name}">')
    return re.sub(r'nonce="[^"]*"', 'nonce=""', html)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_blank_form_is_the_page_the_template_renders(app_factory, lang: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    app = app_factory(WTF_CSRF_ENABLED=True)
    first, again = (app.test_client().get(FORM[lang]).get_data(as_text=True) for _ in range(2))
    monkeypatch.setattr(form_cache, "blank_form", lambda form, lang: "")  # the template renders it all
    whole = app.test_client().get(FORM[lang]).get_data(as_text=True)
    assert 'name="csrf_token"' in whole and 'name="started"' in whole
    assert _without_tokens(first) == _without_tokens(again) == _without_tokens(whole)
    assert first != again  # each visitor has tokens of their own


def test_a_topic_change_shows_at_once(app, client) -> None:
    assert ">Media</option>" in client.get(FORM["en"]).get_data(as_text=True)
    lead = make_user(role="lead")
    media = db.session.scalar(select(Topic).where(Topic.code == "media"))
    topics.rename(media, "Press", "Presse", actor=lead, now=utcnow())
    db.session.commit()
    assert ">Press</option>" in client.get(FORM["en"]).get_data(as_text=True)
    assert ">Presse</option>" in client.get(FORM["fr"]).get_data(as_text=True)
    response = client.post(FORM["en"], data=inquiry_form_data(topic="media"))
    assert response.status_code == 302


def test_a_new_inquirys_search_document_is_the_one_its_rows_give(app, client) -> None:
    assert client.post(FORM["en"], data=inquiry_form_data(subject="Sponsorship timeline")).status_code == 302
    inquiry_id = db.session.scalar(select(Inquiry.id))
    column = "inquiry_id" if is_postgres() else "rowid"
    read = text(f"SELECT document FROM {search.TABLE} WHERE {column} = :id")  # noqa: S608
    written = db.session.scalar(read, {"id": inquiry_id})
    db.session.commit()
    assert search.index_inquiries([inquiry_id]) == 1  # from the database, in a session that did not create it
    db.session.commit()
    assert written and "sponsorship" in str(written) and db.session.scalar(read, {"id": inquiry_id}) == written
