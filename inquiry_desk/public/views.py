"""Public pages: home, language toggle, privacy and terms, health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for
from sqlalchemy import text
from werkzeug.wrappers import Response

from inquiry_desk.core.access import public
from inquiry_desk.core.extensions import db
from inquiry_desk.core.i18n import LANGUAGES, localized_route, safe_next_path

public_bp = Blueprint("public", __name__)


@public_bp.route("/")
@public
def home() -> str:
    return render_template("public/home.html")


@public_bp.route("/lang/<lang_code>")
@public
def set_language(lang_code: str) -> Response:
    """The language toggle: remember the choice, then go back to the same page."""
    if lang_code in LANGUAGES:
        session["lang"] = lang_code
    return redirect(safe_next_path(request.args.get("next")))


@localized_route(public_bp, {"en": "/en/privacy", "fr": "/fr/confidentialite"}, "privacy")
@public
def privacy(lang_code: str) -> str:
    return render_template("public/privacy.html")


@localized_route(public_bp, {"en": "/en/terms", "fr": "/fr/conditions"}, "terms")
@public
def terms(lang_code: str) -> str:
    return render_template("public/terms.html")


@public_bp.route("/favicon.ico")
@public
def favicon() -> Response:
    """Browsers and robots ask for /favicon.ico without reading the page's <link rel="icon">."""
    return redirect(url_for("static", filename="img/favicon.svg"), code=301)


@public_bp.route("/healthz")
@public
def healthz() -> tuple[Response, int]:
    """200 when the database answers, 503 otherwise; for load balancers and monitors."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any failure to reach the database means "not healthy"
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200
