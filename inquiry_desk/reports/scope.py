"""Who reads the dashboard and what they chose: the filters, the need-to-know conditions, counts per bucket.

Shared by the live figures (``services``) and the roll-up's (``rolled``). A ``Scope`` lives for
one request: it also holds what both paths look up once per request (``memo``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, literal

from inquiry_desk.core.clock import utcnow
from inquiry_desk.inquiries.access import Reader
from inquiry_desk.inquiries.models import Inquiry
from inquiry_desk.reports.periods import Bucket

RESTRICTED = "restricted"  # the group of restricted inquiries the reader may not read
RESTRICTED_TOPIC = -1


@dataclass(frozen=True)
class Filters:
    topic_id: int | None = None
    organisation_kind: str | None = None
    trusted: bool = False  # trusted partners only
    language: str | None = None
    assignee_id: int | None = None

    @property
    def uses_content(self) -> bool:
        return bool(self.topic_id or self.organisation_kind or self.trusted or self.language)

    def as_args(self) -> dict[str, str]:
        args = {"topic": str(self.topic_id or ""), "kind": self.organisation_kind or "",
                "trusted": "1" if self.trusted else "", "language": self.language or "",
                "assignee": str(self.assignee_id or "")}
        return {key: value for key, value in args.items() if value}


class Scope:
    """Who reads and what they chose: the conditions every figure shares, and the moment of reading."""

    def __init__(self, reader: Reader, filters: Filters | None = None, now: datetime | None = None) -> None:
        self.reader = reader
        self.filters = filters or Filters()
        self.now = now or utcnow()
        self.readable: ColumnElement[bool] = reader.content_condition()
        self.memo: dict[Any, Any] = {}  # what one request looks up once (the roll-up's coverage)

    def conditions(self) -> list[ColumnElement[bool]]:
        return [Inquiry.merged_into_id.is_(None), *self.filtered(Inquiry, self.readable)]

    def filtered(self, table: Any, readable: ColumnElement[bool]) -> list[ColumnElement[bool]]:
        """The filters on a table with the inquiry's columns (inquiries or a roll-up); ``readable`` is
        what the reader may read there: a filter on content never matches anything else."""
        f = self.filters
        found: list[ColumnElement[bool]] = []
        if f.topic_id:
            found.append(table.topic_id == f.topic_id)
        if f.organisation_kind:
            found.append(table.organisation_kind == f.organisation_kind)
        if f.trusted:
            found.append(table.trusted_partner.is_(True))
        if f.language:
            found.append(table.language == f.language)
        if f.uses_content and not self.reader.is_lead:
            found.append(readable)
        if f.assignee_id:
            found.append(table.assignee_id == f.assignee_id)
        return found

    def guarded(self, column: Any, hidden: Any) -> Any:
        """The column for the inquiries the reader may read, ``hidden`` for the others."""
        if self.reader.is_lead:
            return column
        return case((self.readable, column), else_=literal(hidden))

    def dimension(self, name: str) -> Any:
        if name == "topic":
            return self.guarded(Inquiry.topic_id, RESTRICTED_TOPIC)
        column = {"channel": Inquiry.channel, "organisation_kind": Inquiry.organisation_kind,
                  "language": Inquiry.language}[name]
        return self.guarded(column, RESTRICTED)


def bucket_of(column: Any, buckets: Sequence[Bucket]) -> Any:
    return case(*[(column < bucket.end, index) for index, bucket in enumerate(buckets)], else_=len(buckets))


@dataclass
class Series:
    """Counts per bucket for each key (a channel, a status…), in bucket order."""

    buckets: list[Bucket]
    rows: dict[Any, list[int]] = field(default_factory=dict)

    def add(self, key: Any, index: int, count: int) -> None:
        self.rows.setdefault(key, [0] * len(self.buckets))[index] += count

    def totals(self) -> list[int]:
        return [sum(values[i] for values in self.rows.values()) for i in range(len(self.buckets))]

    @property
    def total(self) -> int:
        return sum(self.totals())
