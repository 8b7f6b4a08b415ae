"""An agency's own consumer of its Beat referral feed, using only pika and the CloudEvents SDK.

It consumes the agency's queue with the agency's own RabbitMQ credentials, parses each
message as a CloudEvent, fetches the referral's details with the agency's bearer token,
records the event, and only then acknowledges it. If the broker goes away it reconnects
and carries on: unacknowledged messages are redelivered, and events already recorded are
skipped (the event id is stable across redeliveries).

    python subscriber.py --amqp-url amqp://agency-x:PASSWORD@beat.example:5672/%2F \
        --queue agency.agency-x --token AGENCY_TOKEN --record received.jsonl
"""

from __future__ import annotations

import argparse
import json
import logging
import time
import urllib.request
from pathlib import Path
from typing import Any

import pika
from cloudevents.core.bindings.rabbitmq import RabbitMQMessage, from_rabbitmq
from cloudevents.core.formats.json import JSONFormat

log = logging.getLogger("agency-subscriber")


def fetch_details(url: str, token: str) -> dict[str, Any]:
    """The referral as the agency may see it (personal data only while consent is valid)."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.load(response)


class Recorder:
    """Remembers processed event ids in the output file, so redeliveries are skipped."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen = {json.loads(line)["id"] for line in path.read_text().splitlines()} if path.exists() else set()

    def record(self, event_id: str, event_type: str, data: dict[str, Any], details: dict[str, Any] | None) -> None:
        with self.path.open("a") as output:
            output.write(json.dumps({"id": event_id, "type": event_type, "data": data, "details": details}) + "\n")
        self.seen.add(event_id)


def process(body: bytes, properties: pika.BasicProperties, token: str | None, recorder: Recorder) -> None:
    event = from_rabbitmq(
        RabbitMQMessage(headers=properties.headers or {}, content_type=properties.content_type, body=body),
        JSONFormat(),
    )
    if event.get_id() in recorder.seen:
        log.info("already processed %s", event.get_id())
        return
    data = event.get_data() or {}
    details = fetch_details(data["details_url"], token) if token and data.get("details_url") else None
    log.info("%s for referral %s", event.get_type(), data.get("referral_id"))
    recorder.record(event.get_id(), event.get_type(), data, details)


def run(amqp_url: str, queue: str, token: str | None, recorder: Recorder, max_events: int | None) -> int:
    handled, backoff = 0, 1.0
    while max_events is None or handled < max_events:
        try:
            connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
            channel = connection.channel()
            channel.basic_qos(prefetch_count=10)
            backoff = 1.0
            for method, properties, body in channel.consume(queue, inactivity_timeout=1.0):
                if method is None:
                    continue  # idle; lets the loop notice a closed connection
                process(body, properties, token, recorder)
                channel.basic_ack(method.delivery_tag)  # only after the work is recorded
                handled += 1
                if max_events is not None and handled >= max_events:
                    break
            connection.close()
        except pika.exceptions.AMQPConnectionError as error:
            log.warning("broker unavailable (%s); reconnecting in %.0fs", error, backoff)
            time.sleep(backoff)
            backoff = min(backoff * 2, 30.0)
    return handled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--amqp-url", required=True, help="amqp://USER:PASSWORD@HOST:5672/VHOST")
    parser.add_argument("--queue", required=True, help="agency.<your agency id>")
    parser.add_argument("--token", help="your agency bearer token, to fetch referral details")
    parser.add_argument("--record", default="received.jsonl", help="where processed events are written")
    parser.add_argument("--max-events", type=int, help="stop after this many (default: run forever)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    run(args.amqp_url, args.queue, args.token, Recorder(Path(args.record)), args.max_events)


if __name__ == "__main__":
    main()
