"""Dependency providers of the concerns service: its rate limiter and reference data (its settings
come from beat_shared.settings_provider.SettingsProvider)."""

from __future__ import annotations

from datetime import datetime

from nameko.containers import WorkerContext
from nameko.extensions import DependencyProvider

from beat_shared.errors import RateLimited
from concerns.domain.ratelimit import ANONYMOUS_SUPPORT, RateLimits
from concerns.reference import ReferenceCache
from concerns.settings import Settings


class SubmissionLimiter:
    """What a worker sees: `check(address=..., token=..., now=...)`; raises RateLimited."""

    def __init__(self, limits: RateLimits) -> None:
        self._limits = limits

    def check(self, address: str | None, token: str | None, now: datetime) -> None:
        self._limits.check({"address": address, "token": token}, now)

    def check_anonymous_support(self, address: str | None, concern_id: str, now: datetime) -> None:
        """One token-less "me too" per client address and concern (ANONYMOUS_SUPPORT); raises RateLimited."""
        try:
            self._limits.check({"anonymous_support": f"{address}|{concern_id}"}, now)
        except RateLimited as limited:
            raise RateLimited(
                'an anonymous "me too" from your address was already counted for this concern; sign in, '
                "or send your receipt or supporter token in X-Receipt-Token, to add yours",
                retry_after=limited.retry_after,
            ) from limited


class RateLimiter(DependencyProvider):
    """Token buckets per client address and per token, shared by the workers of one process."""

    def setup(self) -> None:
        settings = Settings.from_config(self.container.config)
        self.limits = RateLimits(
            {
                "address": settings.rate_per_address,
                "token": settings.rate_per_token,
                "anonymous_support": ANONYMOUS_SUPPORT,
            }
        )

    def get_dependency(self, worker_ctx: WorkerContext) -> SubmissionLimiter:
        return SubmissionLimiter(self.limits)


class ReferenceData(DependencyProvider):
    """Categories and beat boundaries in memory, shared by the workers of one process."""

    def setup(self) -> None:
        self.cache = ReferenceCache(Settings.from_config(self.container.config).reference_max_age)

    def get_dependency(self, worker_ctx: WorkerContext) -> ReferenceCache:
        return self.cache
