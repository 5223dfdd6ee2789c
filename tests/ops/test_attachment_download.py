"""Attachments through gunicorn with the production configuration (CSRF on): a file larger than the
app's usual body limit goes up with the public form, and comes back to staff and to the stakeholder's
private link as a download streamed from the file store, byte for byte, never sniffed."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from inquiry_desk.core.extensions import db
from inquiry_desk.inquiries import services as inquiries
from inquiry_desk.inquiries.models import Attachment, Inquiry

from ..helpers import PASSWORD, current_code, inquiry_form_data, make_user
from .gunicorn_server import Running, Visitor, hidden_fields, serve

SIZE = 3_000_000  # above MAX_CONTENT_LENGTH (2 MB): the form's own limit applies


@pytest.fixture
def server(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Running]:
    env = {"RATELIMIT_ENABLED": "0", "SESSION_COOKIE_SECURE": "0", "ATTACHMENTS_DIR": str(tmp_path / "files")}
    app.config["ATTACHMENTS_DIR"] = env["ATTACHMENTS_DIR"]
    with serve(database_url, tmp_path, workers=1, env=env) as running:
        yield running


def _multipart(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts += [(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
               f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + b"\r\n"
              for name, filename, data in files]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _download(server: Running, path: str, cookies: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    connection = server.connection(timeout=30)
    connection.request("GET", path, headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, {name.lower(): value for name, value in response.getheaders()}, body


def test_a_large_file_goes_up_with_the_form_and_comes_back_as_a_download(app: Flask, server: Running) -> None:
    content = ("Ligne de texte, é à ç.\n" * (SIZE // 24)).encode()
    stakeholder = Visitor(server)
    stakeholder.get("/en/inquiry")
    fields = {**{key: str(value) for key, value in inquiry_form_data().items() if key != "started"},
              **hidden_fields(stakeholder.last_page)}
    body, content_type = _multipart(fields, [("attachments", "notes.pdf", content)])
    connection = server.connection(timeout=30)
    connection.request("POST", "/en/inquiry", body=body, headers={
        "Content-Type": content_type, "Referer": f"{server.base_url}/en/inquiry",
        "Cookie": "; ".join(f"{k}={v}" for k, v in stakeholder.cookies.items())})
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 302, server.log()[-2000:]

    db.session.rollback()
    inquiry = db.session.scalars(select(Inquiry)).one()
    row = db.session.scalars(select(Attachment)).one()
    assert (row.filename, row.content_type, row.size) == ("notes.pdf.txt", "text/plain", len(content))

    officer = make_user(role="officer")
    staff = Visitor(server)
    assert staff.post("/auth/login", {"email": officer.email, "password": PASSWORD}, page_path="/auth/login")[0] == 302
    assert staff.post("/auth/second-factor", {"code": current_code(officer)},
                      page_path="/auth/second-factor")[0] == 302
    status, headers, data = _download(server, f"/staff/inquiries/{inquiry.id}/attachments/{row.id}", staff.cookies)
    assert status == 200 and data == content
    assert headers["content-disposition"] == "attachment; filename=notes.pdf.txt"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-type"].startswith("text/plain")
    assert int(headers["content-length"]) == len(content)

    _link, token = inquiries.create_portal_link(inquiry, now=inquiry.received_at)
    db.session.commit()
    status, headers, data = _download(server, f"/en/portal/{token}/files/{row.id}", {})
    assert status == 200 and data == content and headers["content-disposition"].startswith("attachment")
    assert token not in server.log()  # the private link stays out of the logs
