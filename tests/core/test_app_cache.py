"""core.app_cache: a value kept per application is read once, and forgotten when this process commits a
change to what it was read from; never kept from a transaction that changed it and did not commit."""

from __future__ import annotations

from itertools import count

from flask import Flask
from sqlalchemy import select, update

from inquiry_desk.core.app_cache import AppCache
from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries.models import Topic

_number = count()


class _Probe:
    """A cache of the topics' English names, counting its reads."""

    def __init__(self, seconds: float = 60) -> None:
        self.reads = 0
        self.cache: AppCache[tuple[str, ...]] = AppCache(
            f"test_app_cache_{next(_number)}", watch={Topic: frozenset({"name_en"})}, seconds=seconds)

    def _read(self) -> tuple[str, ...]:
        self.reads += 1
        return tuple(db.session.scalars(select(Topic.name_en).order_by(Topic.id)))

    def get(self) -> tuple[str, ...]:
        return self.cache.get(self._read)


def _media() -> Topic:
    return db.session.scalars(select(Topic).where(Topic.code == "media")).one()


def test_read_once_and_forgotten_when_a_change_is_committed(app: Flask) -> None:
    probe = _Probe()
    first = probe.get()
    assert probe.get() is first and probe.reads == 1
    _media().name_en = "Press"
    db.session.commit()
    assert "Press" in probe.get() and probe.reads == 2
    assert probe.get() and probe.reads == 2


def test_a_change_not_committed_is_read_but_not_kept(app: Flask) -> None:
    probe = _Probe()
    assert "Media" in probe.get()
    _media().name_en = "Press"  # not flushed yet
    assert "Press" in probe.get() and probe.reads == 2
    db.session.flush()
    assert "Press" in probe.get() and probe.reads == 3
    db.session.rollback()
    assert "Media" in probe.get() and probe.reads == 3  # what was kept before the change stands


def test_only_the_watched_attributes_count(app: Flask) -> None:
    probe = _Probe()
    probe.get()
    _media().name_fr = "Presse"
    db.session.commit()
    probe.get()
    assert probe.reads == 1


def test_an_orm_update_statement_counts_and_time_runs_out(app: Flask) -> None:
    probe = _Probe()
    probe.get()
    db.session.execute(update(Topic).where(Topic.code == "media").values(name_en="Press"))
    db.session.commit()
    assert "Press" in probe.get() and probe.reads == 2
    quick = _Probe(seconds=0)
    quick.get()
    quick.get()
    assert quick.reads == 2
