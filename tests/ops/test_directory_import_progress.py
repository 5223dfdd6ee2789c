"""Issue 13: a directory import's progress is seen by every web process, through gunicorn with 2 workers.

The import runs in a thread of the worker that took the "start" request; the page's follower
(static/js/app.js) asks ``/status`` every half second, and each ask may reach either worker.
Before, the progress lived in the memory of the worker running the import: the other one
answered 0 of 0 until the end, so the bar jumped back. Now it is read from the import's row.
The number of rows is ``DIRECTORY_PROGRESS_ROWS`` (20,000 by default: the check of every row
takes a few seconds, long enough for many asks).
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from inquiry_desk.core.extensions import db
from inquiry_desk.directory.models import Contact

from ..helpers import PASSWORD, current_code, make_user
from .gunicorn_server import Running, Visitor, hidden_fields, serve

ROWS = int(os.environ.get("DIRECTORY_PROGRESS_ROWS", "20000"))


@pytest.fixture
def server(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Running]:
    with serve(database_url, tmp_path, workers=2,
               env={"RATELIMIT_ENABLED": "0", "SESSION_COOKIE_SECURE": "0"}) as running:
        yield running


def _signed_in(server: Running) -> Visitor:
    user = make_user(role="officer")
    visitor = Visitor(server)
    status, _, location = visitor.post("/auth/login", {"email": user.email, "password": PASSWORD},
                                       page_path="/auth/login")
    assert status == 302, location
    visitor.get("/auth/second-factor")
    status, _, location = visitor.post("/auth/second-factor", {"code": current_code(user)})
    assert status == 302 and location and "/staff/" in location, location
    return visitor


def _upload(visitor: Visitor, text: str) -> str:
    _, page, _ = visitor.get("/staff/directory/import")
    token = hidden_fields(page)["csrf_token"]
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n',
             f'--{boundary}\r\nContent-Disposition: form-data; name="subject"\r\n\r\ncontacts\r\n',
             f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="people.csv"\r\n'
             f"Content-Type: text/csv\r\n\r\n{text}\r\n", f"--{boundary}--\r\n"]
    status, _, location = visitor.request("POST", "/staff/directory/import", body="".join(parts).encode(), headers={  # type: ignore[arg-type]
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Referer": f"{visitor.server.base_url}/staff/directory/import"})
    assert status == 302 and location, (status, re.findall(r"error-message[^>]*>([^<]+)", page))
    return location.replace(visitor.server.base_url, "")


def test_every_worker_shows_the_progress_of_an_import_running_in_one(app: Flask, server: Running) -> None:
    visitor = _signed_in(server)
    text = "email,name,language\r\n" + "".join(f"p{n}@progress.example.org,Émilie {n},fr\r\n" for n in range(ROWS))
    preview = _upload(visitor, text)
    status, page, _ = visitor.get(preview)
    assert status == 200 and f"{ROWS} rows checked" in page.replace(",", "")
    start = re.search(r'action="([^"]+/start)"', page)
    assert start
    status, _, _ = visitor.post(start.group(1), {}, page_path=preview)
    assert status == 302

    states: list[tuple[str, int, int]] = []
    lock = threading.Lock()

    def follow() -> None:  # two followers, as two people (or two tabs) watching: both workers get asked
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            _, body, _ = visitor.get(preview + "/status")
            state = json.loads(body)
            with lock:
                states.append((state["status"], state["done"], state["total"]))
            if state["status"] in ("done", "failed"):
                return
            time.sleep(0.05)

    followers = [threading.Thread(target=follow) for _ in range(2)]
    for follower in followers:
        follower.start()
    for follower in followers:
        follower.join()
    running = [(done, total) for status, done, total in states if status == "running"]
    finished = [(done, total) for status, done, total in states if status == "done"]
    assert finished and finished[-1] == (2 * ROWS, 2 * ROWS), states[-5:]
    moving = [(done, total) for done, total in running if 0 < done < total]
    assert moving, states  # seen part-way, as the bar shows it
    # Once a step is seen, no later answer (from either worker) goes back to less: nobody reads 0 of 0.
    seen_after_first = running[running.index(moving[0]):]
    assert all(later[0] > 0 for later in seen_after_first), seen_after_first
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Contact).where(
        Contact.email.like("%@progress.example.org"))) == ROWS
