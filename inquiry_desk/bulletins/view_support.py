"""What the bulletin and series pages share: ids kept in range, and a POST that acts and comes back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, flash, redirect
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from inquiry_desk.core.domain import DomainError
from inquiry_desk.core.errors import flash_domain_error
from inquiry_desk.core.extensions import db

MAX_ID = 2**31 - 1
Subject = TypeVar("Subject")


def ids_in_range(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """A url_value_preprocessor: an id beyond the database's integers is a 404, not an error."""
    for name, value in (values or {}).items():
        if name.endswith("_id") and isinstance(value, int) and value > MAX_ID:
            abort(404)


def act(subject: Subject, action: Callable[[Subject], object], done: str, *, form: Any, back: str) -> Response:
    """Check the form's CSRF token, run the service, commit (or roll back and say why) and go ``back``."""
    if not form.validate_on_submit():
        flash(_("This form has expired. Send it again."), "error")
        return redirect(back)
    try:
        action(subject)
    except DomainError as error:
        db.session.rollback()
        flash_domain_error(error)
    else:
        db.session.commit()
        flash(done, "success")
    return redirect(back)
