"""A nameko dependency counting one kind of anonymous request per client address, with the
token buckets of `beat_shared.ratelimit` (kept apart: those are plain Python for pure domains)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from nameko.containers import WorkerContext
from nameko.extensions import DependencyProvider

from beat_shared.ratelimit import Rate, RateLimits


class AddressLimiter(DependencyProvider):
    """Token buckets per client address for one kind of anonymous request, shared by the workers of
    one process: `rate_of(config)` reads the service's setting once; a worker calls
    `self.limiter(request.remote_addr, now)`, which raises RateLimited (a 429 with Retry-After)."""

    def __init__(self, rate_of: Callable[[Mapping[str, Any]], Rate]) -> None:
        self.rate_of = rate_of

    def setup(self) -> None:
        self.limits = RateLimits({"address": self.rate_of(self.container.config)})

    def get_dependency(self, worker_ctx: WorkerContext) -> Callable[[str | None, datetime], None]:
        return lambda address, now: self.limits.check({"address": address}, now)
