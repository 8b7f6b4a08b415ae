"""A real consumer given arbitrary payloads: every one is dead-lettered with its reason, none
crashes the consumer or blocks the queue, and a real event behind them is processed once."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kombu import Connection, Producer, Queue
from security_scenario import concern_body
from sqlalchemy import text

from beat_shared.amqp import ERROR_HEADER, ORIGIN_QUEUE_HEADER
from beat_shared.db import make_engine
from beat_shared.inbox import IdempotentEventHandler
from beat_shared.testing import wait_for

CONTENT_TYPES = ["application/json", "application/cloudevents+json", "text/plain", "application/x-nobody-knows"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=12,
)
almost_events = st.fixed_dictionaries(
    {
        "specversion": st.sampled_from(["1.0", "0.3", ""]),
        "id": st.uuids().map(str) | st.text(max_size=10),
        "source": st.sampled_from(["/beat/concerns", "/beat/referrals", "concerns"]),
        "type": st.sampled_from(["beat.concern.submitted", "beat.nothing", "Beat.Concern"]),
        "time": st.sampled_from(["2026-03-02T09:00:00Z", "yesterday", "2026-03-02T09:00:00"]),
        "subject": st.text(max_size=5),
        "datacontenttype": st.just("application/json"),
        "dataschema": st.just("https://beat.example/schemas/x.json"),
        "data": st.dictionaries(st.text(max_size=10), json_values, max_size=4),
    }
)
payloads = st.tuples(
    st.one_of(
        st.binary(max_size=120),
        json_values.map(lambda value: json.dumps(value).encode()),
        almost_events.map(lambda value: json.dumps(value).encode()),
    ),
    st.sampled_from(CONTENT_TYPES),
)


def generated(count: int) -> list[tuple[bytes, str]]:
    found: list[tuple[bytes, str]] = []

    @settings(max_examples=count, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(payloads)
    def collect(payload):
        found.append(payload)

    collect()
    return found


def queue_depth(amqp_uri: str, name: str) -> int:
    with Connection(amqp_uri) as connection:
        return Queue(name).bind(connection.default_channel).queue_declare(passive=True).message_count


def test_arbitrary_payloads_are_dead_lettered_and_the_queue_moves_on(start_world):
    world = start_world(services=("concerns", "surveys"))
    handler = next(
        entrypoint
        for entrypoint in world.containers["surveys"].entrypoints
        if isinstance(entrypoint, IdempotentEventHandler) and entrypoint.method_name == "on_concern_submitted"
    )
    junk = generated(40)
    with Connection(world.amqp_uri, transport_options={"confirm_publish": True}) as connection:
        producer = Producer(connection)
        for body, content_type in junk:
            producer.publish(body, exchange="", routing_key=handler.queue.name, content_type=content_type)
    dead_letters = handler.topology.dead_letter_queue
    wait_for(lambda: queue_depth(world.amqp_uri, dead_letters) >= len(junk), timeout=30, message="all dead-lettered")
    with Connection(world.amqp_uri) as connection:
        queue = Queue(dead_letters).bind(connection.default_channel)
        reasons = []
        while (message := queue.get(no_ack=True)) is not None:
            reasons.append(message.headers[ERROR_HEADER])
            assert message.headers[ORIGIN_QUEUE_HEADER] == handler.queue.name
    assert len(reasons) == len(junk) and all(reasons), reasons
    assert world.containers["surveys"]._died.ready() is False  # the container is alive

    # The queue is not blocked: a real event behind the junk is processed, once.
    submitted = world.call("concerns", "POST", "/concerns", json=concern_body()).json()["concern"]["id"]
    engine = make_engine(world.databases["surveys"], pool_size=1)

    def processed() -> int:
        with engine.connect() as connection:
            query = "SELECT count(*) FROM processed_events WHERE handler = 'surveys.on_concern_submitted'"
            return int(connection.execute(text(query)).scalar_one())

    try:
        wait_for(lambda: processed() == 1, timeout=20, message=f"surveys processed the event of {submitted}")
    finally:
        engine.dispose()
    assert queue_depth(world.amqp_uri, handler.queue.name) == 0
