"""Issue 11, M1: one TOTP code signs in one session, even when sent by several at the same moment.

Through gunicorn with four workers: four sessions pass the password step, then post the
same code at once (a barrier releases them together), for three users in a row. Exactly
one of each four is signed in; the others are told the code was already used. The
database settles it (a conditional UPDATE), so this holds on PostgreSQL, where the
requests really run in parallel, and on SQLite.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from inquiry_desk.accounts.models import User

from ..helpers import PASSWORD, current_code, make_user
from .gunicorn_server import Running, Visitor, serve

SESSIONS = 4
ROUNDS = 3


@pytest.fixture
def server(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Running]:
    with serve(database_url, tmp_path, workers=SESSIONS,
               env={"RATELIMIT_ENABLED": "0", "SESSION_COOKIE_SECURE": "0"}) as running:
        yield running


def test_one_code_sent_at_once_by_four_sessions_signs_in_one(app: Flask, server: Running) -> None:
    outcomes = [_one_round(server, make_user(role="officer")) for _ in range(ROUNDS)]
    assert outcomes == [["200"] * (SESSIONS - 1) + ["signed in"]] * ROUNDS, outcomes


def _one_round(server: Running, user: User) -> list[str]:
    visitors = [Visitor(server) for _ in range(SESSIONS)]
    for visitor in visitors:
        status, _, location = visitor.post("/auth/login", {"email": user.email, "password": PASSWORD},
                                           page_path="/auth/login")
        assert status == 302 and location and location.endswith("/auth/second-factor")
        visitor.get("/auth/second-factor")
    code = current_code(user)
    barrier = threading.Barrier(SESSIONS)
    results: list[str] = [""] * SESSIONS

    def send(number: int, visitor: Visitor) -> None:
        barrier.wait()
        status, _, location = visitor.post("/auth/second-factor", {"code": code})
        results[number] = "signed in" if status == 302 and location and "/staff/" in location else str(status)

    threads = [threading.Thread(target=send, args=(n, v)) for n, v in enumerate(visitors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(results)
