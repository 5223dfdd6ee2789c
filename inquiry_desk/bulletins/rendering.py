"""A bulletin's Markdown made into an email: sanitised HTML with its CSS inlined, and a plain-text part.

One source, two parts: markdown-it-py (CommonMark, raw HTML off) gives HTML, nh3 keeps
only the tags, attributes and URL schemes of ``ALLOWED_*``, and that fragment is both
wrapped in the email layout (css-inline writes the stylesheet into ``style`` attributes,
as mail clients ignore ``<style>``) and turned into text by html2text. The links that
differ per subscriber are the send engine's placeholders (``%%UNSUBSCRIBE_URL%%``).
"""

from __future__ import annotations

from dataclasses import dataclass

import css_inline
import html2text
import nh3
from flask import render_template
from flask_babel import force_locale
from markdown_it import MarkdownIt

from inquiry_desk.mail.rendering import RenderedEmail

ALLOWED_TAGS = {"a", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "img", "li", "ol",
                "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}
TEST_PREFIX = "[TEST] "

_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


def to_html(markdown: str) -> str:
    """The sanitised HTML fragment of a Markdown body."""
    return nh3.clean(_markdown.render(markdown), tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes=URL_SCHEMES, link_rel=None)


def to_text(fragment: str) -> str:
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.inline_links = False  # [1] references: the addresses listed under the text
    converter.protect_links = True
    converter.ignore_emphasis = False
    return str(converter.handle(fragment)).strip() + "\n"


@dataclass(frozen=True)
class Parts:
    """What the email and the archive page show of one language."""

    title: str
    subject: str
    fragment: str  # the sanitised body, HTML


def parts(title: str, subject: str, markdown: str) -> Parts:
    return Parts(title=title.strip(), subject=" ".join(subject.split()), fragment=to_html(markdown))


def render_bulletin(content: Parts, language: str, *, sender_name: str, archive_url: str | None,
                    personal_links: bool, test: bool = False) -> RenderedEmail:
    """The email in one language. ``personal_links``: the footer carries the engine's unsubscribe placeholders."""
    context = {"bulletin": content, "sender_name": sender_name, "archive_url": archive_url,
               "personal_links": personal_links, "lang": language}
    with force_locale(language):
        layout = render_template("bulletins/email.html", **context)
        text = render_template("bulletins/email.txt", body_text=to_text(content.fragment), **context)
    subject = (TEST_PREFIX if test else "") + content.subject
    return RenderedEmail(subject=subject, text=text.strip() + "\n", html=css_inline.inline(layout))
