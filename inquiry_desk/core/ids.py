"""Ids that come from outside (URLs, query strings, forms) bounded to what the database can hold.

Row ids are 32-bit integers. A larger number would overflow the database driver (SQLite) or
the statement (PostgreSQL): a 500 where the answer is "no such thing". ``parse_id`` and the
``int`` URL converter give None and 404 for anything that is not an id that could exist.
"""

from __future__ import annotations

import re
from typing import Any

from werkzeug.routing import IntegerConverter, Map

MAX_ID = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,10}")


def parse_id(value: Any) -> int | None:
    """A positive id from a text, or None (not ASCII digits, zero, or beyond ``MAX_ID``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 < value <= MAX_ID else None
    if not isinstance(value, str) or not _DIGITS.fullmatch(value.strip()):
        return None
    number = int(value.strip())
    return number if 0 < number <= MAX_ID else None


class BoundedIntegerConverter(IntegerConverter):
    """``<int:…>`` in every route: at most ``MAX_ID`` (a longer number is a 404, not an overflow)."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = MAX_ID, signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
