"""QUALITY.md R7 for email: mutated messages never raise through the parser or through ingest."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db
from inquiry_desk.mail.inbound import ingest
from inquiry_desk.mail.inbound.parsing import parse, whole_message_text

from .support import CORPUS

SEEDS = sorted(path.read_bytes() for path in CORPUS.glob("*.eml") if path.stat().st_size < 20_000)
NASTY = [b"\x00", b"\r", b"\n", b"\r\n\r\n", b"=?", b"?=", b"--", b"boundary=", b"Content-Type: multipart/mixed\n",
         b"charset=utf-7", b"\xff\xfe", b"\xe9", b"<", b">", b"Content-Transfer-Encoding: base64\n", b":", b" "]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        where = draw(st.integers(min_value=0, max_value=max(len(raw) - 1, 0)))
        action = draw(st.sampled_from(["flip", "insert", "delete", "cut", "nasty"]))
        if action == "flip" and raw:
            raw[where] = draw(st.integers(min_value=0, max_value=255))
        elif action == "insert":
            raw[where:where] = draw(st.binary(min_size=1, max_size=40))
        elif action == "delete":
            del raw[where:where + draw(st.integers(min_value=1, max_value=200))]
        elif action == "cut":
            del raw[where:]
        else:
            raw[where:where] = draw(st.sampled_from(NASTY))
    return bytes(raw)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_the_parser_never_raises(raw: bytes) -> None:
    parsed = parse(raw)
    assert "\x00" not in parsed.text and "\x00" not in parsed.subject and "\x00" not in parsed.display_text
    whole_message_text(raw)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(raw=mutated())
def test_ingest_never_raises(app, raw: bytes) -> None:
    result = ingest.ingest(raw, source="pipe", now=utcnow())
    db.session.commit()
    assert result.exit_code in (ingest.EX_OK, ingest.EX_DATAERR, ingest.EX_NOPERM)
