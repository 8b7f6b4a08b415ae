"""How an agency's own system consumes its Beat referral feed (any AMQP 0-9-1 client works).

    python agency_subscriber.py AMQP_URI QUEUE BEAT_TOKEN

AMQP_URI and QUEUE are what `beat agency provision <agency>` printed; BEAT_TOKEN is the
agency's bearer token for the referrals API. Each message is a CloudEvents 1.0 JSON
object without personal data; `beat.referral.sent` carries `details_url`, fetched here
with the token. The queue is durable: events wait while the agency's system is down.
Acknowledge only after handling, so nothing is lost; de-duplicate on the event `id`.
The user can only consume: do not declare or bind queues (the broker refuses it).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import pika
import requests


def consume(
    amqp_uri: str, queue: str, handle: Callable[[dict[str, Any]], None], max_messages: int | None = None
) -> int:
    """Handle events from the agency's queue until `max_messages` (or forever); returns how many."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    handled = 0
    try:
        channel = connection.channel()
        channel.basic_qos(prefetch_count=10)
        for method, _properties, body in channel.consume(queue, inactivity_timeout=5):
            if method is None:  # nothing arrived for a while
                if max_messages is not None:
                    break
                continue
            handle(json.loads(body))
            channel.basic_ack(method.delivery_tag)
            handled += 1
            if max_messages is not None and handled >= max_messages:
                break
        channel.cancel()
    finally:
        connection.close()
    return handled


def print_and_fetch(token: str) -> Callable[[dict[str, Any]], None]:
    def handle(event: dict[str, Any]) -> None:
        data = event["data"]
        print(f"{event['time']} {event['type']} referral={data.get('referral_id')} status={data.get('status')}")
        if event["type"] == "beat.referral.sent":
            details = requests.get(data["details_url"], headers={"Authorization": f"Bearer {token}"}, timeout=15)
            details.raise_for_status()
            print("  client details available:", details.json()["client"] is not None)

    return handle


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    consume(sys.argv[1], sys.argv[2], print_and_fetch(sys.argv[3]))
