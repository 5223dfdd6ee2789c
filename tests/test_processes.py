"""A process a test starts with ``die_with_parent`` ends when the process that started it is killed."""

from __future__ import annotations

import ast
import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest

from .conftest import PROJECT_DIR
from .processes import die_with_parent

PARENT = """
import subprocess, sys, time
from tests.processes import die_with_parent
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], preexec_fn=die_with_parent)
print(child.pid, flush=True)
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[-1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl(PR_SET_PDEATHSIG) is Linux's")
def test_a_child_dies_with_its_parent() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=PROJECT_DIR, stdout=subprocess.PIPE, text=True,
                              start_new_session=True, preexec_fn=die_with_parent)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert _alive(child)
        parent.send_signal(signal.SIGKILL)  # as a pytest killed by a timeout or kill -9
        parent.wait(10)
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(parent.pid, signal.SIGKILL)



STARTERS = {"Popen", "run", "call", "check_call", "check_output"}


def _starts_without_die_with_parent(source: str) -> list[int]:
    """The lines that start a process (``subprocess.X(...)``) without a ``preexec_fn``."""
    return [node.lineno for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in STARTERS
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "subprocess"
            and not any(keyword.arg == "preexec_fn" for keyword in node.keywords)]


def test_every_process_a_test_starts_dies_with_pytest() -> None:
    """A killed pytest leaves nothing running: every process the tests start asks for the parent-death signal
    (short ones too: a validator or a migration can outlive a killed run by minutes)."""
    missing = [f"{path.relative_to(PROJECT_DIR)}:{line}" for path in sorted((PROJECT_DIR / "tests").rglob("*.py"))
               for line in _starts_without_die_with_parent(path.read_text(encoding="utf-8"))]
    assert not missing, "a process started without preexec_fn=die_with_parent:\n" + "\n".join(missing)


def test_a_process_started_without_it_is_found() -> None:
    source = "import subprocess\nsubprocess.run(['true'])\nsubprocess.Popen(['true'], preexec_fn=die_with_parent)\n"
    assert _starts_without_die_with_parent(source) == [2]
