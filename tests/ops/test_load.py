"""QUALITY.md R5: 50 concurrent clients submit the public form through gunicorn on PostgreSQL.

Two gunicorn workers (gunicorn.conf.py, the production configuration) serve a
database this test creates and drops. For ``LOAD_TEST_SECONDS`` (default 10; the
bar says 60) 50 client threads each open the form and send it, again and again.
Bar: no 5xx, no request without an answer; every accepted submission is stored
once, with its own reference number, and the references the visitors were given
are exactly those stored.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from config import ProductionConfig

from ..conftest import POSTGRES_URL, _normalise, is_postgres
from .load import (
    LOAD_SECONDS,
    Load,
    drive,
    environment,
    intake_cycle,
    migrate,
    references_from_sessions,
    start_gunicorn,
    stored,
    throwaway_database,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not is_postgres(), reason="R5 runs on PostgreSQL (TEST_DATABASE_URL)"),
]

CLIENTS = 50


def test_r5_fifty_concurrent_clients(tmp_path: Path) -> None:
    with throwaway_database(_normalise(POSTGRES_URL), f"ops_load_{os.getpid()}") as database_url:
        env = environment(database_url, tmp_path)
        migrate(env)
        config = ProductionConfig(env)
        server = start_gunicorn("r5", "wsgi:app", env, tmp_path, workers=2)
        try:
            run = drive(server, intake_cycle, CLIENTS, warmup=0.0, seconds=LOAD_SECONDS,
                        load=Load(config.SESSION_COOKIE_NAME))
        finally:
            server.stop()
        log = server.first_error()
        samples = run.samples()
        posts = [sample for sample in samples if sample.kind == "post"]
        accepted = sum(sample.accepted for sample in posts)
        server_errors = [sample.status for sample in samples if sample.status >= 500]
        no_answer = sum(sample.status == 0 for sample in samples)
        errors = [error for client in run.clients for error in client.errors]
        print(f"R5: {CLIENTS} clients, {LOAD_SECONDS:g} s: {len(samples)} requests, {accepted} accepted "
              f"({accepted / LOAD_SECONDS:.1f}/s)")
        assert not server_errors, f"{len(server_errors)} answers 5xx; server log:\n{log}"
        assert not no_answer and not run.hung_clients, f"{no_answer} requests without an answer:\n{log}"
        assert not errors, f"{len(errors)} unexpected answers, e.g. {errors[:3]}"
        assert accepted > 0

        result = stored(database_url)
        given = references_from_sessions([cookie for client in run.clients for cookie in client.accepted_sessions],
                                         config.SECRET_KEY)
        assert result["count"] == accepted, f"{result['count']} inquiries stored for {accepted} accepted"
        assert result["distinct"] == result["with_reference"] == result["count"], "a reference used twice or unset"
        assert None not in given and len(set(given)) == len(given) == accepted
        assert set(given) == result["references"]
        assert result["without_message"] == 0
        assert result["confirmations"] == accepted
