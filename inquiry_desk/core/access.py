"""How a view declares who may open it. ``accounts.permissions`` enforces roles; this is
the marker every capability can use, and that tests/test_authorisation.py reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

View = TypeVar("View", bound=Callable[..., Any])

PUBLIC = "public"


def public(view: View) -> View:
    """Open to anyone, signed in or not."""
    view.access = PUBLIC  # type: ignore[attr-defined]
    return view
