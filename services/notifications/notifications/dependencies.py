"""Dependency providers of the notifications service: the process's SMTP connections, the
dispatcher's timer and the wake-up an event handler gives it."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from functools import partial
from typing import Any
from weakref import WeakSet

from eventlet.queue import Empty, Full, LightQueue
from eventlet.semaphore import Semaphore
from nameko.containers import WorkerContext
from nameko.extensions import DependencyProvider

from beat_shared.db import ExcInfo, settle_unit_of_work
from beat_shared.entrypoints import TransactionalTimer
from notifications.channels.email import SmtpTransport
from notifications.settings import Settings


class SmtpConnections(DependencyProvider):
    """One SMTP transport per process: its connections outlive a dispatcher round, so a round
    does not pay the connect, EHLO, STARTTLS, login and QUIT again."""

    def setup(self) -> None:
        self.transport = SmtpTransport(Settings.from_config(self.container.config))

    def stop(self) -> None:
        self.transport.close()

    def get_dependency(self, worker_ctx: WorkerContext) -> SmtpTransport:
        return self.transport


class DispatchTimer(TransactionalTimer):
    """The dispatcher's timer: a round every NOTIFICATIONS_DISPATCH_SECONDS (retries, quiet
    hours, digests), NOTIFICATIONS_DISPATCH_GATHER_SECONDS after a notification was recorded
    (`wake`), and again straight away while the last round left work behind (a full batch).

    Up to NOTIFICATIONS_DISPATCH_CONCURRENCY rounds run at once: a round spends most of its time
    waiting (RPC for audiences, SMTP, webhooks, commits), and rounds claim different rows (the
    same `FOR UPDATE SKIP LOCKED` claims and expansion lease that keep replicas apart), so a
    second round sends while the first waits.

    Without the wake-up a resident's email waited up to a whole interval after its event
    arrived, and a busy service sent at most one batch per interval (bench/pipeline.py).
    """

    wake_on_arrival = True  # tests that drive rounds themselves switch it off

    def setup(self) -> None:
        settings = Settings.from_config(self.container.config)
        self.interval = settings.dispatch_seconds
        self.gather = settings.dispatch_gather_seconds
        self._wakeups: LightQueue = LightQueue(maxsize=1)
        self._lanes = Semaphore(settings.dispatch_concurrency)
        self._housekept_at = -math.inf

    def wake(self) -> None:
        """Start a round after the gathering moment (or as soon as a lane is free then);
        wake-ups coalesce."""
        if self.wake_on_arrival:
            self._signal(gather=True)

    def _signal(self, gather: bool = False) -> None:
        if self._wakeups.qsize() == 0:
            with contextlib.suppress(Full):
                self._wakeups.put_nowait(gather)

    def stop(self) -> None:
        self.should_stop.send(True)
        self._signal()
        self.gt.wait()  # the rounds in flight finish: the container waits for its running workers

    def _run(self) -> None:
        while not self.should_stop.ready():
            # A free lane first, then a wake-up: wake-ups while every lane is busy stay one
            # pending round (they coalesce), not one round each.
            self._lanes.acquire()
            with contextlib.suppress(Empty):
                if self._wakeups.get(timeout=self.interval):
                    self._gather()
            if self.should_stop.ready():
                self._lanes.release()
                break
            self.handle_timer_tick()

    def _gather(self) -> None:
        """Let the events of the next moment join the round an event asked for: at a steady rate
        each event would otherwise have a round of its own, and a round's queries, commits and
        status events cost nearly the same for one message as for fifty (bench/pipeline.py: half
        the notifications CPU per flow at 20 flows/s). Their wake-ups are this round's. A round
        that follows a full batch (a broadcast) does not wait."""
        if self.gather > 0:
            self.should_stop.wait(self.gather)
            with contextlib.suppress(Empty):
                self._wakeups.get_nowait()

    def handle_timer_tick(self) -> None:
        # Housekeeping (interrupted sends, digests, disabled endpoints) once per interval: under
        # load a round starts for every few events, and these steps would cost each of them.
        housekeeping = time.monotonic() - self._housekept_at >= self.interval
        if housekeeping:
            self._housekept_at = time.monotonic()
        self.container.spawn_worker(self, (), {"housekeeping": housekeeping}, handle_result=self.handle_result)

    def handle_result(self, worker_ctx: WorkerContext, result: Any, exc_info: ExcInfo) -> tuple[Any, ExcInfo]:
        # As TransactionalTimer, but without nameko's Timer event, which allows one round at a time.
        exc_info = settle_unit_of_work(worker_ctx, exc_info)
        self._lanes.release()
        if exc_info is None and isinstance(result, dict) and result.get("more"):
            self._signal()
        return result, exc_info


dispatch_timer = DispatchTimer.decorator


class DispatchWakeup(DependencyProvider):
    """`self.wake_dispatcher()` asks for a dispatcher round once this worker's transaction
    has committed (nameko calls `worker_result` after the entrypoint settled it)."""

    def setup(self) -> None:
        self._asked: WeakSet[WorkerContext] = WeakSet()

    def get_dependency(self, worker_ctx: WorkerContext) -> Callable[[], None]:
        return partial(self._asked.add, worker_ctx)

    def worker_result(self, worker_ctx: WorkerContext, result: Any = None, exc_info: ExcInfo = None) -> None:
        if worker_ctx in self._asked and exc_info is None:
            for entrypoint in self.container.entrypoints:
                if isinstance(entrypoint, DispatchTimer):
                    entrypoint.wake()

    def worker_teardown(self, worker_ctx: WorkerContext) -> None:
        self._asked.discard(worker_ctx)
