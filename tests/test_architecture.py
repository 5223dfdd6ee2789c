"""The layer contracts in pyproject.toml are there and bite: a wrong import fails `lint-imports`.

Each case copies the package and pyproject.toml to a temporary folder, adds one import
that climbs a layer (or closes a cycle), and expects `lint-imports` to name the broken
contract. `make lint` runs the same contracts on the real tree and expects them kept.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .processes import die_with_parent

PROJECT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    # A wide terminal, so that contract names are not wrapped in the report.
    environment = {"PYTHONPATH": str(tree), "PATH": str(LINT_IMPORTS.parent), "COLUMNS": "300"}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=tree, capture_output=True, text=True,
                          timeout=120, env=environment, preexec_fn=die_with_parent)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the package and its contracts, without caches."""
    shutil.copytree(PROJECT / "inquiry_desk", tmp_path / "inquiry_desk",
                    ignore=shutil.ignore_patterns("__pycache__", "translations"))
    shutil.copy(PROJECT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_real_tree_keeps_every_contract(tree: Path) -> None:
    result = _lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(("module", "wrong_import", "contract"), [
    ("accounts/services.py", "from inquiry_desk.inquiries import models", "Layers of the package"),
    ("core/urls.py", "from inquiry_desk.accounts import models", "core is plumbing"),
    ("mail/services.py", "from inquiry_desk.audit import services", "mail imports no capability"),
    ("directory/models.py", "from inquiry_desk.directory import services", "Models import nothing"),
    ("inquiries/queues.py", "from inquiry_desk.accounts import forms", "Services never import"),
    ("inbox/blueprint.py", "from inquiry_desk.inbox import views", "No import cycle"),
])
def test_a_wrong_import_breaks_a_contract(tree: Path, module: str, wrong_import: str, contract: str) -> None:
    with (tree / "inquiry_desk" / module).open("a") as source:
        source.write(f"\n{wrong_import}  # deliberately wrong\n")
    result = _lint_imports(tree)
    assert result.returncode != 0
    _, _, broken = result.stdout.partition("Broken contracts")
    assert contract in broken, result.stdout


def test_a_new_top_level_package_must_be_placed_in_the_layers(tree: Path) -> None:
    (tree / "inquiry_desk" / "newsletters").mkdir()
    (tree / "inquiry_desk" / "newsletters" / "__init__.py").write_text("")
    result = _lint_imports(tree)
    assert result.returncode != 0
    assert "inquiry_desk.newsletters" in result.stdout
