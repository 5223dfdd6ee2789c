"""Child processes that never outlive pytest: servers, workers and schedulers started by tests.

``subprocess.Popen(..., preexec_fn=die_with_parent)``: on Linux the child asks the kernel
for SIGKILL when the process that started it ends (``prctl(PR_SET_PDEATHSIG)``), so a
pytest killed by a timeout, by Ctrl-C twice or by ``kill -9`` leaves no ``flask mail
worker`` or gunicorn behind (a killed worker's claimed rows return when its lease ends).
Elsewhere it does nothing; the fixtures' finalisers still stop what they started.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:  # pragma: no cover (runs in the child, between fork and exec)
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return
    if os.getppid() != parent:  # pytest ended between fork and prctl: nobody would send the signal
        os._exit(1)
