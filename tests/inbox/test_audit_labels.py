"""Every audit action the application writes has a label in words, in English and French.

The actions are read from the code: the first argument of each ``audit.record(...)`` call and
each ``change.event("…")`` of the inquiry recorder (written as ``inquiry.<event>``). A call whose
action is not written out must be one of ``DYNAMIC`` below, which says where its values come
from; a new one fails here until it is listed, and a new code fails until it has a label.
"""

from __future__ import annotations

import ast
from pathlib import Path

from flask_babel import force_locale

from inquiry_desk.inbox.audit_labels import ACTION_LABELS, GROUPS, action_label
from inquiry_desk.inquiries import access, attachments, audit_trail

from ..conftest import PROJECT_DIR

PACKAGE = PROJECT_DIR / "inquiry_desk"
# (file, the source of the non-literal action) -> the codes it can be.
DYNAMIC: dict[tuple[str, str], frozenset[str]] = {
    ("inquiries/recorder.py", "f'inquiry.{action}'"): frozenset(),  # the change.event(...) codes, read below
    ("inquiries/access.py", "action"): frozenset(access.READINGS) - {access.VIEWED, access.JUSTIFIED},
    ("inquiries/protection.py", "access.JUSTIFIED"): frozenset({access.JUSTIFIED}),
    ("inquiries/audit_trail.py", "EXPORTED"): frozenset({audit_trail.EXPORTED}),
    ("inquiries/attachments.py", "DOWNLOADED"): frozenset({attachments.DOWNLOADED}),
    ("inquiries/attachments.py", "DOWNLOADED_BY_STAKEHOLDER"): frozenset({attachments.DOWNLOADED_BY_STAKEHOLDER}),
    ("inquiries/attachments.py", "REFUSED"): frozenset({attachments.REFUSED}),
    ("inquiries/attachments.py", "REPLY_NOT_SENT"): frozenset({attachments.REPLY_NOT_SENT}),
    ("accounts/services.py", "action"): frozenset(),  # the codes given to _record_failure(...), read below
    ("bulletins/services.py", "action"): frozenset(),  # the codes given to _transition(...), read below
    ("bulletins/series.py", "action"): frozenset(),  # the codes given to _set_status(...), read below
}
# Helpers that pass their argument on as the action: (file, function, position of the action).
PASSED_ON: set[tuple[str, str, int | str]] = {("accounts/services.py", "_record_failure", 2),
                                             ("bulletins/services.py", "_transition", "action"),
                                             ("bulletins/series.py", "_set_status", "action")}


def _literal_codes(node: ast.expr) -> set[str] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        body, orelse = _literal_codes(node.body), _literal_codes(node.orelse)
        if body is not None and orelse is not None:
            return body | orelse
    return None


def written_codes() -> tuple[set[str], list[str]]:
    """Every action code the package writes, and the calls whose action this test cannot read."""
    codes: set[str] = set()
    unknown: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(PACKAGE).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not (node.args or node.keywords):
                continue
            for helper_file, helper, position in PASSED_ON:
                if where == helper_file and isinstance(node.func, ast.Name) and node.func.id == helper:
                    if isinstance(position, str):  # passed by keyword
                        given = [keyword.value for keyword in node.keywords if keyword.arg == position]
                        found = _literal_codes(given[0]) if given else None
                    else:
                        found = _literal_codes(node.args[position]) if len(node.args) > position else None
                    if found is None:
                        unknown.append(f"{where}:{node.lineno}: {helper}(…)")
                    else:
                        codes |= found
            if not isinstance(node.func, ast.Attribute):
                continue
            if not node.args:
                continue
            first = node.args[0]
            if node.func.attr == "record" and isinstance(node.func.value, ast.Name) and node.func.value.id == "audit":
                found = _literal_codes(first)
                if found is None:
                    key = (where, ast.unparse(first))
                    if key in DYNAMIC:
                        found = set(DYNAMIC[key])
                    else:
                        unknown.append(f"{where}:{node.lineno}: audit.record({ast.unparse(first)}, …)")
                        continue
                codes |= found
            elif node.func.attr == "event" and isinstance(node.func.value, ast.Name) and node.func.value.id == "change":
                events = _literal_codes(first)
                if events is not None:
                    codes |= {f"inquiry.{event}" for event in events}
                else:
                    unknown.append(f"{where}:{node.lineno}: change.event({ast.unparse(first)}, …)")
    return codes, unknown


def test_every_action_written_has_a_label() -> None:
    codes, unknown = written_codes()
    assert not unknown, "actions this test cannot read; list them in DYNAMIC:\n" + "\n".join(unknown)
    assert len(codes) > 80  # the scan found the calls
    missing = sorted(code for code in codes if code not in ACTION_LABELS)
    assert not missing, "audit actions without a label in inbox/audit_labels.py ACTION_LABELS:\n" + "\n".join(missing)


def test_the_scan_finds_a_new_code(tmp_path: Path) -> None:
    """The scan reads what it claims to: a code in a new call is found."""
    tree = ast.parse('audit.record("brand.new_thing", actor=None)\nchange.event("brand_new")')
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    assert [_literal_codes(call.args[0]) for call in calls] == [{"brand.new_thing"}, {"brand_new"}]
    assert action_label("brand.new_thing") == "brand: new thing"  # never a bare code, even then


def test_each_label_is_translated_and_in_a_group(app) -> None:
    with app.test_request_context():
        with force_locale("fr"):
            french = {code: str(label) for code, (_group, label) in ACTION_LABELS.items()}
        with force_locale("en"):
            english = {code: str(label) for code, (_group, label) in ACTION_LABELS.items()}
    untranslated = sorted(code for code in ACTION_LABELS if french[code] == english[code])
    assert not untranslated, untranslated
    assert {group for group, _label in ACTION_LABELS.values()} <= set(GROUPS)
