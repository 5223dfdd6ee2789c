"""What other capabilities hold about a person, for the export and erasure of a person's data.

The export and erasure live with inquiries (``inquiries/stakeholders/person_data.py``); a
capability beside or above them (mailing lists) cannot be imported from there, so it
registers here, below both, what it holds about a set of contacts and how to erase it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class PersonalDataSource:
    name: str  # the section of the export, e.g. "subscriptions"
    collect: Callable[[Sequence[int]], list[dict[str, Any]]]  # contact ids → JSON-ready rows
    erase: Callable[[Sequence[int], datetime], int]  # contact ids, now → how many rows erased


_SOURCES: dict[str, PersonalDataSource] = {}


def register_source(source: PersonalDataSource) -> None:
    _SOURCES[source.name] = source


def sources() -> list[PersonalDataSource]:
    return list(_SOURCES.values())
