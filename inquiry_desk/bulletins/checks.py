"""Pre-send checks: what an approver is warned of before a bulletin leaves.

Each finding is a ``Finding`` with a stable code and the language it concerns; the
approver acknowledges every one (the acknowledged codes are kept on the approval's
transition). A missing language is the one finding that cannot be acknowledged: it
blocks the approval until the text is written or a lead marks the bulletin
single-language with a reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l

from inquiry_desk.bulletins.models import Bulletin
from inquiry_desk.bulletins.rendering import to_html
from inquiry_desk.core.i18n import LANGUAGES

SUBJECT_MAX = 78
VAGUE_LINK_TEXT = {"click here", "here", "click", "read more", "more", "this link", "link", "this",
                   "cliquez ici", "ici", "cliquer ici", "en savoir plus", "lire la suite", "ce lien", "lien", "plus"}
STAFF_PATHS = ("/staff", "/login", "/admin")

MESSAGES = {
    "image_without_alt": _l("An image has no alternative text."),
    "empty_heading": _l("A heading is empty."),
    "skipped_heading": _l("A heading level is skipped (for example a level 3 heading right after the title)."),
    "vague_link_text": _l("A link says only “click here” or the like: say where it leads."),
    "link_not_https": _l("A link does not use https."),
    "link_to_staff": _l("A link points to a staff page, which subscribers cannot open."),
    "subject_too_long": _l("The subject is longer than 78 characters and may be cut off."),
    "missing_language": _l("This language is missing. Write it, or have a lead mark the bulletin single-language."),
}


@dataclass(frozen=True)
class Finding:
    code: str
    language: str
    detail: str = ""
    blocking: bool = False

    @property
    def key(self) -> str:
        """What the approver's checkbox names."""
        return f"{self.language}:{self.code}"

    @property
    def message(self) -> str:
        return str(MESSAGES[self.code])


class _Scan(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images_without_alt = 0
        self.links: list[tuple[str, str]] = []
        self.headings: list[tuple[int, str]] = []
        self._link: list[str] | None = None
        self._href = ""
        self._heading: list[str] | None = None
        self._level = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img" and not (values.get("alt") or "").strip():
            self.images_without_alt += 1
        elif tag == "a":
            self._link, self._href = [], values.get("href") or ""
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading, self._level = [], int(tag[1])

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._link is not None:
            self.links.append((self._href, " ".join("".join(self._link).split())))
            self._link = None
        elif re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            self.headings.append((self._level, "".join(self._heading).strip()))
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._link is not None:
            self._link.append(data)
        if self._heading is not None:
            self._heading.append(data)


def _own_host() -> str:
    return str(urlsplit(current_app.config["BASE_URL"]).netloc).lower()


def check_language(bulletin: Bulletin, lang: str) -> list[Finding]:
    if bulletin.single_language and bulletin.single_language != lang:
        return []
    if not bulletin.has_language(lang):
        return [Finding("missing_language", lang, blocking=True)]
    found: list[Finding] = []
    if len(" ".join(bulletin.subject(lang).split())) > SUBJECT_MAX:
        found.append(Finding("subject_too_long", lang, str(len(bulletin.subject(lang)))))
    scan = _Scan()
    scan.feed(to_html(bulletin.body(lang)))
    scan.close()
    if scan.images_without_alt:
        found.append(Finding("image_without_alt", lang, str(scan.images_without_alt)))
    level = 1  # the bulletin's title is the email's first heading
    for heading_level, text in scan.headings:
        if not text:
            found.append(Finding("empty_heading", lang))
        if heading_level > level + 1:
            found.append(Finding("skipped_heading", lang, f"h{level} → h{heading_level}"))
        level = heading_level
    host = _own_host()
    for href, text in scan.links:
        if text.lower().strip(" .:!?…") in VAGUE_LINK_TEXT:
            found.append(Finding("vague_link_text", lang, text))
        parts = urlsplit(href)
        if parts.scheme == "http":
            found.append(Finding("link_not_https", lang, href))
        if parts.scheme in ("http", "https") and parts.netloc.lower() == host and \
                parts.path.startswith(STAFF_PATHS):
            found.append(Finding("link_to_staff", lang, href))
    return _unique(found)


def _unique(found: list[Finding]) -> list[Finding]:
    seen: dict[tuple[str, str], Finding] = {}
    for warning in found:
        seen.setdefault((warning.code, warning.language), warning)
    return list(seen.values())


def run_checks(bulletin: Bulletin) -> list[Finding]:
    """Every finding, English first."""
    return [warning for lang in LANGUAGES for warning in check_language(bulletin, lang)]
