"""An SMTP sink for the benchmarks, in a process of its own: accepts everything and counts recipients.

    .venv/bin/python -m bench.smtp_sink PORT COUNTS_FILE

Each accepted message is counted per recipient (lower case) and its acceptance time
kept (epoch seconds, the first time for an address). On SIGTERM or SIGINT it writes
``{"counts": {address: n}, "accepted_at": {address: t}}`` as JSON to COUNTS_FILE and exits.
Prints "ready" once it listens.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from collections import Counter
from typing import Any

from aiosmtpd.controller import Controller


class CountingHandler:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.accepted_at: dict[str, float] = {}

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.time()
        for address in envelope.rcpt_tos:
            key = address.lower()
            self.counts[key] += 1
            self.accepted_at.setdefault(key, now)
        return "250 Message accepted for delivery"


def main() -> int:
    port, counts_file = int(sys.argv[1]), sys.argv[2]
    handler = CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port, server_hostname="sink.bench",
                            ready_timeout=10, data_size_limit=0)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    controller.stop()
    with open(counts_file, "w") as out:
        json.dump({"counts": handler.counts, "accepted_at": handler.accepted_at}, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
