"""Who may open a route. Every view declares it; tests/test_authorisation.py checks that."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, redirect, request, url_for
from flask_login import current_user

from inquiry_desk.accounts.models import Role
from inquiry_desk.core.access import View
from inquiry_desk.core.extensions import login_manager

# Reachable while a new password is still owed (a temporary one was set by an admin).
PASSWORD_CHANGE_ENDPOINTS = {"staff.change_password", "auth.logout"}


def role_required(minimum: Role | str) -> Callable[[View], View]:
    """Signed-in staff with at least this role; others are sent to sign in (anonymous) or get 403."""
    minimum_role = Role(minimum)

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(minimum_role):
                abort(403)
            if current_user.must_change_password and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
                return redirect(url_for("staff.change_password"))
            return view(*args, **kwargs)

        wrapper.access = minimum_role.value  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator
