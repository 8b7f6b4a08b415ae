"""Operators' view of dead letters: list them, and replay them into their queues."""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kombu import Connection, Producer

from beat_shared.amqp import ATTEMPTS_HEADER, ERROR_HEADER, ORIGIN_QUEUE_HEADER, dead_letter_queue_name
from beat_shared.inbox import IdempotentEventHandler


def handler_queues(service_cls: type) -> list[str]:
    """Queue names of a service class's idempotent event handlers (as nameko names them)."""
    names = []
    for method_name, method in inspect.getmembers(service_cls):
        for entrypoint in getattr(method, "nameko_entrypoints", ()):
            if isinstance(entrypoint, IdempotentEventHandler):
                names.append(
                    f"evt-{entrypoint.source_service}-{entrypoint.event_type}--{service_cls.name}.{method_name}"
                )
    return sorted(names)


@dataclass(frozen=True)
class DeadLetter:
    queue: str
    message_id: str | None
    event_type: str | None
    attempts: int | None
    error: str | None


def queue_depth(amqp_uri: str, queue: str) -> int | None:
    """Messages waiting in `queue`, or None if it does not exist."""
    with Connection(amqp_uri, connect_timeout=5) as connection:
        channel = connection.channel()
        try:
            return int(channel.queue_declare(queue=queue, passive=True).message_count)
        except Exception:  # noqa: BLE001 - NOT_FOUND closes the channel; the queue is absent
            return None


def peek(amqp_uri: str, queue: str, limit: int = 20) -> list[DeadLetter]:
    """Read up to `limit` dead letters without removing them (they return to the queue)."""
    letters = []
    with Connection(amqp_uri, connect_timeout=5) as connection:
        channel = connection.channel()
        for _ in range(limit):
            message = channel.basic_get(queue=queue, no_ack=False)
            if message is None:
                break
            headers: dict[str, Any] = message.headers or {}
            body = message.body if isinstance(message.body, bytes) else str(message.body).encode()
            letters.append(
                DeadLetter(
                    queue=queue,
                    message_id=message.properties.get("message_id"),
                    event_type=_event_type(body),
                    attempts=headers.get(ATTEMPTS_HEADER),
                    error=headers.get(ERROR_HEADER),
                )
            )
        channel.close()  # unacknowledged messages go back to the queue
    return letters


def _event_type(body: bytes) -> str | None:
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return parsed.get("type") if isinstance(parsed, dict) else None


def replay(amqp_uri: str, dead_letter_queue: str, limit: int | None = None) -> int:
    """Move dead letters back to the queue they came from, attempts reset; returns the count.

    Each message is republished with a confirm before it is removed from the
    dead-letter queue, so a failure part-way loses nothing.
    """
    moved = 0
    with Connection(amqp_uri, connect_timeout=5, transport_options={"confirm_publish": True}) as connection:
        channel = connection.channel()
        producer = Producer(connection.channel())
        while limit is None or moved < limit:
            message = channel.basic_get(queue=dead_letter_queue, no_ack=False)
            if message is None:
                break
            headers = dict(message.headers or {})
            origin = headers.pop(ORIGIN_QUEUE_HEADER, None) or dead_letter_queue.removesuffix(".dead-letter")
            for key in (ATTEMPTS_HEADER, ERROR_HEADER, "x-death", "x-beat-dead-lettered-at"):
                headers.pop(key, None)
            extra = {"message_id": message.properties["message_id"]} if message.properties.get("message_id") else {}
            producer.publish(
                message.body,
                exchange="",
                routing_key=origin,
                headers=headers,
                content_type=message.properties.get("content_type"),
                content_encoding=message.properties.get("content_encoding"),
                delivery_mode=2,
                **extra,
            )
            channel.basic_ack(message.delivery_tag)
            moved += 1
    return moved


def dead_letter_queues(service_classes: Iterable[type]) -> list[str]:
    return [dead_letter_queue_name(queue) for cls in service_classes for queue in handler_queues(cls)]
