"""A small in-process token bucket per key (client address, token subject, API key), for every
service's anonymous limits (concerns' submissions, notifications' subscriptions by e-mail).

In-process means per replica: with N replicas a client gets up to N times the rate,
which is acceptable for abuse protection; a shared limiter belongs in front (the
ingress) or here with a common store. The address to count is `request.remote_addr`,
the client's own when the caller is a trusted proxy (`beat_shared.proxies`). Plain Python
(services' pure `domain/` packages use it); the nameko provider is `beat_shared.ratelimit_provider`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from beat_shared.errors import InvalidInput, RateLimited

MAX_KEYS = 50_000  # forget the oldest keys beyond this, so memory stays bounded


@dataclass(frozen=True)
class Rate:
    """`capacity` requests per `period_seconds`, refilled smoothly; a burst of `capacity` is allowed."""

    capacity: int
    period_seconds: float

    @classmethod
    def parse(cls, text: str) -> Rate:
        """'20/3600' means 20 per hour."""
        try:
            capacity, period = text.split("/", 1)
            rate = cls(int(capacity), float(period))
        except ValueError:
            raise InvalidInput(f"a rate is 'COUNT/SECONDS', not {text!r}")
        if rate.capacity < 1 or rate.period_seconds <= 0:
            raise InvalidInput(f"a rate needs a positive count and period, not {text!r}")
        return rate

    @property
    def per_second(self) -> float:
        return self.capacity / self.period_seconds


class TokenBuckets:
    def __init__(self, rate: Rate) -> None:
        self.rate = rate
        self._buckets: dict[str, tuple[float, datetime]] = {}

    def take(self, key: str, now: datetime) -> float:
        """Spend one token for `key`; returns 0 if allowed, else the seconds until one is free."""
        tokens, last = self._buckets.get(key, (float(self.rate.capacity), now))
        elapsed = max((now - last).total_seconds(), 0.0)
        tokens = min(float(self.rate.capacity), tokens + elapsed * self.rate.per_second)
        if tokens >= 1.0:
            self._remember(key, tokens - 1.0, now)
            return 0.0
        self._remember(key, tokens, now)
        return (1.0 - tokens) / self.rate.per_second

    def _remember(self, key: str, tokens: float, now: datetime) -> None:
        self._buckets.pop(key, None)
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > MAX_KEYS:
            del self._buckets[next(iter(self._buckets))]


class RateLimits:
    """Buckets per kind of key ('address', 'token'); `check` raises RateLimited with Retry-After."""

    def __init__(self, rates: dict[str, Rate]) -> None:
        self._kinds = {kind: TokenBuckets(rate) for kind, rate in rates.items()}

    def check(self, keys: dict[str, str | None], now: datetime) -> None:
        for kind, key in keys.items():
            if key is None:
                continue
            wait = self._kinds[kind].take(key, now)
            if wait > 0:
                raise RateLimited(
                    f"too many requests from this {kind}; try again in {math.ceil(wait)} seconds",
                    retry_after=max(1, math.ceil(wait)),
                )
