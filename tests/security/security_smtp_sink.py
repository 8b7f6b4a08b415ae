"""A real SMTP server (aiosmtpd) for the security tests, run as its own process.

Usage: python security_smtp_sink.py PORT DIRECTORY -- every message is written to DIRECTORY.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        (self.directory / f"{time.time_ns()}.eml").write_bytes(content)
        return "250 2.0.0 OK"


def main() -> None:
    port, directory = int(sys.argv[1]), Path(sys.argv[2])
    directory.mkdir(parents=True, exist_ok=True)
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port)
    controller.start()
    (directory.parent / "ready").write_text("1")
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
