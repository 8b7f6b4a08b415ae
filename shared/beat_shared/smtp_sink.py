"""A real SMTP server (aiosmtpd) run as its own process: the tests' sink (see `beat_shared.testing`)
and, under `beat run` in development, the mail catcher whose messages notifications' /dev/outbox
page shows (see `beat_shared.dev_mail`).

Usage: python -m beat_shared.smtp_sink PORT DIRECTORY

Every accepted transaction is written to DIRECTORY/received/; DIRECTORY/mailbox/ keeps
one copy per Message-ID (what a mail store that de-duplicates on Message-ID shows).
DIRECTORY/mode, read for each message, says how to answer: ok (250), 451, 550, or
hold (store, then wait for DIRECTORY/release before answering 250). DIRECTORY/peers.log gets
the client's port for every accepted message: one port per SMTP connection.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
import time
from email import message_from_bytes
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


def write_whole(path: Path, content: bytes) -> None:
    """Readers list `*.eml` while messages arrive: a message appears whole (written aside, then
    renamed into place), never half-written with its headers missing."""
    aside = path.with_suffix(".part")
    aside.write_bytes(content)
    aside.replace(path)


class Sink:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        (directory / "received").mkdir(parents=True, exist_ok=True)
        (directory / "mailbox").mkdir(parents=True, exist_ok=True)

    def mode(self) -> str:
        path = self.directory / "mode"
        return path.read_text().strip() if path.exists() else "ok"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mode = self.mode()
        if mode == "451":
            return "451 4.3.0 Try again later"
        if mode == "550":
            return "550 5.1.1 Mailbox unavailable"
        content = envelope.original_content or envelope.content
        stamp = f"{time.time_ns()}"
        write_whole(self.directory / "received" / f"{stamp}.eml", content)
        with (self.directory / "peers.log").open("a") as peers:  # which connection carried it
            peers.write(f"{session.peer[1]}\n")
        message_id = message_from_bytes(content).get("Message-ID", stamp)
        key = hashlib.sha256(message_id.encode()).hexdigest()[:24]
        target = self.directory / "mailbox" / f"{key}.eml"
        if not target.exists():
            write_whole(target, content)
        if mode == "hold":
            while not (self.directory / "release").exists():
                await asyncio.sleep(0.05)
        return "250 2.0.0 OK"


def main() -> None:
    port, directory = int(sys.argv[1]), Path(sys.argv[2])
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port)
    controller.start()
    (directory / "ready").write_text("1")
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
