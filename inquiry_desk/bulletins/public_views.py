"""The public archive of bulletins, per language, and its Atom feeds."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from inquiry_desk.bulletins import archive
from inquiry_desk.core.access import public
from inquiry_desk.core.domain import DomainError
from inquiry_desk.core.i18n import localized_route
from inquiry_desk.core.navigation import PUBLIC_LINKS, MenuItem
from inquiry_desk.core.security import CONTENT_SECURITY_POLICY
from inquiry_desk.core.urls import external_url

bulletins_bp = Blueprint("bulletins", __name__)

ARCHIVE_PATHS = {"en": "/en/bulletins", "fr": "/fr/bulletins"}
PAGE_PATHS = {"en": "/en/bulletins/<int:bulletin_id>", "fr": "/fr/bulletins/<int:bulletin_id>"}
FEED_PATHS = {"en": "/en/bulletins/feed.atom", "fr": "/fr/bulletins/feed.atom"}
MAX_ID = 2**31 - 1
# A bulletin's archive page shows it as its emails did: images from other hosts too, over https only
# (docs/decisions.md). Nothing else is widened, and other hosts get no Referer naming the page.
ARCHIVE_PAGE_POLICY = CONTENT_SECURITY_POLICY.replace("img-src 'self' data:", "img-src 'self' data: https:")

PUBLIC_LINKS.append(MenuItem("bulletins.archive", _l("Bulletins we sent"),
                             description=_l("Read the update bulletins sent to our public mailing lists.")))


def _cached(response: Response) -> Response:
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@localized_route(bulletins_bp, ARCHIVE_PATHS, "archive")
@public
def archive_index(lang_code: str) -> Response:
    return _cached(Response(render_template("bulletins/public/index.html", snapshots=archive.published(),
                                            in_language=archive.in_language), mimetype="text/html"))


@localized_route(bulletins_bp, PAGE_PATHS, "archive_page")
@public
def archive_page(lang_code: str, bulletin_id: int) -> Response:
    if bulletin_id > MAX_ID:
        abort(404)
    try:
        snapshot = archive.published_one(bulletin_id)
    except DomainError:
        abort(404)
    shown, part = archive.in_language(snapshot, lang_code)
    response = _cached(Response(render_template("bulletins/public/page.html", snapshot=snapshot, shown=shown,
                                                part=part), mimetype="text/html"))
    response.headers["Content-Security-Policy"] = ARCHIVE_PAGE_POLICY
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@localized_route(bulletins_bp, FEED_PATHS, "feed")
@public
def feed(lang_code: str) -> Response:
    snapshots = archive.published()
    entries = []
    for snapshot in snapshots:
        shown, part = archive.in_language(snapshot, lang_code)
        entries.append({"snapshot": snapshot, "shown": shown, "part": part,
                        "url": external_url("bulletins.archive_page", lang_code=lang_code,
                                            bulletin_id=snapshot.bulletin_id)})
    body = render_template("bulletins/public/feed.xml", entries=entries, lang=lang_code,
                           self_url=external_url("bulletins.feed", lang_code=lang_code),
                           home_url=external_url("bulletins.archive", lang_code=lang_code),
                           updated=snapshots[0].started_at if snapshots else None)
    return _cached(Response(body, mimetype="application/atom+xml"))
