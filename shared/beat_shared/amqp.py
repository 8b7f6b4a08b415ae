"""RabbitMQ plumbing: exchanges, consumer topology, and a publisher that confirms in batches."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import amqp
from amqp import spec
from kombu import Connection, Exchange, Queue
from kombu.serialization import register as register_serializer

CLOUDEVENTS_CONTENT_TYPE = "application/cloudevents+json"

# Structured-mode CloudEvents travel with their own content type; teach kombu to read it.
register_serializer(
    "cloudevents",
    lambda value: json.dumps(value, separators=(",", ":")),
    lambda raw: json.loads(raw),
    content_type=CLOUDEVENTS_CONTENT_TYPE,
    content_encoding="utf-8",
)
ACCEPTED_CONTENT = ["json", "cloudevents"]

ATTEMPTS_HEADER = "x-beat-attempts"
ERROR_HEADER = "x-beat-error"
ORIGIN_QUEUE_HEADER = "x-beat-origin-queue"
DEAD_AT_HEADER = "x-beat-dead-lettered-at"
REQUEST_ID_HEADER = "x-request-id"


def event_exchange(service: str) -> Exchange:
    """The topic exchange a service publishes its events on (as nameko declares it)."""
    return Exchange(f"{service}.events", type="topic", durable=True, delivery_mode=2)


def retry_queue_name(queue: str, delay_seconds: float) -> str:
    return f"{queue}.retry.{int(delay_seconds * 1000)}ms"


def dead_letter_queue_name(queue: str) -> str:
    return f"{queue}.dead-letter"


def queue_arguments(queue_type: str) -> dict[str, Any]:
    if queue_type not in ("classic", "quorum"):
        raise ValueError(f"BEAT_QUEUE_TYPE must be classic or quorum, not {queue_type!r}")
    return {"x-queue-type": queue_type}


@dataclass(frozen=True)
class ConsumerTopology:
    """A consumer queue with one delay queue per retry and a dead-letter queue.

    A failed message is published to the delay queue of its attempt; when its TTL
    runs out RabbitMQ dead-letters it back to the consumer queue. Queues per delay
    (not a per-message TTL) keep a long delay from holding up a short one.
    """

    queue: str
    delays: tuple[float, ...]
    queue_type: str = "classic"

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1

    @property
    def dead_letter_queue(self) -> str:
        return dead_letter_queue_name(self.queue)

    def retry_queue_for(self, attempt: int) -> str:
        """The delay queue after failed attempt number `attempt` (1-based)."""
        return retry_queue_name(self.queue, self.delays[attempt - 1])

    def queues(self) -> list[Queue]:
        args = queue_arguments(self.queue_type)
        declared = [Queue(self.dead_letter_queue, durable=True, queue_arguments=args)]
        for delay in self.delays:
            retry_args = {
                **args,
                "x-message-ttl": int(delay * 1000),
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": self.queue,
            }
            declared.append(Queue(retry_queue_name(self.queue, delay), durable=True, queue_arguments=retry_args))
        return declared

    def declare(self, amqp_uri: str) -> None:
        with Connection(amqp_uri, connect_timeout=5) as connection:
            channel = connection.default_channel
            for queue in self.queues():
                queue.declare(channel=channel)


class PublishNotConfirmed(Exception):
    """The broker refused (nacked) a message or did not confirm it in time."""


@dataclass
class OutgoingMessage:
    exchange: str
    routing_key: str
    body: bytes
    content_type: str = CLOUDEVENTS_CONTENT_TYPE
    message_id: str | None = None
    headers: Mapping[str, Any] = field(default_factory=dict)


class ConfirmingPublisher:
    """Publishes a batch, then waits once for the broker to confirm all of it.

    Waiting per message caps throughput at one round trip per message; waiting per
    batch keeps the guarantee (nothing counts as published until confirmed).
    """

    def __init__(self, amqp_uri: str, confirm_timeout: float = 30.0) -> None:
        self.amqp_uri = amqp_uri
        self.confirm_timeout = confirm_timeout
        self._connection: Connection | None = None
        self._channel: Any = None
        self._next_tag = 1
        self._unconfirmed: set[int] = set()
        self._lowest_unconfirmed = 1
        self._nacked = False
        self._declared: set[str] = set()

    def _open(self) -> Any:
        if self._channel is not None and self._connection is not None and self._connection.connected:
            return self._channel
        self.close()
        self._connection = Connection(self.amqp_uri, connect_timeout=5, heartbeat=0)
        self._connection.connect()
        channel = self._connection.channel()
        channel.confirm_select()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        self._channel, self._next_tag, self._declared = channel, 1, set()
        self._lowest_unconfirmed = 1
        return channel

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        if multiple:
            # Tags are consecutive: walk up from the lowest still unconfirmed (amortised O(1)).
            for tag in range(self._lowest_unconfirmed, delivery_tag + 1):
                self._unconfirmed.discard(tag)
            self._lowest_unconfirmed = max(self._lowest_unconfirmed, delivery_tag + 1)
        else:
            self._unconfirmed.discard(delivery_tag)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._nacked = True
        self._on_ack(delivery_tag, multiple)

    def declare_exchanges(self, exchanges: Iterable[Exchange]) -> None:
        channel = self._open()
        for exchange in exchanges:
            if exchange.name not in self._declared:
                exchange.declare(channel=channel)
                self._declared.add(exchange.name)

    def publish(self, messages: list[OutgoingMessage]) -> None:
        """Publish and wait for confirms; raises on nack, timeout or connection loss."""
        self.send(messages)
        self.wait_for_confirms()

    def send(self, messages: list[OutgoingMessage]) -> None:
        """Publish without waiting; `wait_for_confirms` then waits for all sent so far."""
        if not messages:
            return
        channel = self._open()
        for message in messages:
            properties: dict[str, Any] = {
                "content_type": message.content_type,
                "content_encoding": "utf-8",
                "delivery_mode": 2,
            }
            if message.headers:
                properties["application_headers"] = dict(message.headers)
            if message.message_id:
                properties["message_id"] = message.message_id
            self._unconfirmed.add(self._next_tag)
            self._next_tag += 1
            # basic.publish sent as py-amqp's basic_publish sends it, without its check before
            # every message: a non-blocking read (two settimeout calls, a recv, an exception) for
            # a connection.blocked notice, a quarter of the relay's time (py-spy). The acks and any
            # such notice are read in wait_for_confirms; a blocked broker then holds that wait.
            channel.send_method(
                spec.Basic.Publish,
                "Bssbb",
                (0, message.exchange, message.routing_key, False, False),
                amqp.Message(message.body, **properties),
            )

    def wait_for_confirms(self) -> None:
        """Wait until the broker confirmed everything sent; raises on nack or timeout."""
        if self._connection is None:
            if self._unconfirmed:
                raise PublishNotConfirmed("the connection closed before the broker confirmed")
            return
        deadline = time.monotonic() + self.confirm_timeout
        while self._unconfirmed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.close()
                raise PublishNotConfirmed("broker did not confirm the batch in time")
            try:
                self._connection.drain_events(timeout=min(remaining, 1.0))
            except TimeoutError:
                continue
        if self._nacked:
            self._nacked = False
            raise PublishNotConfirmed("broker refused part of the batch")

    def close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        self._unconfirmed = set()
        if connection is not None:
            with contextlib.suppress(Exception):  # closing a broken connection may fail; nothing to do
                connection.release()
