"""The dashboard page and each chart's CSV: figures, need-to-know, filters, bad input, a real server."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from flask import Flask

from ..helpers import PASSWORD, current_code, page, sign_in
from ..ops.gunicorn_server import Running, Visitor, serve
from . import dataset
from .dataset import Dataset

FORTNIGHT = "period=custom&from=2026-10-26&to=2026-11-08"


@pytest.fixture
def data(app: Flask) -> Dataset:
    with time_machine.travel(dataset.NOW, tick=False):
        return dataset.build()


def _client(app: Flask, user):  # type: ignore[no-untyped-def]
    client = app.test_client()
    sign_in(client, user)
    return client


def _csv(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_dashboard_shows_each_chart_with_its_table_and_download(app: Flask, data: Dataset) -> None:
    with time_machine.travel(dataset.NOW, tick=False):
        soup = page(_client(app, data.lead).get(f"/staff/dashboard/?{FORTNIGHT}"))
    assert soup.select_one("#period option[selected]")["value"] == "custom"
    svgs = soup.select("svg[role=img]")
    assert len(svgs) == 12
    for svg in svgs:
        labelled = svg["aria-labelledby"].split()
        assert svg.select_one(f"title#{labelled[0]}").get_text() and svg.select_one(f"desc#{labelled[1]}").get_text()
        assert svg.select("pattern")  # patterns, not colour alone
    received = soup.select_one("#received-data")
    assert received.name == "details" and received.summary
    rows = [[cell.get_text() for cell in row.select("th, td")] for row in received.select("tbody tr")]
    assert rows[0] == ["26 Oct", "0", "0", "1"] and len(rows) == 14
    assert soup.select_one('a[href^="/staff/dashboard/received.csv?"]')
    headline = {row.th.get_text(): [td.get_text() for td in row.select("td")] for row in soup.select("table tbody tr")
                if row.th and row.th.get_text() == "Inquiries received"}
    assert headline["Inquiries received"] == ["6", "2", "+4"]
    assert "Organisation One" in soup.select_one("#organisations-data").get_text()


def test_french_dashboard(app: Flask, data: Dataset) -> None:
    with time_machine.travel(dataset.NOW, tick=False):
        client = _client(app, data.lead)
        with client.session_transaction() as session:
            session["lang"] = "fr"
        soup = page(client.get(f"/staff/dashboard/?{FORTNIGHT}"), lang="fr")
    assert soup.h1.get_text() == "Tableau de bord"
    assert soup.select_one("svg title#received-title").get_text() == "Demandes reçues, par canal"


def test_csv_of_a_chart_with_need_to_know(app: Flask, data: Dataset) -> None:
    with time_machine.travel(dataset.NOW, tick=False):
        lead = _csv(_client(app, data.lead).get(f"/staff/dashboard/topics.csv?{FORTNIGHT}"))
        officer = _csv(_client(app, data.officer).get(f"/staff/dashboard/topics.csv?{FORTNIGHT}"))
        organisations = _csv(_client(app, data.officer).get(f"/staff/dashboard/organisations.csv?{FORTNIGHT}"))
        received = _csv(_client(app, data.lead).get(f"/staff/dashboard/received.csv?{FORTNIGHT}&topic={data.t2}"))
    assert lead[0] == ["Topic", "This period", "Previous period"]
    assert sorted(lead[1:]) == [["Other", "2", "0"], ["Private sponsorship", "4", "2"]]
    assert sorted(officer[1:]) == [["Other", "1", "0"], ["Private sponsorship", "4", "2"], ["Restricted", "1", "0"]]
    assert ["Organisation Two", "1"] in organisations  # D's organisation not counted for the officer
    # The topic filter: C on the 30th and D on the 31st.
    assert [row[0] for row in received[1:] if any(value != "0" for value in row[1:])] == ["2026-10-30", "2026-10-31"]


@pytest.mark.parametrize("query", ["period=custom&from=2026-13-01&to=x", "period=custom&from=2026-02-01",
                                   "period=%00", "topic=99999999999999&assignee=-1&kind=%3Cscript%3E&language=xx",
                                   "period=custom&from=1800-01-01&to=1800-01-02"])
def test_bad_input_falls_back_and_says_so(app: Flask, data: Dataset, query: str) -> None:
    client = _client(app, data.lead)
    response = client.get(f"/staff/dashboard/?{query}")
    assert response.status_code == 200
    assert client.get(f"/staff/dashboard/received.csv?{query}").status_code == 200
    assert client.get("/staff/dashboard/nothing.csv").status_code == 404


def test_viewers_have_no_dashboard(app: Flask, data: Dataset) -> None:
    from ..helpers import make_user

    viewer = _client(app, make_user(role="viewer"))
    assert viewer.get("/staff/dashboard/").status_code == 403
    nav = page(_client(app, data.officer).get("/staff/")).select_one("nav.staff-nav")
    assert nav.find("a", string="Dashboard")["href"] == "/staff/dashboard/"
    assert page(viewer.get("/staff/")).select_one("nav.staff-nav").find("a", string="Dashboard") is None


@pytest.fixture
def server(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Running]:
    with serve(database_url, tmp_path, workers=1, env={"RATELIMIT_ENABLED": "0", "SESSION_COOKIE_SECURE": "0"}) as up:
        yield up


def test_csv_streamed_through_gunicorn(app: Flask, data: Dataset, server: Running) -> None:
    visitor = Visitor(server)
    status, _, _ = visitor.post("/auth/login", {"email": data.lead.email, "password": PASSWORD},
                                page_path="/auth/login")
    assert status == 302
    visitor.get("/auth/second-factor")
    status, _, location = visitor.post("/auth/second-factor", {"code": current_code(data.lead)})
    assert status == 302 and location and "/staff/" in location
    connection = server.connection()
    connection.request("GET", f"/staff/dashboard/received.csv?{FORTNIGHT}",
                       headers={"Cookie": "; ".join(f"{k}={v}" for k, v in visitor.cookies.items())})
    response = connection.getresponse()
    body = response.read().decode()
    connection.close()
    assert response.status == 200 and response.getheader("Content-Type", "").startswith("text/csv")
    assert response.getheader("Transfer-Encoding") == "chunked"  # streamed, no Content-Length
    assert 'filename="received-2026-10-26-2026-11-08.csv"' in response.getheader("Content-Disposition", "")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["Day", "Email", "Phone", "Web form"] and len(rows) == 15
    assert sum(int(value) for row in rows[1:] for value in row[1:]) == 6
    status, html, _ = visitor.get(f"/staff/dashboard/?{FORTNIGHT}")
    assert status == 200 and "<svg" in html
