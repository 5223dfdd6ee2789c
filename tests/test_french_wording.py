"""Issue 10 defect 9: the French the team and the public read is consistent.

Typographic apostrophes only; "thème" for a topic ("sujet" beside "objet" confused people
on the form); Canadian spacing: a space before a colon, none before ; ? !.
"""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from .conftest import PROJECT_DIR

CATALOGUE = PROJECT_DIR / "inquiry_desk" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
FRENCH_EMAILS = sorted((PROJECT_DIR / "templates" / "mail").glob("*.fr.*"))
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
STRAIGHT_APOSTROPHE = re.compile(r"\w'\w")


def _french_strings() -> list[tuple[str, str]]:
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    found = []
    for message in catalogue:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        found.extend((msgid, string) for string in strings if string)
    return found


def _email_texts() -> list[tuple[str, str]]:
    return [(path.name, JINJA.sub("", path.read_text(encoding="utf-8"))) for path in FRENCH_EMAILS]


def test_apostrophes_are_typographic() -> None:
    wrong = [(where, text) for where, text in [*_french_strings(), *_email_texts()] if STRAIGHT_APOSTROPHE.search(text)]
    assert not wrong, "straight apostrophes (use ’):\n" + "\n".join(f"{w}: {t[:80]}" for w, t in wrong)


def test_a_topic_is_a_theme_not_a_subject() -> None:
    wrong = [(msgid, text) for msgid, text in _french_strings() if "topic" in msgid.lower() and "sujet" in text.lower()]
    assert not wrong, wrong
    assert dict(_french_strings())["Topic"] == "Thème" and dict(_french_strings())["Subject"] == "Objet"


def test_spacing_around_punctuation() -> None:
    wrong = []
    for where, text in [*_french_strings(), *_email_texts()]:
        plain = re.sub(r"https?://\S+|%\(\w+\)[sd]|\d{1,2}:\d{2}|<[^>]*>", "X", text)
        if re.search(r"\w:(\s|$)", plain) or re.search(r"\s[;?!]", plain):
            wrong.append((where, text[:80]))
    assert not wrong, "French spacing (« mot : », « mot; »):\n" + "\n".join(f"{w}: {t}" for w, t in wrong)


def test_the_demo_canned_response_reads_well_for_any_organisation() -> None:
    """ "au nom de Comité d'accueil" needed "du": the wording no longer depends on the name."""
    from inquiry_desk.inquiries.canned.demo import DEMO_CANNED_RESPONSES

    for _title_en, _title_fr, _body_en, body_fr in DEMO_CANNED_RESPONSES:
        assert "au nom de {{ organisation }}" not in body_fr
        assert not STRAIGHT_APOSTROPHE.search(JINJA.sub("", body_fr)), body_fr


def test_the_files_exist() -> None:
    assert FRENCH_EMAILS and all(isinstance(path, Path) for path in FRENCH_EMAILS)
