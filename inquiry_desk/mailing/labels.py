"""What a subscription's status is called on a page (the leads' pages and the directory's)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

STATUS_LABELS = {
    "pending": _l("Waiting for confirmation"), "subscribed": _l("Subscribed"), "unsubscribed": _l("Unsubscribed"),
    "bounced": _l("Bounced"), "complained": _l("Complained"),
}
