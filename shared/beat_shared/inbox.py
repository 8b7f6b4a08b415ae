"""Idempotent, retrying event handlers (the inbox side of the outbox).

``@event_handler("concerns", "beat.concern.resolved")`` works like nameko's, with
these differences:

* the handler receives a validated :class:`CloudEvent`; a message that is not a
  valid event of its contract goes straight to the dead-letter queue with the reason;
* the event id is recorded in ``processed_events`` in the same transaction as the
  handler's effects, and an event already recorded is acknowledged and skipped;
* a handler that raises is retried after increasing delays (delay queues with TTL,
  never a hot requeue), and after the last attempt the message is moved to the
  dead-letter queue with the error: nothing is acknowledged and dropped; when the
  database made it fail (an operational error, or no answer), the last attempt is retried
  on the longest delay instead, so an outage of any length dead-letters nothing.
"""

from __future__ import annotations

import json
import logging
import sys
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from kombu import Connection, Producer
from kombu.message import Message
from nameko.containers import WorkerContext
from nameko.events import SERVICE_POOL, EventHandler
from nameko.exceptions import ContainerBeingKilled
from sqlalchemy import bindparam, select
from sqlalchemy.exc import DisconnectionError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from beat_shared.amqp import (
    ACCEPTED_CONTENT,
    ATTEMPTS_HEADER,
    DEAD_AT_HEADER,
    ERROR_HEADER,
    ORIGIN_QUEUE_HEADER,
    REQUEST_ID_HEADER,
    ConsumerTopology,
    queue_arguments,
)
from beat_shared.config import retry_delays, setting_from
from beat_shared.contracts.envelope import CloudEvent, parse_event
from beat_shared.db import Database, ExcInfo, find_database, settle_unit_of_work
from beat_shared.entrypoints import TolerantQueueConsumer
from beat_shared.errors import ContractViolation
from beat_shared.logs import request_id_var
from beat_shared.metrics import EVENTS_CONSUMED

log = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 2000
# Errors of reaching or running the database (SQLAlchemy's wrappers of the driver's).
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)


class BeatQueueConsumer(TolerantQueueConsumer):
    """The tolerant queue consumer, and an undecodable message is dead-lettered, not fatal."""

    @property
    def accept(self) -> list[str]:
        return sorted({*self.container.accept, *ACCEPTED_CONTENT})

    def get_consumers(self, consumer_cls: Any, channel: Any) -> Any:
        consumers = super().get_consumers(consumer_cls, channel)
        for provider, consumer in self._consumers.items():
            consumer.on_decode_error = partial(provider.handle_undecodable)
        return consumers


class SubjectLanes:
    """At most one worker per subject at a time, started in arrival order.

    The relay publishes in order per subject and the queue keeps that order, but
    concurrent workers could finish out of order; a lane per subject prevents it
    while different subjects still run in parallel. (Green threads switch only at
    I/O, so this bookkeeping needs no lock.)
    """

    def __init__(self) -> None:
        self._waiting: dict[str, deque[Callable[[], None]]] = {}

    def submit(self, subject: str, start: Callable[[], None]) -> None:
        lane = self._waiting.get(subject)
        if lane is None:
            self._waiting[subject] = deque()
            start()
        else:
            lane.append(start)

    def finished(self, subject: str) -> None:
        lane = self._waiting.get(subject)
        if lane:
            lane.popleft()()
        else:
            self._waiting.pop(subject, None)

    def __len__(self) -> int:
        return len(self._waiting)


