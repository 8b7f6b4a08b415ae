"""A minimal receiver of Beat's webhooks: verifies Standard Webhooks signatures, de-duplicates.

Each delivery's body is a Standard Webhooks payload, not a CloudEvent:

    {"id": "<the CloudEvent id>", "type": "beat.referral.sent",
     "timestamp": "<the CloudEvent time>", "data": {<the event's data, as in asyncapi.json>}}

Beat signs every delivery (`webhook-id`, `webhook-timestamp`, `webhook-signature`) with the
secret you registered (`whsec_...`). This receiver refuses anything whose signature does not
verify or whose timestamp is more than five minutes off (the `standardwebhooks` package checks
both), and treats a `webhook-id` it has already processed as done (Beat delivers at least once).

    python receiver.py --secret whsec_... --port 8080 --record deliveries.jsonl
"""

from __future__ import annotations

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class DeliveryLog:
    """Processed webhook ids, kept in the record file so a restart still de-duplicates."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.seen = (
            {json.loads(line)["webhook_id"] for line in path.read_text().splitlines()} if path.exists() else set()
        )

    def accept(self, webhook_id: str, event: Any) -> bool:
        """Record a delivery (`event`: its verified payload, id/type/timestamp/data); False if
        this id was processed before."""
        with self.lock:
            if webhook_id in self.seen:
                return False
            with self.path.open("a") as output:
                output.write(json.dumps({"webhook_id": webhook_id, "event": event}) + "\n")
            self.seen.add(webhook_id)
            return True


def make_handler(webhook: Webhook, deliveries: DeliveryLog) -> type[BaseHTTPRequestHandler]:
    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                event = webhook.verify(body, {key.lower(): value for key, value in self.headers.items()})
            except WebhookVerificationError as error:
                self._answer(401, {"error": f"signature refused: {error}"})
                return
            fresh = deliveries.accept(self.headers["webhook-id"], event)
            self._answer(200, {"status": "accepted" if fresh else "duplicate"})

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Receiver


def serve(secret: str, port: int, record: Path) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(Webhook(secret), DeliveryLog(record)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--secret", required=True, help="the whsec_... secret you registered with Beat")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--record", default="deliveries.jsonl")
    args = parser.parse_args()
    server = serve(args.secret, args.port, Path(args.record))
    print(f"listening on http://127.0.0.1:{server.server_port}/", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
