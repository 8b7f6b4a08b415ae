"""Idempotent consumers: duplicates, retries with delays, dead letters and replay."""

import json
import os
import subprocess
import sys

import pytest
from kombu import Connection, Producer

from beat_shared.amqp import event_exchange
from beat_shared.contracts import new_event
from beat_shared.deadletters import handler_queues, peek, queue_depth, replay
from beat_shared.testing import wait_for
from shared_sample import TallyService, receipts

QUEUE = "evt-ledger-beat.test.entry_recorded--tally.on_entry_recorded"
DEAD_LETTERS = QUEUE + ".dead-letter"


def publish_raw(amqp_uri, body, content_type="application/cloudevents+json"):
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        Producer(connection).publish(
            body if isinstance(body, (bytes, str)) else json.dumps(body),
            exchange=event_exchange("ledger"),
            routing_key="beat.test.entry_recorded",
            content_type=content_type,
            content_encoding="utf-8",
            delivery_mode=2,
        )


def an_event(sequence=1, subject="s"):
    return new_event("beat.test.entry_recorded", subject, {"entry_id": sequence, "sequence": sequence})


def test_duplicate_delivery_changes_nothing_the_second_time(tally, tally_db, rabbit_config):
    event = an_event()
    publish_raw(rabbit_config["AMQP_URI"], event.to_dict())
    wait_for(lambda: len(receipts(tally_db)) == 1, message="first delivery processed")
    publish_raw(rabbit_config["AMQP_URI"], event.to_dict())
    publish_raw(rabbit_config["AMQP_URI"], an_event(sequence=2).to_dict())  # a marker behind the duplicate
    wait_for(lambda: len(receipts(tally_db)) == 2, message="marker processed")
    assert [row.event_id for row in receipts(tally_db)].count(event.id) == 1
    assert TallyService.attempts == 2  # the duplicate never reached the handler


def test_failing_handler_is_retried_then_dead_lettered_then_replayed(tally, tally_db, rabbit_config):
    TallyService.failing = True
    amqp_uri = rabbit_config["AMQP_URI"]
    event = an_event(sequence=9)
    publish_raw(amqp_uri, event.to_dict())
    wait_for(lambda: queue_depth(amqp_uri, DEAD_LETTERS) == 1, message="message dead-lettered")
    assert TallyService.attempts == 3  # BEAT_RETRY_DELAYS has two delays: three attempts in all
    assert receipts(tally_db) == []  # every failed attempt was rolled back
    [letter] = peek(amqp_uri, DEAD_LETTERS)
    assert letter.attempts == 3
    assert "tally is broken" in letter.error

    TallyService.failing = False
    assert replay(amqp_uri, DEAD_LETTERS) == 1
    wait_for(lambda: len(receipts(tally_db)) == 1, message="replayed message processed")
    assert receipts(tally_db)[0].event_id == event.id
    assert queue_depth(amqp_uri, DEAD_LETTERS) == 0


