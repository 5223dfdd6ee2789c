"""The consent texts a subscriber agrees to, versioned: a record keeps the exact words.

A new wording is a new version (never an edit of an old one), so that every
consent record can be shown with the text that person saw, in their language.
"""

from __future__ import annotations

CURRENT_VERSION = "2026-11"

CONSENT_TEXTS: dict[str, dict[str, str]] = {
    "2026-11": {
        "en": ("I agree to receive update bulletins by email from the Dedicated Stakeholder Team on the "
               "lists I chose. I can unsubscribe at any time with the link in every bulletin."),
        "fr": ("J'accepte de recevoir par courriel les bulletins d'information de l'Équipe dédiée aux "
               "parties prenantes pour les listes que j'ai choisies. Je peux me désabonner en tout temps "
               "au moyen du lien présent dans chaque bulletin."),
    },
}


def consent_text(language: str, version: str = CURRENT_VERSION) -> str:
    texts = CONSENT_TEXTS[version]
    return texts.get(language, texts["en"])
