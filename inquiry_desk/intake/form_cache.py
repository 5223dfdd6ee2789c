"""What the public form shows every visitor alike, kept per process: the topics, and the blank form.

- **Topics** (the active ones, in order) are read once and kept until a topic changes: a
  commit that changed a Topic in this process forgets them at once (``core.app_cache``);
  another process's change is seen within ``TOPICS_SECONDS``. A submission's topic comes from
  them too (``topic_by_code``): no query for it.
- **The blank form** (what a first GET shows inside the page's layout) is rendered once per
  language, URL prefix and topics, with two per-visitor values cut out: the CSRF token and
  the signed "started" token. Each GET pastes this visitor's values back, so the page is the
  one the template would have rendered. A form with errors, or with what someone typed, is
  rendered in full as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import make_transient_to_detached

from inquiry_desk.core.app_cache import AppCache
from inquiry_desk.core.extensions import db
from inquiry_desk.core.forms import SelectChoice, select_choices
from inquiry_desk.inquiries.models import Topic

TOPICS_SECONDS = 5.0
BODY_TEMPLATE = "intake/_form_body.html"
_BODIES_KEY = "intake_form_bodies"  # in app.extensions: {(language, script root): (topics, body)}
_CSRF_SLOT, _STARTED_SLOT = "\x00csrf\x00", "\x00started\x00"

TopicRows = tuple[tuple[str, str, str], ...]  # (code, English name, French name)


@dataclass(frozen=True)
class _Topics:
    rows: TopicRows
    by_code: dict[str, Topic]  # detached copies, never in a session: each request merges its own


_TOPICS: AppCache[_Topics] = AppCache("intake_topics", watch={Topic: None}, seconds=TOPICS_SECONDS)


def _read_topics() -> _Topics:
    by_code: dict[str, Topic] = {}
    for row in db.session.execute(select(*Topic.__table__.columns).where(Topic.active.is_(True))
                                  .order_by(Topic.position, Topic.id)).mappings():
        topic = Topic(**row)
        make_transient_to_detached(topic)  # as if loaded, and then its session closed
        by_code[topic.code] = topic
    return _Topics(tuple((t.code, t.name_en, t.name_fr) for t in by_code.values()), by_code)


def active_topics() -> TopicRows:
    return _TOPICS.get(_read_topics).rows


def topic_by_code(code: str | None) -> Topic | None:
    """The active topic of this code, in the request's session, without a query (``inquiries.topic_by_code``)."""
    kept = _TOPICS.get(_read_topics).by_code.get(code or "")
    return db.session.merge(kept, load=False) if kept is not None else None


def topic_choices(topics: TopicRows, lang: str) -> list[SelectChoice]:
    return select_choices([("", _("Choose a topic")),
                           *((code, name_fr if lang == "fr" else name_en) for code, name_en, name_fr in topics)])


def blank_form(form: Any, lang: str) -> Markup:
    """The body of the form page for a first visit: rendered once, this visitor's tokens pasted in."""
    tokens = [(_STARTED_SLOT, str(escape(form.started.data)))]
    if "csrf_token" in form:  # (not when CSRF is off, in tests)
        tokens.append((_CSRF_SLOT, str(escape(form.csrf_token.current_token))))
    bodies: dict[tuple[str, str], tuple[TopicRows, str]] = current_app.extensions.setdefault(_BODIES_KEY, {})
    key, topics = (lang, request.script_root), active_topics()
    kept = bodies.get(key)
    if kept is not None and kept[0] == topics:
        body = kept[1]
    else:
        html = render_template(BODY_TEMPLATE, form=form)
        if any(html.count(value) != 1 for _, value in tokens):  # cannot be cut out safely: render each time
            return Markup(html)  # noqa: S704 (the template's own autoescaped output)
        for slot, value in tokens:
            html = html.replace(value, slot)
        body = html
        bodies[key] = (topics, body)
    for slot, value in tokens:
        body = body.replace(slot, value)
    return Markup(body)  # noqa: S704 (the template's output, and tokens escaped above)
