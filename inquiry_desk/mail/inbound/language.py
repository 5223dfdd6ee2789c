"""English or French, from the words of a message; ``None`` when it cannot tell."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-zà-ÿœ’']+")
_FRENCH_WORDS = """le la les des une est et que qui pour pas vous nous avec dans sur je suis bonjour merci
votre notre mes mon ma ce cette sont être avoir au aux du cordialement madame monsieur demande
aussi mais ou où très bien salutations veuillez agréer j’ai j'ai c’est c'est n’est"""
_ENGLISH_WORDS = """the and is are you we with in on for not this that have has be i am hello hi thanks thank
your our my of to it regards dear would could please will can from about request"""
_FRENCH = frozenset(_FRENCH_WORDS.split())
_ENGLISH = frozenset(_ENGLISH_WORDS.split())
MARGIN = 2


def detect(text: str) -> str | None:
    words = _WORD.findall(text[:5000].lower())
    french = sum(1 for word in words if word in _FRENCH)
    english = sum(1 for word in words if word in _ENGLISH)
    if french >= english + MARGIN and french >= 2:
        return "fr"
    if english >= french + MARGIN and english >= 2:
        return "en"
    return None
