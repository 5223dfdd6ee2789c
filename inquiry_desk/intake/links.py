"""The paths of intake's public pages in each language. A private link's token is a secret:
it is kept out of every log line (``register_secret_paths``)."""

from __future__ import annotations

from inquiry_desk.core.logs import register_secret_paths

FORM_PATHS = {"en": "/en/inquiry", "fr": "/fr/demande"}
THANKS_PATHS = {"en": "/en/inquiry/sent", "fr": "/fr/demande/envoyee"}
PORTAL_PATHS = {"en": "/en/portal/<token>", "fr": "/fr/portail/<token>"}
PORTAL_FILE_PATHS = {"en": "/en/portal/<token>/files/<int:attachment_id>",
                     "fr": "/fr/portail/<token>/fichiers/<int:attachment_id>"}
NEW_LINK_PATHS = {"en": "/en/portal/new-link", "fr": "/fr/portail/nouveau-lien"}

register_secret_paths([path.split("<token>", 1)[0] for path in PORTAL_PATHS.values()],
                      [path.rsplit("/", 1)[1] for path in NEW_LINK_PATHS.values()])
