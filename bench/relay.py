"""Benchmark: the outbox relay (confirmed batches from PostgreSQL) against bare kombu.

Both publish the same 20,000 persistent CloudEvents (~1 KB) to the same topic exchange,
routed to the same durable queue, on a throw-away vhost. The relay reads rows from a
real PostgreSQL outbox, waits for the broker's confirms per batch and marks the rows
published; bare kombu publishes without confirms and reads nothing. Target: relay rate
>= 0.4 x bare kombu. A figure, not a test.

    .venv/bin/python bench/relay.py [--events 20000] [--batch 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time

from common import Row, Runs, Sandbox, record
from kombu import Connection, Exchange, Producer, Queue
from marshmallow import Schema, fields
from sqlalchemy import MetaData

from beat_shared.contracts import EventContract, new_event, register
from beat_shared.db import add_platform_tables, make_engine, unit_of_work
from beat_shared.outbox import OutboxRelay

TARGET_RATIO = 0.4


class PaddedEvent(Schema):
    concern_id = fields.String(required=True)
    status = fields.String(required=True)
    padding = fields.String(required=True)


register(EventContract("beat.bench.padded", "bench", PaddedEvent, description="benchmark only"))


def _events(count: int) -> list:
    """About 1 KB each with their envelope, like the ceilings measured in STACK.md."""
    padding = "x" * 640
    return [
        new_event(
            "beat.bench.padded",
            f"concern-{n % 500}",
            {"concern_id": f"concern-{n % 500}", "status": "in_progress", "padding": padding},
        )
        for n in range(count)
    ]


def bare_kombu(amqp_uri: str, exchange: Exchange, queue: Queue, events: list, bodies: list[str]) -> float:
    """Seconds to publish every message without confirms: the ceiling."""
    with Connection(amqp_uri) as connection:
        producer = Producer(connection.default_channel)
        started = time.perf_counter()
        for event, body in zip(events, bodies, strict=True):
            producer.publish(
                body,
                exchange=exchange,
                routing_key=event.type,
                content_type="application/cloudevents+json",
                content_encoding="utf-8",
                delivery_mode=2,
                message_id=event.id,
            )
        seconds = time.perf_counter() - started
        queue(connection.default_channel).purge()
    return seconds


def relay_run(amqp_uri: str, engine: object, outbox: object, events: list, bodies: list[str], batch: int) -> float:
    """Seconds for the relay to publish committed rows in confirmed batches and mark them published."""
    with unit_of_work(engine) as session:  # type: ignore[arg-type]
        session.execute(
            outbox.insert(),  # type: ignore[attr-defined]
            [
                {
                    "event_id": event.id,
                    "event_type": event.type,
                    "subject": event.subject,
                    "body": body,
                    "headers": "{}",
                    "created_at": events[0].time,
                }
                for event, body in zip(events, bodies, strict=True)
            ],
        )
    relay = OutboxRelay("bench", lambda: engine, outbox, amqp_uri, batch_size=batch)  # type: ignore[arg-type]
    started = time.perf_counter()
    published = 0
    while published < len(events):
        done = relay.publish_pending()
        if done == 0:
            break
        published += done
    seconds = time.perf_counter() - started
    relay.publisher.close()
    relay._release_leadership()
    with Connection(amqp_uri) as connection:
        depth = connection.default_channel.queue_declare(queue="bench-sink", passive=True).message_count
        connection.default_channel.queue_purge("bench-sink")
    if published != len(events) or depth != len(events):
        raise RuntimeError(f"relay published {published}, queue held {depth}; expected {len(events)}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    bare, relay = Runs(), Runs()
    with Sandbox("relay") as sandbox:
        engine = make_engine(sandbox.database("outbox"), pool_size=2)
        try:
            metadata = MetaData()
            add_platform_tables(metadata)
            metadata.create_all(engine)
            outbox = metadata.tables["outbox"]
            exchange = Exchange("bench.events", type="topic", durable=True)  # as the relay declares it
            queue = Queue("bench-sink", exchange=exchange, routing_key="#", durable=True)
            with Connection(sandbox.amqp_uri) as connection:
                queue(connection.default_channel).declare()
            for _ in range(args.repeat):  # alternating, so that both see the same background load
                events = _events(args.events)
                bodies = [event.to_json() for event in events]
                bare.add(args.events / bare_kombu(sandbox.amqp_uri, exchange, queue, events, bodies))
                relay.add(args.events / relay_run(sandbox.amqp_uri, engine, outbox, events, bodies, args.batch))
                print(f"bare kombu {bare.values[-1]:,.0f}/s, relay {relay.values[-1]:,.0f}/s", flush=True)
            size = sum(len(body) for body in bodies) / len(bodies)
        finally:
            engine.dispose()

    ratio = relay.best / bare.best
    print(f"outbox relay: {args.events} events of ~{size:.0f} bytes, batch {args.batch}; ratio {ratio:.2f}")
    rows = [
        Row(
            f"outbox relay: {args.events:,} events/s with confirms",
            relay.best,
            "msg/s",
            f">= {TARGET_RATIO} x bare",
            ratio >= TARGET_RATIO,
            reference=bare.best,
            ratio=ratio,
            spread=f"relay {relay.spread()}; bare {bare.spread()}",
        )
    ]
    details = {
        "events": args.events,
        "event_bytes": round(size),
        "batch": args.batch,
        "bare_kombu_per_second": bare.as_dict(),
        "relay_per_second": relay.as_dict(),
        "reference": "bare kombu publishing the same messages without confirms, same vhost and queue",
    }
    record("relay", rows, details)
    return 0


if __name__ == "__main__":
    sys.exit(main())
