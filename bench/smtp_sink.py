"""An SMTP sink for the benchmarks: accepts every message and logs when it did, per recipient.

    .venv/bin/python bench/smtp_sink.py PORT LOGFILE

Each accepted message appends "<unix time> <recipient>" lines to LOGFILE (flushed at once),
so a benchmark in another process can see when each email was accepted.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from typing import Any

from aiosmtpd.controller import Controller


class Recorder:
    def __init__(self, path: str) -> None:
        self.output = open(path, "a", buffering=1)  # noqa: SIM115 - open for the process's life

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        accepted = time.time()
        self.output.write("".join(f"{accepted:.6f} {recipient}\n" for recipient in envelope.rcpt_tos))
        return "250 OK"


def main() -> int:
    port, path = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Recorder(path), hostname="127.0.0.1", port=port)
    controller.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
