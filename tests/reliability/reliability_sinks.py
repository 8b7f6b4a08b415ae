"""The outside world the reliability run delivers to: an SMTP server and a webhook receiver.

Run as its own process (aiosmtpd needs asyncio; the services' tests run under eventlet):

    python reliability_sinks.py SMTP_PORT HTTP_PORT DIRECTORY

* SMTP (aiosmtpd): every accepted DATA is one line of DIRECTORY/smtp.jsonl with its
  Message-ID and recipients. Nothing is de-duplicated here: the harness counts raw
  deliveries and distinct Message-IDs separately.
* Webhooks (Standard Webhooks): `POST /hooks/<name>` is verified with the secrets in
  DIRECTORY/webhook_secrets.json (`{"<name>": ["whsec_...", ...]}`, re-read when it
  changes). A valid delivery answers 204 and is one line of DIRECTORY/webhooks.jsonl; an
  invalid signature answers 401 and is recorded with `"valid": false`.

DIRECTORY/ready appears once both listen.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class JsonLines:
    """An append-only JSON-lines file shared by threads."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, separators=(",", ":"))
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()


class SmtpSink:
    def __init__(self, log: JsonLines) -> None:
        self.log = log

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from email import message_from_bytes

        content = envelope.original_content or envelope.content
        message = message_from_bytes(content)
        self.log.write(
            {
                "message_id": message.get("Message-ID"),
                "to": list(envelope.rcpt_tos),
                "subject": str(message.get("Subject", "")),
                "at": time.time(),
            }
        )
        return "250 2.0.0 OK"


class Secrets:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: float | None = None
        self._secrets: dict[str, list[str]] = {}

    def for_hook(self, name: str) -> list[str]:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return []
        if mtime != self._seen:
            self._secrets, self._seen = json.loads(self.path.read_text()), mtime
        return self._secrets.get(name, [])


def webhook_handler(secrets: Secrets, log: JsonLines) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            name = self.path.rstrip("/").rsplit("/", 1)[-1]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {key.lower(): value for key, value in self.headers.items()}
            payload, valid = None, False
            for secret in secrets.for_hook(name):
                try:
                    payload = Webhook(secret).verify(body, headers)
                    valid = True
                    break
                except WebhookVerificationError:
                    continue
            log.write(
                {
                    "hook": name,
                    "webhook_id": headers.get("webhook-id"),
                    "valid": valid,
                    "type": (payload or {}).get("type"),
                    "event_id": (payload or {}).get("id"),
                    "at": time.time(),
                }
            )
            self.send_response(204 if valid else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def main() -> None:
    smtp_port, http_port, directory = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    directory.mkdir(parents=True, exist_ok=True)
    controller = Controller(SmtpSink(JsonLines(directory / "smtp.jsonl")), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    server = ThreadingHTTPServer(
        ("127.0.0.1", http_port),
        webhook_handler(Secrets(directory / "webhook_secrets.json"), JsonLines(directory / "webhooks.jsonl")),
    )
    (directory / "ready").write_text("1")
    try:
        server.serve_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
