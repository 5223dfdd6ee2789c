"""Email bodies from Jinja2 templates, one set of files per language.

``templates/mail/<name>.<lang>.subject.txt``, ``<name>.<lang>.txt`` and, when
it exists, ``<name>.<lang>.html``. Text templates are not auto-escaped; the
HTML one is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import force_locale
from jinja2 import TemplateNotFound

from inquiry_desk.core.templating import forget_request_formats


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str | None = None


def render_email(template: str, language: str, /, **context: Any) -> RenderedEmail:
    env = current_app.jinja_env
    base = f"mail/{template}.{language}"
    forget_request_formats()
    with force_locale(language):
        subject = env.get_template(f"{base}.subject.txt").render(**context)
        text = env.get_template(f"{base}.txt").render(**context)
        try:
            html: str | None = env.get_template(f"{base}.html").render(**context)
        except TemplateNotFound:
            html = None
    forget_request_formats()
    # A subject is one line: a line break typed into a value must not split it.
    subject = " ".join(subject.split())
    return RenderedEmail(subject=subject, text=text.strip() + "\n", html=html)
