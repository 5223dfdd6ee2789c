"""Error pages in both languages, and a clean 503 when the database is away."""

from __future__ import annotations

import logging
from typing import NoReturn

from flask import Flask, abort, current_app, flash, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, PendingRollbackError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from inquiry_desk.core import uploads
from inquiry_desk.core.domain import DomainError
from inquiry_desk.core.extensions import db
from inquiry_desk.core.logs import redact_path

log = logging.getLogger(__name__)

ERROR_TEXTS = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back and try again.")),
    403: (_l("Access denied"), _l("You do not have permission to see this page.")),
    404: (_l("Page not found"), _l("There is no page at this address. Check the address or go to the home page.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    413: (_l("Too large"), _l("What you sent is too large. Shorten it and try again.")),
    429: (
        _l("Too many attempts"),
        _l("You have made too many requests in a short time. Wait a few minutes, then try again."),
    ),
    500: (_l("Something went wrong"), _l("An unexpected error happened on our side. Try again in a few minutes.")),
    503: (
        _l("Service unavailable"),
        _l("The service is briefly unavailable. Nothing you sent was half-saved. Try again in a minute."),
    ),
}


def flash_domain_error(error: DomainError) -> None:
    """Show a refused request's reason on the next page."""
    flash(error.message, "error")


def abort_for(error: DomainError) -> NoReturn:
    """Answer with the error's status and message (a page, or JSON for the API)."""
    abort(error.http_status, description=error.message)


def render_error(code: int) -> tuple[str, int]:
    title, message = ERROR_TEXTS.get(code, ERROR_TEXTS[500])
    return render_template("errors/error.html", code=code, title=title, message=message), code


def _files_too_large() -> tuple[str, int]:
    """A form whose files are over the body limit: say which limits, rather than "too large"."""
    limits = uploads.over_limit_text() or ERROR_TEXTS[413][1]
    message = "{} {}".format(_l("Nothing was sent."), limits)
    return render_template("errors/error.html", code=413, title=_l("Files too large"), message=message), 413


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> tuple[str, int] | HTTPException:
        if error.code is None or error.code < 400:
            return error
        if error.code == 413 and uploads.accepts_files():
            return _files_too_large()
        body, code = render_error(error.code)
        return body, code

    @app.teardown_appcontext
    def _close_session_quietly(error: BaseException | None) -> None:
        """End the request's session before Flask-SQLAlchemy does (teardowns run last first).

        When the database went away after the response was made, the final rollback
        fails; raised from a teardown, that would turn a finished page into a bare 500.
        """
        try:
            db.session.remove()
        except DBAPIError as exc:
            log.warning("database connection lost while closing the session: %s", type(exc.orig).__name__)
            db.session.registry.clear()

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PendingRollbackError)
    def _database_unavailable(error: Exception) -> tuple[str, int]:
        log.warning("database unavailable during %s %s: %s", request.method, redact_path(request.path),
                    type(error).__name__)
        _rollback_quietly()
        return render_error(ServiceUnavailable.code)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[str, int]:
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return _database_unavailable(error)
        if current_app.testing or current_app.debug:
            raise error
        log.exception("unhandled error during %s %s", request.method, redact_path(request.path))
        _rollback_quietly()
        return render_error(InternalServerError.code)


def _rollback_quietly() -> None:
    """End the failed transaction; with the database gone, even that may fail, and the page must still show."""
    try:
        db.session.rollback()
    except DBAPIError:
        db.session.close()
