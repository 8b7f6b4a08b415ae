"""nameko's RPC and timer entrypoints, settling the worker's transaction before answering."""

from __future__ import annotations

from typing import Any

from kombu.message import Message
from nameko.containers import WorkerContext
from nameko.rpc import Rpc
from nameko.timer import Timer

from beat_shared.db import ExcInfo, settle_unit_of_work


class TransactionalRpc(Rpc):
    def handle_result(
        self, message: Message, worker_ctx: WorkerContext, result: Any, exc_info: ExcInfo
    ) -> tuple[Any, ExcInfo]:
        exc_info = settle_unit_of_work(worker_ctx, exc_info)
        return super().handle_result(message, worker_ctx, result, exc_info)


class TransactionalTimer(Timer):
    def handle_result(self, worker_ctx: WorkerContext, result: Any, exc_info: ExcInfo) -> tuple[Any, ExcInfo]:
        exc_info = settle_unit_of_work(worker_ctx, exc_info)
        return super().handle_result(worker_ctx, result, exc_info)


rpc = TransactionalRpc.decorator
timer = TransactionalTimer.decorator
