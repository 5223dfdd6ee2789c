"""QUALITY.md L1: every string a person can see has its French translation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from .conftest import PROJECT_DIR
from .processes import die_with_parent

CATALOGUE = PROJECT_DIR / "inquiry_desk" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"


def extract_messages(tmp_path: Path) -> set[str]:
    """Every translatable string in the code and templates, as of now."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [str(Path(sys.executable).parent / "pybabel"), "extract", "-F", str(PROJECT_DIR / "babel.cfg"),
         "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), str(PROJECT_DIR)],
        check=True, cwd=PROJECT_DIR, preexec_fn=die_with_parent,
    )
    with pot.open("rb") as handle:
        return {message.id if isinstance(message.id, str) else message.id[0]
                for message in read_po(handle) if message.id}


def missing_translations(expected: set[str], catalogue_path: Path) -> list[str]:
    with catalogue_path.open("rb") as handle:
        catalogue = read_po(handle)
    missing = []
    for msgid in sorted(expected):
        message = catalogue.get(msgid)
        strings = message.string if message is not None else ""
        translated = all(strings) if isinstance(strings, tuple) else bool(strings)
        if message is None or not translated or message.fuzzy:
            missing.append(msgid)
    return missing


def test_every_string_has_a_french_translation(tmp_path: Path) -> None:
    expected = extract_messages(tmp_path)
    assert len(expected) > 50
    missing = missing_translations(expected, CATALOGUE)
    assert not missing, "no French translation (run `make translations-update`, then translate):\n" + "\n".join(missing)


def test_a_missing_translation_is_detected(tmp_path: Path) -> None:
    catalogue = tmp_path / "messages.po"
    catalogue.write_text(CATALOGUE.read_text(encoding="utf-8"), encoding="utf-8")
    expected = {"A sentence added today without its French twin"}
    assert missing_translations(expected, catalogue) == sorted(expected)


def test_the_compiled_catalogue_holds_every_translation(compiled_translations: None) -> None:
    """pybabel skips a catalogue it reads as fuzzy: the .mo pages use must hold every entry."""
    from babel.messages.mofile import read_mo

    with CATALOGUE.open("rb") as handle:
        source = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    with CATALOGUE.with_suffix(".mo").open("rb") as handle:
        compiled = {m.id if isinstance(m.id, str) else m.id[0] for m in read_mo(handle) if m.id}
    assert source <= compiled, f"{len(source - compiled)} translations are missing from the compiled catalogue"


def test_no_message_is_in_the_catalogue_twice() -> None:
    """Two entries for one message: one of them is silently ignored (the same word may need two translations)."""
    import re

    seen: set[tuple[str | None, str]] = set()
    twice = []
    for entry in CATALOGUE.read_text(encoding="utf-8").split("\n\n"):
        found = re.search(r'^(?:msgctxt "(.*)"\n)?msgid ((?:".*"\n?)+)msgstr', entry + "\n", re.M)
        if found is None or found.group(2) == '""\n':
            continue
        key = (found.group(1), found.group(2))
        if key in seen:
            twice.append(key)
        seen.add(key)
    assert not twice, f"messages in the catalogue twice (give one a msgctxt): {twice}"
