"""One date format everywhere (issue 10): every page, staff and public, in both languages, shows
dates and times only as the team's locale writes them to the minute ("Nov 24, 2026, 4:53 p.m.",
"24 nov. 2026, 16 h 53"), never another way.

The pages are those of the HTML check (every GET route of the URL map, as an admin, on data
that has dates of every kind: messages, history, closures, consent, jobs).
"""

from __future__ import annotations

import re
from datetime import date

from bs4 import BeautifulSoup
from flask import Flask

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db

from ..test_authorisation import ROUTES
from ..test_html_validity import NOT_PAGES, _client, _seed, _url

OTHER_FORMATS = {
    "ISO date": re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    "seconds": re.compile(r"\b\d{1,2}:\d{2}:\d{2}\b"),
    "slashed date": re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b"),
    # Canadian French writes the hour without a leading zero ("9 h 30", OQLF, Termium), never "09 h 30".
    "French hour with a leading zero": re.compile(r"\b0\d h \d{2}\b"),
    "time zone": re.compile(r"\d\s?(?:[ap]\.m\.|h \d{2})\s(?:[A-Z]{2,4}T?|UTC|HNE|HAE)\b"),
    "English month in full": re.compile(
        r"\b(?:January|February|March|April|June|July|August|September|October|November|December)\s\d"),
    "French month in full": re.compile(r"\d\s(?:janvier|février|avril|juillet|septembre|octobre|novembre|décembre)\b"),
    "weekday": re.compile(r"\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|lundi|mardi|mercredi|"
                          r"jeudi|vendredi|samedi|dimanche)\b,?\s\d"),
}
# A time of day on its own: English says "4:53 p.m.", French "16 h 53"; "16:53" is neither.
CLOCK = re.compile(r"\b\d{1,2}:\d{2}\b(?![\s\u202f]?[ap]\.m\.)")
ONE_FORMAT = {
    "en": re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}, \d{4}, \d{1,2}:\d{2}"
                     r"[\s\u202f][ap]\.m\."),
    "fr": re.compile(r"\b\d{1,2} (?:janv\.|févr\.|mars|avr\.|mai|juin|juill\.|août|sept\.|oct\.|nov\.|déc\.) "
                     r"\d{4}, (?:1?\d|2[0-3]) h \d{2}\b"),
}


def _text(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    # Not dates shown to people: scripts, what is being typed, and raw recorded values (<code>:
    # the audit log's details, as stored).
    for hidden in soup(["script", "style", "textarea", "code"]):
        hidden.decompose()
    return " ".join(soup.get_text(" ").split())


def _seed_dates(objects: dict) -> None:
    from inquiry_desk.inquiries import consent
    from inquiry_desk.inquiries.targets import settings

    admin = objects["admin"]
    now = utcnow()
    settings.add_closure(date(2026, 12, 28), "Winter closure", actor=admin, now=now)
    person = consent.add_person(objects["inquiry"], "Ali Rahimi", "son", None, actor=admin, now=now)
    consent.record_consent(person, how="signed form", given_on=date(2026, 11, 2), until=date(2027, 11, 2),
                           document=None, actor=admin, now=now)
    db.session.commit()


def test_no_page_shows_another_date_format(app: Flask) -> None:
    objects = _seed()
    _seed_dates(objects)
    found_one = {"en": 0, "fr": 0}
    wrong: list[str] = []
    for lang in ("en", "fr"):
        staff = _client(app, lang, objects["admin"])
        anonymous = _client(app, lang)
        for rule in app.url_map.iter_rules():
            if rule.endpoint in NOT_PAGES or rule.endpoint == "static" or "GET" not in (rule.methods or ()):
                continue
            required, values = ROUTES[rule.endpoint]
            url = _url(app, rule.endpoint, values(objects), lang)
            if rule.arguments and "lang_code" in rule.arguments and rule.rule.split("/")[1] != lang:
                continue
            response = (anonymous if required == "public" else staff).get(url)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            text = _text(response.get_data(as_text=True))
            found_one[lang] += len(ONE_FORMAT[lang].findall(text))
            for name, pattern in OTHER_FORMATS.items():
                wrong += [f"{url} [{lang}] {name}: {match.group(0)!r}" for match in pattern.finditer(text)]
            wrong += [f"{url} [{lang}] clock: {text[max(0, m.start() - 30):m.end() + 10]!r}"
                      for m in CLOCK.finditer(text)]
    assert not wrong, "dates in another format:\n" + "\n".join(wrong[:60])
    # The walk saw dates at all, in the one format (a page without any would prove nothing).
    assert found_one["en"] >= 5 and found_one["fr"] >= 5, found_one
