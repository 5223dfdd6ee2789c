"""The public form's CPU cost per submission, in one process: a load-proof companion to bench/intake.py (P4).

    .venv/bin/python bench/intake_profile.py [N] [--database postgres] [--profile] [--top 30]

N visitors (200 by default) each GET the form and POST it through Flask's test client, in
this process, on a throwaway database migrated as bench/intake.py does it, with the same
production settings; then N floor cycles (the trivial page, the one-row insert of
bench/floor_app.py). It prints the CPU time (``time.process_time``) per cycle of each and
their ratio, which a loaded machine hardly moves (wall time it does): the floor's CPU per
cycle over the form's is what P4's rate ratio tends to when the web is CPU-bound.
``--profile`` runs the form's cycles under cProfile (CPU time) and prints the functions
that cost most, cumulative, to find what to make cheaper. It also prints how many SQL
statements a cycle of each sends once warm (counted on cycles outside the timed ones);
``--statements`` lists those of one form cycle.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from bench.intake import (  # noqa: E402
    DEFAULT_POSTGRES_URL,
    hidden_fields,
    migrate,
    server_environment,
    submission,
    throwaway_database,
)
from inquiry_desk.intake.links import FORM_PATHS, THANKS_PATHS  # noqa: E402

WARMUP = 20


def form_cycle(app: object, number: int) -> None:
    language = "fr" if number % 2 else "en"
    client = app.test_client()  # type: ignore[attr-defined]
    page = client.get(FORM_PATHS[language])
    assert page.status_code == 200, page.status_code
    label = f"profile{number}-{time.monotonic_ns()}"
    answer = client.post(FORM_PATHS[language], data=submission(hidden_fields(page.get_data(as_text=True)),
                                                              language, label, f"{label}@example.net"))
    assert answer.status_code == 302 and answer.headers["Location"].endswith(THANKS_PATHS[language]), \
        answer.status_code


def floor_cycle(app: object, number: int) -> None:
    from bench.floor_app import FLOOR_PATH

    client = app.test_client()  # type: ignore[attr-defined]
    assert client.get(FLOOR_PATH).status_code == 200
    assert client.post(FLOOR_PATH, data={"payload": f"floor{number}"}).status_code == 302


def cpu_per_cycle(app: object, cycle: Callable[[object, int], None], count: int,
                  profiler: cProfile.Profile | None = None) -> tuple[float, float]:
    for number in range(WARMUP):
        cycle(app, -1 - number)
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    for number in range(count):
        cycle(app, number)
    if profiler is not None:
        profiler.disable()
    return (time.process_time() - cpu) / count, (time.perf_counter() - wall) / count


def statements_per_cycle(app: object, cycle: Callable[[object, int], None], count: int = 10) -> list[list[str]]:
    """The SQL statements each of ``count`` cycles sends (untimed: the listener costs CPU)."""
    from sqlalchemy import event

    from inquiry_desk.core.extensions import db

    with app.app_context():  # type: ignore[attr-defined]
        engine = db.engine
    seen: list[list[str]] = []
    for number in range(WARMUP):  # (the first cycles read what is then kept)
        cycle(app, -2000 - number)

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen[-1].append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", note)
    try:
        for number in range(count):
            seen.append([])
            cycle(app, -1000 - number)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return seen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("count", type=int, nargs="?", default=200)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--statements", action="store_true", help="list the SQL statements of one form cycle")
    parser.add_argument("--save", help="write the profile here (pstats format) for a closer look")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="intake-profile-") as folder:
        workdir = Path(folder)
        with throwaway_database(args.database, args.postgres_url, workdir) as database_url:
            env = server_environment(database_url, workdir)
            migrate(env)
            os.environ.update(env, LOG_LEVEL="WARNING")
            from bench.floor_app import create_floor_app

            app = create_floor_app()
            form_statements = statements_per_cycle(app, form_cycle)
            floor_statements = statements_per_cycle(app, floor_cycle)
            profiler = cProfile.Profile(time.process_time) if args.profile else None
            form_cpu, form_wall = cpu_per_cycle(app, form_cycle, args.count, profiler)
            floor_cpu, floor_wall = cpu_per_cycle(app, floor_cycle, args.count)
            with app.app_context():
                from inquiry_desk.core.extensions import db

                db.engine.dispose()
    print(f"# {args.count} cycles each (GET + POST), {args.database}, in one process; load "
          f"{os.getloadavg()[0]:.1f}")
    print(f"floor_cpu_per_cycle: {floor_cpu * 1000:.2f} ms (1.00 x floor)")
    print(f"intake_cpu_per_cycle: {form_cpu * 1000:.2f} ms ({form_cpu / floor_cpu:.2f} x floor)")
    print(f"# wall per cycle: floor {floor_wall * 1000:.2f} ms, intake {form_wall * 1000:.2f} ms "
          f"({form_wall / floor_wall:.2f} x floor)")
    print(f"# CPU-bound rate ratio (floor CPU / intake CPU): {floor_cpu / form_cpu:.2f}")
    print(f"# SQL statements per cycle, warm (GET + POST): floor {min(map(len, floor_statements))}, intake "
          f"{min(map(len, form_statements))} to {max(map(len, form_statements))}")
    if args.statements:
        for statement in min(form_statements, key=len):
            print(f"#   {statement[:160]}")
    if profiler is not None:
        stats = pstats.Stats(profiler)
        if args.save:
            stats.dump_stats(args.save)
        stats.sort_stats("cumulative").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
