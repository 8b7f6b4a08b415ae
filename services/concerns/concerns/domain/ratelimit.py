"""concerns' rate limits: the shared token buckets (`beat_shared.ratelimit`) and its own rule for
anonymous "me too"s."""

from __future__ import annotations

from beat_shared.ratelimit import MAX_KEYS, Rate, RateLimits, TokenBuckets

__all__ = ["ANONYMOUS_SUPPORT", "MAX_KEYS", "Rate", "RateLimits", "TokenBuckets"]

# An anonymous "me too" without any token counts once per client address and concern a day: a
# new supporter token for every request would let one client count again and again. Behind a
# shared address (a library, a NAT) the first neighbour is counted; the others can sign in, or
# use their receipt or supporter token, which count for each person.
ANONYMOUS_SUPPORT = Rate(1, 24 * 3600)
