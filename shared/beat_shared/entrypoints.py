"""nameko's RPC and timer entrypoints, settling the worker's transaction before answering, and the
RPC proxy and queue consumer that survive a broker going away under an acknowledgement."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from amqp.exceptions import AMQPError
from kombu.exceptions import KombuError
from kombu.message import Message
from nameko.containers import WorkerContext
from nameko.messaging import QueueConsumer
from nameko.rpc import ReplyListener, Rpc, RpcConsumer, RpcProxy
from nameko.timer import Timer

from beat_shared.db import ExcInfo, settle_unit_of_work

log = logging.getLogger(__name__)


class TolerantQueueConsumer(QueueConsumer):
    """nameko's queue consumer, but a connection lost under an acknowledgement is not fatal.

    nameko ignores py-amqp's ConnectionError there, but a socket reset by a broker going down is
    an OSError: raised in a consumer or a worker's result handler, it killed the whole container
    (an RPC reply acknowledged during a RabbitMQ restart killed notifications). The broker requeues
    whatever a dead connection left unacknowledged, so there is nothing to do but say so."""

    def ack_message(self, message: Message) -> None:
        try:
            super().ack_message(message)
        except OSError as error:
            log.warning("could not acknowledge a message, the connection is gone (%s); it will be redelivered", error)

    def requeue_message(self, message: Message) -> None:
        try:
            super().requeue_message(message)
        except OSError as error:
            log.warning("could not requeue a message, the connection is gone (%s); it will be redelivered", error)


class TolerantRpcConsumer(RpcConsumer):
    queue_consumer = TolerantQueueConsumer()


class TolerantReplyListener(ReplyListener):
    queue_consumer = TolerantQueueConsumer()


class BeatRpcProxy(RpcProxy):
    """nameko's RPC proxy (`concerns = BeatRpcProxy("concerns")`), whose replies are acknowledged
    by the tolerant consumer."""

    rpc_reply_listener = TolerantReplyListener()


class TransactionalRpc(Rpc):
    """`@rpc`, or `@rpc(read_only=True)` for a method that only reads: its session then reads
    without a transaction on PostgreSQL (two round trips fewer per call) and refuses to write."""

    rpc_consumer = TolerantRpcConsumer()

    def __init__(self, read_only: bool = False, **kwargs: Any) -> None:
        self.read_only = read_only
        super().__init__(**kwargs)

    def handle_result(
        self, message: Message, worker_ctx: WorkerContext, result: Any, exc_info: ExcInfo
    ) -> tuple[Any, ExcInfo]:
        exc_info = settle_unit_of_work(worker_ctx, exc_info)
        try:
            return super().handle_result(message, worker_ctx, result, exc_info)
        except (OSError, KombuError, AMQPError) as error:
            # The reply could not be sent (the broker went away). Raised here, in the worker's
            # result handler, it would kill the whole container; the caller times out instead.
            log.warning("could not send the reply of %s (%s)", worker_ctx.entrypoint.method_name, error)
            # Free the request's prefetch slot; on a dead connection the broker requeues it.
            with contextlib.suppress(OSError, KombuError, AMQPError):
                self.rpc_consumer.queue_consumer.ack_message(message)
            return result, exc_info


class TransactionalTimer(Timer):
    def handle_result(self, worker_ctx: WorkerContext, result: Any, exc_info: ExcInfo) -> tuple[Any, ExcInfo]:
        exc_info = settle_unit_of_work(worker_ctx, exc_info)
        return super().handle_result(worker_ctx, result, exc_info)


rpc = TransactionalRpc.decorator
timer = TransactionalTimer.decorator
