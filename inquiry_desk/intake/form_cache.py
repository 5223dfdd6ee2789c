"""What the public form shows every visitor alike, kept per process: the topics, and the blank form.

- **Topics** (code and both names of each active topic, in order) are read once and kept
  until a topic changes: a commit that changed a Topic in this process forgets them at once
  (ORM events); another process's change is seen within ``TOPICS_SECONDS``.
- **The blank form** (what a first GET shows inside the page's layout) is rendered once per
  language, URL prefix and topics, with two per-visitor values cut out: the CSRF token and
  the signed "started" token. Each GET pastes this visitor's values back, so the page is the
  one the template would have rendered. A form with errors, or with what someone typed, is
  rendered in full as before.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from flask import Flask, current_app, has_app_context, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from inquiry_desk.core.extensions import db
from inquiry_desk.core.forms import SelectChoice, select_choices
from inquiry_desk.inquiries.models import Topic

TOPICS_SECONDS = 5.0
BODY_TEMPLATE = "intake/_form_body.html"
_KEY = "intake_form_cache"
_CHANGED = "intake_topics_changed"
_CSRF_SLOT, _STARTED_SLOT = "\x00csrf\x00", "\x00started\x00"

TopicRows = tuple[tuple[str, str, str], ...]  # (code, English name, French name)


@dataclass
class _Cache:
    topics: TopicRows | None = None
    read_at: float = 0.0
    bodies: dict[tuple[str, str], str] = field(default_factory=dict)  # (language, script root) -> body


def _cache(app: Flask) -> _Cache:
    cache: _Cache | None = app.extensions.get(_KEY)
    if cache is None:
        cache = app.extensions[_KEY] = _Cache()
    return cache


def active_topics() -> TopicRows:
    cache = _cache(current_app)
    if cache.topics is None or time.monotonic() - cache.read_at > TOPICS_SECONDS:
        read_at = time.monotonic()
        rows = tuple((code, name_en, name_fr) for code, name_en, name_fr in db.session.execute(
            select(Topic.code, Topic.name_en, Topic.name_fr).where(Topic.active.is_(True))
            .order_by(Topic.position, Topic.id)))
        if rows != cache.topics:
            cache.bodies = {}
        cache.topics, cache.read_at = rows, read_at
    return cache.topics


def topic_choices(topics: TopicRows, lang: str) -> list[SelectChoice]:
    return select_choices([("", _("Choose a topic")),
                           *((code, name_fr if lang == "fr" else name_en) for code, name_en, name_fr in topics)])


def blank_form(form: Any, lang: str) -> Markup:
    """The body of the form page for a first visit: rendered once, this visitor's tokens pasted in."""
    tokens = [(_STARTED_SLOT, str(escape(form.started.data)))]
    if "csrf_token" in form:  # (not when CSRF is off, in tests)
        tokens.append((_CSRF_SLOT, str(escape(form.csrf_token.current_token))))
    cache = _cache(current_app)
    key = (lang, request.script_root)
    body = cache.bodies.get(key)
    if body is None:
        html = render_template(BODY_TEMPLATE, form=form)
        if any(html.count(value) != 1 for _, value in tokens):  # cannot be cut out safely: render each time
            return Markup(html)  # noqa: S704 (the template's own autoescaped output)
        for slot, value in tokens:
            html = html.replace(value, slot)
        body = cache.bodies[key] = html
    for slot, value in tokens:
        body = body.replace(slot, value)
    return Markup(body)  # noqa: S704 (the template's output, and tokens escaped above)


@event.listens_for(Session, "after_flush")
def _note_topic_changes(session: Session, flush_context: Any) -> None:
    if any(isinstance(item, Topic) for item in chain(session.new, session.dirty, session.deleted)):
        session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _forget_after_topic_changes(session: Session) -> None:
    if session.info.pop(_CHANGED, False) and has_app_context():
        current_app.extensions.pop(_KEY, None)


@event.listens_for(Session, "after_soft_rollback")
def _keep_after_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_CHANGED, None)
