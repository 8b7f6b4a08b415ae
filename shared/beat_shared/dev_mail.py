"""The development mail catcher: under `beat run` in development, notifications' e-mail goes to a
local SMTP server (the tests' sink, `beat_shared.smtp_sink`) that keeps every message under
BEAT_DEV_MAIL_DIR, where notifications' development outbox page (`/dev/outbox`) reads it.
Production refuses both: real mail goes to the city's relay, and nobody reads it on a page.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from beat_shared.config import env

STARTUP_SECONDS = 15.0


class RefusedInProduction(Exception):
    """A development convenience asked for with BEAT_ENVIRONMENT=production."""


def refuse_in_production(what: str, environ: Mapping[str, str] | None = None) -> None:
    """Raise RefusedInProduction when BEAT_ENVIRONMENT is production."""
    if env("BEAT_ENVIRONMENT", environ) == "production":
        raise RefusedInProduction(f"{what} is for development only; BEAT_ENVIRONMENT=production refuses it")


def start_catcher(port: int, directory: Path) -> subprocess.Popen[bytes]:
    """Start the catcher as a child process and return once it accepts mail.

    Raises RefusedInProduction in production and RuntimeError when it does not start."""
    refuse_in_production("the development mail catcher")
    directory.mkdir(parents=True, exist_ok=True)
    ready = directory / "ready"
    ready.unlink(missing_ok=True)  # left by an earlier run: it must not count as this one's
    process = subprocess.Popen([sys.executable, "-m", "beat_shared.smtp_sink", str(port), str(directory)])
    deadline = time.monotonic() + STARTUP_SECONDS
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the development mail catcher did not start on 127.0.0.1:{port} (is the port free?)")
        time.sleep(0.1)
    return process


@dataclass(frozen=True)
class CaughtMail:
    """An e-mail as it arrived at the catcher."""

    received_at: float  # seconds since the epoch
    message: EmailMessage

    @property
    def raw_headers(self) -> list[tuple[str, str]]:
        return [(name, str(value)) for name, value in self.message.items()]

    def body(self, subtype: str) -> str | None:
        """The text/`subtype` body (plain or html), None when the message has none."""
        part = self.message.get_body(preferencelist=(subtype,))
        if part is None or part.get_content_subtype() != subtype:
            return None
        return str(part.get_content())


def caught_mail(directory: Path, limit: int = 100) -> list[CaughtMail]:
    """The latest `limit` e-mails the catcher received, newest first."""
    files = sorted((directory / "received").glob("*.eml"), key=lambda path: int(path.stem), reverse=True)
    return [
        CaughtMail(int(path.stem) / 1e9, message_from_bytes(path.read_bytes(), policy=policy.default))  # type: ignore[arg-type]
        for path in files[:limit]
    ]