def test_beat_dlq_replay_command_brings_messages_back(tally, tally_db, rabbit_config):
    TallyService.failing = True
    amqp_uri = rabbit_config["AMQP_URI"]
    publish_raw(amqp_uri, an_event(sequence=3).to_dict())
    wait_for(lambda: queue_depth(amqp_uri, DEAD_LETTERS) == 1, message="message dead-lettered")
    TallyService.failing = False
    environment = {**os.environ, "AMQP_URI": amqp_uri}
    listed = subprocess.run(
        [sys.executable, "-m", "beat_shared.cli", "dlq", "list", "--queue", DEAD_LETTERS],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    assert "1 message(s)" in listed.stdout and "tally is broken" in listed.stdout
    replayed = subprocess.run(
        [sys.executable, "-m", "beat_shared.cli", "dlq", "replay", "--queue", DEAD_LETTERS],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert replayed.returncode == 0, replayed.stderr
    assert "replayed 1 message(s)" in replayed.stdout
    wait_for(lambda: len(receipts(tally_db)) == 1, message="replayed message processed")


def test_event_breaking_its_schema_is_dead_lettered_with_the_reason(tally, tally_db, rabbit_config):
    amqp_uri = rabbit_config["AMQP_URI"]
    broken = an_event().to_dict()
    broken["data"] = {"entry_id": "seven"}
    publish_raw(amqp_uri, broken)
    publish_raw(amqp_uri, b"{not json", content_type="application/json")
    publish_raw(amqp_uri, an_event(sequence=5).to_dict())  # the queue keeps moving behind them
    wait_for(lambda: queue_depth(amqp_uri, DEAD_LETTERS) == 2, message="two poison messages dead-lettered")
    wait_for(lambda: len(receipts(tally_db)) == 1, message="good message processed")
    errors = sorted(letter.error for letter in peek(amqp_uri, DEAD_LETTERS))
    assert any("data breaks its schema" in error and "sequence" in error for error in errors)
    assert any("not JSON" in error or "decoded" in error for error in errors)
    assert TallyService.attempts == 1


def test_handler_queues_are_named_from_the_code():
    assert handler_queues(TallyService) == [QUEUE]


def _refuse_connections(database_url, refuse):
    """Make one throw-away database unreachable (existing sessions cut), as a restart does."""
    import psycopg2

    from beat_shared.testing import POSTGRES_ADMIN_URL

    name = database_url.rsplit("/", 1)[-1]
    connection = psycopg2.connect(POSTGRES_ADMIN_URL)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {"false" if refuse else "true"}')
        if refuse:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
    connection.close()


def _handler_outcomes(outcome):
    from prometheus_client import REGISTRY

    labels = {"service": "tally", "handler": "tally.on_entry_recorded", "outcome": outcome}
    return REGISTRY.get_sample_value("beat_events_consumed_total", labels) or 0


@pytest.mark.postgresql_only
def test_a_database_outage_dead_letters_nothing_however_long_it_lasts(tally, tally_db, rabbit_config):
    """PostgreSQL only: the outage is a database server refusing and terminating connections
    (pg_terminate_backend); SQLite is a file in the service's own process, with no server to lose."""
    amqp_uri = rabbit_config["AMQP_URI"]
    publish_raw(amqp_uri, an_event(sequence=1).to_dict())
    wait_for(lambda: len(receipts(tally_db)) == 1, message="first event processed")
    _refuse_connections(tally_db, refuse=True)
    try:
        retried_before, dead_before = _handler_outcomes("retried"), _handler_outcomes("dead_lettered")
        publish_raw(amqp_uri, an_event(sequence=2, subject="during").to_dict())
        # The tests' BEAT_RETRY_DELAYS allow three attempts; three times that many all fail while
        # the database is away, and the message still waits on the last delay.
        wait_for(lambda: _handler_outcomes("retried") - retried_before >= 9, message="nine retries in the outage")
        assert queue_depth(amqp_uri, DEAD_LETTERS) == 0
        assert _handler_outcomes("dead_lettered") == dead_before
    finally:
        _refuse_connections(tally_db, refuse=False)
    publish_raw(amqp_uri, an_event(sequence=3, subject="after").to_dict())
    wait_for(lambda: len(receipts(tally_db)) == 3, timeout=20, message="both events processed after the outage")
    assert sorted(row.sequence for row in receipts(tally_db)) == [1, 2, 3]
    assert queue_depth(amqp_uri, DEAD_LETTERS) == 0


def test_a_connection_reset_under_an_acknowledgement_is_not_fatal():
    from kombu.message import Message

    from beat_shared.inbox import BeatQueueConsumer

    class ResetChannel:
        connection = object()  # still looks alive: the reset shows only when writing
        no_ack_consumers = None

        def basic_ack(self, *args, **kwargs):
            raise ConnectionResetError(104, "Connection reset by peer")

        def basic_reject(self, *args, **kwargs):
            raise ConnectionResetError(104, "Connection reset by peer")

    from beat_shared.entrypoints import BeatRpcProxy, TransactionalRpc

    # The event handlers' consumer, the RPC entrypoints' and the RPC proxies' reply listener (an
    # RPC reply acknowledged during a RabbitMQ restart killed notifications).
    consumers = [
        BeatQueueConsumer(),
        TransactionalRpc.rpc_consumer.queue_consumer,
        BeatRpcProxy.rpc_reply_listener.queue_consumer,
    ]
    for consumer in consumers:
        # The broker takes such messages back itself; the consumer must just not raise.
        consumer.ack_message(Message(body=b"{}", channel=ResetChannel(), delivery_tag=1))
        consumer.requeue_message(Message(body=b"{}", channel=ResetChannel(), delivery_tag=2))


def test_a_failure_is_the_databases_when_its_error_says_so_or_when_it_does_not_answer():
    """The decision that keeps a message out of the dead-letter queue. The error decides even
    when the database answers again by the time it is asked (the last attempts of an outage
    fail just before it ends), and the handler's own errors are told by asking the database."""
    from types import SimpleNamespace

    from sqlalchemy.exc import OperationalError

    from beat_shared.inbox import IdempotentEventHandler

    def failed(error, answers):
        asked = []

        def answer():
            asked.append(True)
            return answers

        handler = SimpleNamespace(database=SimpleNamespace(answers=answer))
        return IdempotentEventHandler._database_failed(handler, (type(error), error, None)), bool(asked)

    refused = OperationalError("SELECT 1", {}, Exception("database is not currently accepting connections"))
    try:
        try:
            raise refused
        except OperationalError as cause:
            raise RuntimeError("the handler could not record its notification") from cause
    except RuntimeError as wrapped:
        chained = wrapped
    assert failed(refused, answers=True) == (True, False)
    assert failed(chained, answers=True) == (True, False)
    assert failed(RuntimeError("tally is broken"), answers=True) == (False, True)
    assert failed(RuntimeError("tally is broken"), answers=False) == (True, True)