class IdempotentEventHandler(EventHandler):
    queue_consumer = BeatQueueConsumer()

    def __init__(self, source_service: str, event_type: str, **kwargs: Any) -> None:
        super().__init__(source_service, event_type, handler_type=SERVICE_POOL, reliable_delivery=True, **kwargs)

    @property
    def handler_name(self) -> str:
        return f"{self.container.service_name}.{self.method_name}"

    def setup(self) -> None:
        super().setup()
        config = self.container.config
        queue_type = setting_from(config, "BEAT_QUEUE_TYPE")
        self.queue.queue_arguments = queue_arguments(queue_type)
        self.topology = ConsumerTopology(self.queue.name, tuple(retry_delays(config)), queue_type)
        self.amqp_uri = config["AMQP_URI"]
        self.topology.declare(self.amqp_uri)
        database = find_database(self.container)
        if database is None:
            raise RuntimeError("idempotent event handlers need a Database dependency")
        self.database: Database = database
        self.lanes = SubjectLanes()
        # Built once: every event runs both, and building a statement (and its cache key) costs
        # more than a row's parameters.
        processed = database.metadata.tables["processed_events"]
        self._find_processed = select(processed.c.id).where(
            processed.c.event_id == bindparam("event_id"), processed.c.handler == bindparam("handler")
        )
        self._insert_processed = processed.insert()

    # --- receiving -------------------------------------------------------------------

    def handle_message(self, body: Any, message: Message) -> None:
        try:
            event = parse_event(body)
        except ContractViolation as violation:
            detail = f"{violation.message}: {json.dumps(violation.details)}" if violation.details else violation.message
            self._dead_letter(message, detail)
            return
        self.lanes.submit(event.subject, partial(self._start, message, event))

    def _start(self, message: Message, event: CloudEvent) -> None:
        try:
            seen = self._already_processed(event.id)
        except Exception as error:  # noqa: BLE001 - e.g. the database restarting
            # This runs in the consumer's thread: an exception here would kill the whole
            # container. Run the worker instead; if the database is still away it fails and
            # is retried with a delay, and if the event was processed after all, the unique
            # (event id, handler) constraint turns it into a duplicate that is acknowledged.
            log.warning("%s could not check event %s for a duplicate (%s)", self.handler_name, event.id, error)
            seen = False
        if seen:
            EVENTS_CONSUMED.labels(self.container.service_name, self.handler_name, "duplicate").inc()
            self.queue_consumer.ack_message(message)
            self.lanes.finished(event.subject)
            return
        context_data = self.unpack_message_headers(message)
        request_id = (message.headers or {}).get(REQUEST_ID_HEADER)
        try:
            self.container.spawn_worker(
                self,
                (event,),
                {},
                context_data=context_data,
                handle_result=partial(self._finish, message, event, request_id),
            )
        except ContainerBeingKilled:
            self.queue_consumer.requeue_message(message)
            self.lanes.finished(event.subject)

    def handle_undecodable(self, message: Message, error: Exception) -> None:
        self._dead_letter(message, f"message body could not be decoded: {error}")

    def _already_processed(self, event_id: str) -> bool:
        """One read, no transaction: the unique (event id, handler) row the worker inserts in its
        own transaction is what guarantees exactly once; this only spares a duplicate the work."""
        with self.database.reading() as session:
            found = session.execute(self._find_processed, {"event_id": event_id, "handler": self.handler_name}).first()
        return found is not None

    # --- finishing -------------------------------------------------------------------

    def _finish(
        self,
        message: Message,
        event: CloudEvent,
        request_id: str | None,
        worker_ctx: WorkerContext,
        result: Any,
        exc_info: ExcInfo,
    ) -> tuple[Any, ExcInfo]:
        request_id_var.set(request_id)
        if exc_info is None:
            try:
                self._record_processed(worker_ctx, event)
            except Exception:  # noqa: BLE001 - the database went away: a failed attempt, retried
                exc_info = sys.exc_info()  # type: ignore[assignment]
        exc_info = settle_unit_of_work(worker_ctx, exc_info)
        if exc_info is None:
            EVENTS_CONSUMED.labels(self.container.service_name, self.handler_name, "processed").inc()
            self.queue_consumer.ack_message(message)
        elif isinstance(exc_info[1], IntegrityError) and "processed_event" in str(exc_info[1]):
            # A concurrent redelivery won the race; its effects are already committed.
            EVENTS_CONSUMED.labels(self.container.service_name, self.handler_name, "duplicate").inc()
            self.queue_consumer.ack_message(message)
            exc_info = None
        else:
            self._retry_or_dead_letter(message, exc_info)
        self.lanes.finished(event.subject)
        return result, exc_info

    def _record_processed(self, worker_ctx: WorkerContext, event: CloudEvent) -> None:
        session = self.database.session_for(worker_ctx)
        if session is None:  # the handler never touched the database
            session = self.database.get_dependency(worker_ctx)
        session.execute(
            self._insert_processed,
            {
                "event_id": event.id,
                "handler": self.handler_name,
                "event_type": event.type,
                "processed_at": datetime.now(UTC),
            },
        )

    def _retry_or_dead_letter(self, message: Message, exc_info: ExcInfo) -> None:
        assert exc_info is not None
        error = f"{exc_info[0].__name__}: {exc_info[1]}"[:MAX_ERROR_LENGTH]
        attempt = int((message.headers or {}).get(ATTEMPTS_HEADER, 0)) + 1
        if attempt >= self.topology.max_attempts:
            if not self._database_failed(exc_info):
                self._dead_letter(message, error, attempt)
                return
            # An outage is not the message's fault: rather than dead-letter every message that
            # arrives while the database is away, the last attempt is retried on the longest
            # delay for as long as the outage lasts.
            attempt = self.topology.max_attempts - 1
        log.warning("handler %s failed (attempt %d): %s", self.handler_name, attempt, error)
        headers = {**(message.headers or {}), ATTEMPTS_HEADER: attempt, ERROR_HEADER: error}
        self._forward(message, self.topology.retry_queue_for(attempt), headers)
        EVENTS_CONSUMED.labels(self.container.service_name, self.handler_name, "retried").inc()

    def _database_failed(self, exc_info: ExcInfo) -> bool:
        """Whether the database, not the message, made the attempt fail: an error reaching or
        running it anywhere in the exception's chain (refused or lost connections, a restart, a
        timeout, a deadlock), or a database that does not answer now. The error alone decides
        the attempts that fail as the database comes back, when it answers again."""
        error: BaseException | None = exc_info[1] if exc_info else None
        while error is not None:
            if isinstance(error, DATABASE_UNAVAILABLE):
                return True
            error = error.__cause__ or error.__context__
        return not self.database.answers()

    def _dead_letter(self, message: Message, reason: str, attempts: int | None = None) -> None:
        log.error("dead-lettering a message of %s: %s", self.queue.name, reason)
        headers = {
            **(message.headers or {}),
            ERROR_HEADER: reason[:MAX_ERROR_LENGTH],
            ORIGIN_QUEUE_HEADER: self.queue.name,
            DEAD_AT_HEADER: datetime.now(UTC).isoformat(),
        }
        if attempts is not None:
            headers[ATTEMPTS_HEADER] = attempts
        self._forward(message, self.topology.dead_letter_queue, headers)
        EVENTS_CONSUMED.labels(self.container.service_name, self.handler_name, "dead_lettered").inc()

    def _forward(self, message: Message, queue: str, headers: dict[str, Any]) -> None:
        """Publish a copy (confirmed) to another queue, then acknowledge the original.

        If the copy cannot be published the original is requeued instead, so the
        message is never lost; the broker redelivers it.
        """
        headers.pop("x-death", None)  # the broker's own bookkeeping; it grows on every loop
        message_id = message.properties.get("message_id")
        extra = {"message_id": message_id} if message_id else {}
        body, encoding = _raw_body(message)
        try:
            with Connection(self.amqp_uri, transport_options={"confirm_publish": True}) as connection:
                Producer(connection).publish(
                    body,
                    exchange="",
                    routing_key=queue,
                    headers=headers,
                    content_type=message.content_type,
                    content_encoding=encoding,
                    delivery_mode=2,
                    retry=True,
                    retry_policy={"max_retries": 3},
                    **extra,
                )
        except Exception:
            log.exception("could not move a message to %s; requeueing it", queue)
            self.queue_consumer.requeue_message(message)
            return
        self.queue_consumer.ack_message(message)


def _raw_body(message: Message) -> tuple[bytes, str | None]:
    """The body as bytes, to be copied as it came. A body the client library handed over as
    text is encoded back with its content encoding; one whose encoding is no codec (kombu
    labels raw bytes "binary") as UTF-8. Re-publishing such a body as text once failed on
    every attempt, so the poison message was requeued in a hot loop instead of dead-lettered."""
    body, encoding = message.body, message.content_encoding
    if isinstance(body, bytes):
        return body, encoding
    try:
        return body.encode(encoding or "utf-8"), encoding
    except (LookupError, UnicodeError):
        return body.encode("utf-8", "surrogateescape"), "utf-8"


event_handler = IdempotentEventHandler.decorator
