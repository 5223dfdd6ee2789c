"""Topics: leads rename them in both languages and add new ones (issue 10)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField, SubmitField

from inquiry_desk.accounts.models import Role
from inquiry_desk.accounts.permissions import role_required
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.domain import DomainError
from inquiry_desk.core.errors import flash_domain_error
from inquiry_desk.core.extensions import db
from inquiry_desk.core.forms import Parsed
from inquiry_desk.core.navigation import STAFF_MENU, MenuItem
from inquiry_desk.core.text import parse_line
from inquiry_desk.inquiries import topics
from inquiry_desk.inquiries.models import Topic

topics_bp = Blueprint("topics", __name__, url_prefix="/staff/topics")

STAFF_MENU.append(MenuItem("topics.index", _l("Topics"), Role.LEAD.value))


class TopicForm(FlaskForm):
    name_en = StringField(_l("Name in English"), validators=[
        Parsed(parse_line, max_length=topics.NAME_MAX, required_message=_l("Enter the name in English."))],
        render_kw={"lang": "en", "autocomplete": "off"})
    name_fr = StringField(_l("Name in French"), validators=[
        Parsed(parse_line, max_length=topics.NAME_MAX, required_message=_l("Enter the name in French."))],
        render_kw={"lang": "fr", "autocomplete": "off"})
    submit = SubmitField(_l("Save"))


def _forms() -> list[tuple[Topic, TopicForm]]:
    return [(topic, TopicForm(prefix=f"topic{topic.id}", name_en=topic.name_en, name_fr=topic.name_fr))
            for topic in topics.all_topics()]


def _page(new_form: TopicForm, forms: list[tuple[Topic, TopicForm]] | None = None, status: int = 200
          ) -> tuple[str, int]:
    return render_template("topics/index.html", forms=forms or _forms(), new_form=new_form), status


@topics_bp.get("/")
@role_required(Role.LEAD)
def index() -> tuple[str, int]:
    return _page(TopicForm(prefix="new"))


@topics_bp.post("/new")
@role_required(Role.LEAD)
def add() -> Response | tuple[str, int]:
    form = TopicForm(prefix="new")
    if not form.validate_on_submit():
        return _page(form, status=422)
    try:
        topic = topics.add(form.name_en.data or "", form.name_fr.data or "", actor=current_user, now=utcnow())
    except DomainError as error:
        flash_domain_error(error)
        return _page(form, status=409)
    db.session.commit()
    flash(_("Topic “%(name)s” added.", name=topic.name_en), "success")
    return redirect(url_for("topics.index"))


@topics_bp.post("/<int:topic_id>")
@role_required(Role.LEAD)
def rename(topic_id: int) -> Response | tuple[str, int]:
    topic = db.session.get(Topic, topic_id)
    if topic is None:
        abort(404)
    form = TopicForm(prefix=f"topic{topic.id}")
    forms = [(other, form if other.id == topic.id else other_form) for other, other_form in _forms()]
    if not form.validate_on_submit():
        return _page(TopicForm(prefix="new"), forms, status=422)
    try:
        topics.rename(topic, form.name_en.data or "", form.name_fr.data or "", actor=current_user, now=utcnow())
    except DomainError as error:
        flash_domain_error(error)
        return _page(TopicForm(prefix="new"), forms, status=409)
    db.session.commit()
    flash(_("Topic saved."), "success")
    return redirect(url_for("topics.index"))
