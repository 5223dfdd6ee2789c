"""Staff roles as people read them, in the page's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "viewer": _l("Viewer"),
    "officer": _l("Officer"),
    "lead": _l("Lead"),
    "admin": _l("Administrator"),
}


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


TEMPLATE_GLOBALS = {"role_label": role_label}
