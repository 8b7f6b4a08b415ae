"""Benchmark: the outbox relay (confirmed batches from PostgreSQL) against bare kombu.

Both publish the same 20,000 persistent CloudEvents (~1 KB) to the same topic exchange,
routed to the same durable queue, on a throw-away vhost. The relay reads rows from a
real PostgreSQL outbox, waits for the broker's confirms per batch and marks the rows
published; bare kombu publishes without confirms and reads nothing. Target: relay rate
>= 0.4 x bare kombu. A figure, not a test.

    .venv/bin/python bench/relay.py [--events 20000] [--batch 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path

import psycopg2
import requests
from kombu import Connection, Exchange, Producer, Queue
from marshmallow import Schema, fields
from sqlalchemy import MetaData

from beat_shared.contracts import EventContract, new_event, register
from beat_shared.db import add_platform_tables, make_engine, unit_of_work
from beat_shared.outbox import OutboxRelay

RABBIT_API = os.environ.get("RABBIT_API_URI", "http://guest:guest@127.0.0.1:15672")
AMQP_BASE = os.environ.get("BENCH_AMQP_BASE", "amqp://guest:guest@127.0.0.1:5672")
POSTGRES_ADMIN = os.environ.get("BEAT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RESULTS = Path(__file__).with_name("results.json")


def _admin_sql(statement: str) -> None:
    connection = psycopg2.connect(POSTGRES_ADMIN)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(statement)
    connection.close()


def _vhost(name: str, create: bool) -> None:
    url = f"{RABBIT_API}/api/vhosts/{name}"
    if create:
        requests.put(url, timeout=10).raise_for_status()
        requests.put(
            f"{RABBIT_API}/api/permissions/{name}/guest",
            json={"configure": ".*", "write": ".*", "read": ".*"},
            timeout=10,
        ).raise_for_status()
    else:
        requests.delete(url, timeout=10)


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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()

    run_id = uuid.uuid4().hex[:8]
    vhost, database = f"beat_bench_{run_id}", f"beat_bench_{run_id}"
    amqp_uri = f"{AMQP_BASE}/{vhost}"
    _vhost(vhost, create=True)
    _admin_sql(f'CREATE DATABASE "{database}"')
    database_url = POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{database}"
    engine = make_engine(database_url, pool_size=2)
    try:
        metadata = MetaData()
        add_platform_tables(metadata)
        metadata.create_all(engine)
        outbox = metadata.tables["outbox"]
        events = _events(args.events)
        bodies = [event.to_json() for event in events]
        size = sum(len(body) for body in bodies) / len(bodies)

        exchange = Exchange("bench.events", type="topic", durable=True)  # as the relay declares it
        queue = Queue("bench-sink", exchange=exchange, routing_key="#", durable=True)
        with Connection(amqp_uri) as connection:
            queue(connection.default_channel).declare()

        # 1. Bare kombu, no confirms: the ceiling.
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
            bare_seconds = time.perf_counter() - started
            queue(connection.default_channel).purge()

        # 2. The relay: rows committed in PostgreSQL, published in confirmed batches, marked published.
        with unit_of_work(engine) as session:
            session.execute(
                outbox.insert(),
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
        relay = OutboxRelay("bench", lambda: engine, outbox, amqp_uri, batch_size=args.batch)
        started = time.perf_counter()
        published = 0
        while published < args.events:
            done = relay.publish_pending()
            if done == 0:
                break
            published += done
        relay_seconds = time.perf_counter() - started
        relay.publisher.close()
        with Connection(amqp_uri) as connection:
            depth = connection.default_channel.queue_declare(queue="bench-sink", passive=True).message_count
        if published != args.events or depth != args.events:
            print(f"relay published {published}, queue holds {depth}; expected {args.events}", file=sys.stderr)
            return 1
    finally:
        engine.dispose()
        _admin_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        _vhost(vhost, create=False)

    bare_rate = args.events / bare_seconds
    relay_rate = args.events / relay_seconds
    ratio = relay_rate / bare_rate
    print(f"outbox relay benchmark: {args.events} events of ~{size:.0f} bytes, batch {args.batch}")
    print(f"{'figure':<40}{'rate (msg/s)':>14}")
    print(f"{'bare kombu, no confirms':<40}{bare_rate:>14,.0f}")
    print(f"{'relay: PostgreSQL + confirms per batch':<40}{relay_rate:>14,.0f}")
    print(f"ratio relay / bare: {ratio:.2f}  (target >= 0.40: {'met' if ratio >= 0.4 else 'MISSED'})")
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["relay"] = {
        "events": args.events,
        "batch": args.batch,
        "bare_kombu_per_second": round(bare_rate),
        "relay_per_second": round(relay_rate),
        "ratio": round(ratio, 3),
        "target_ratio": 0.4,
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
