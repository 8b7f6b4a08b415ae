"""One clock for the whole platform, replaceable in tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from nameko.containers import WorkerContext
from nameko.extensions import DependencyProvider

from beat_shared.isotime import utc_iso  # noqa: F401 - services import it from here too


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to (for timers and deadlines in tests)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now


class ClockProvider(DependencyProvider):
    """`clock = ClockProvider()` on a service: the system clock, or the `BEAT_CLOCK`
    object a test puts in the container config (a FrozenClock it then moves)."""

    def get_dependency(self, worker_ctx: WorkerContext) -> Clock:
        return self.container.config.get("BEAT_CLOCK") or SystemClock()
