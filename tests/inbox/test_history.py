"""An inquiry's history reads as words in both languages, with repeated portal views folded (issue 10)."""

from __future__ import annotations

from datetime import timedelta

from inquiry_desk.audit import services as audit
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db

from ..helpers import make_inquiry, page


def _history(client, inquiry) -> list[str]:
    soup = page(client.get(f"/staff/inquiries/{inquiry.id}"))
    return [" ".join(item.get_text().split()) for item in soup.select("ol.history li")]


def _viewed(inquiry, times: int, action: str = "inquiry.viewed_by_stakeholder") -> None:
    start = utcnow() - timedelta(hours=times)
    for hour in range(times):
        audit.record(action, subject_type="inquiry", subject_id=inquiry.id, now=start + timedelta(hours=hour))


def test_repeated_portal_views_are_one_line_in_words(app, signed_in) -> None:
    inquiry = make_inquiry()
    _viewed(inquiry, 2, "inquiry.viewed_by_requester")  # the name older rows carry
    _viewed(inquiry, 2)
    db.session.commit()
    lines = _history(signed_in("officer"), inquiry)
    assert not any("inquiry." in line or "viewed_by" in line for line in lines), lines
    assert sum("opened their private link" in line for line in lines) == 1
    assert any(line.endswith("the stakeholder opened their private link (4 times)") for line in lines), lines


def test_history_in_french(app, signed_in) -> None:
    inquiry = make_inquiry()
    _viewed(inquiry, 3)
    audit.record("inquiry.some_new_thing", subject_type="inquiry", subject_id=inquiry.id, now=utcnow())
    db.session.commit()
    officer = signed_in("officer", language="fr")
    with officer.session_transaction() as session:
        session["lang"] = "fr"
    lines = _history(officer, inquiry)
    assert any(line.endswith("l’auteur de la demande a ouvert son lien privé (3 fois)") for line in lines), lines
    assert any(line.endswith("some new thing") for line in lines)  # never a bare code
