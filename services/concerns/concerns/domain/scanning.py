"""Scanning (SARA's first step): repeat places of the same kind of concern, proposed as problems.

The algorithm, for one beat:

1. Only located concerns submitted in the last `days` count (`ScanRules.days`).
2. Per category, every concern's neighbours are the concerns within `metres` of it.
3. The concern with the most neighbours (ties: the most recent, then the smallest id) seeds a
   cluster; its neighbours join it nearest first, each only if it lies within `metres` of every
   member already in (complete linkage). So no two concerns of a candidate are ever farther
   apart than `metres`: a candidate is a repeat location or a small hot spot, never a chain of
   places strung across the beat.
4. Members leave the pool; the next seed is chosen from what remains (step 3 again).
5. A cluster of at least `min_concerns` concerns is a candidate; candidates are ranked by count,
   then support ("me too"s), then recency (the latest concern), most first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from concerns.domain.geo import distance_metres


@dataclass(frozen=True)
class ScanRules:
    metres: float  # the largest distance between two concerns of one candidate
    days: float  # how far back concerns count
    min_concerns: int  # the fewest concerns that make a candidate


@dataclass(frozen=True)
class ScannedConcern:
    concern_id: str
    category_code: str
    lat: float
    long: float
    submitted_at: datetime
    supporters: int = 0


@dataclass(frozen=True)
class ProblemCandidate:
    category_code: str
    concern_ids: tuple[str, ...]
    centre_lat: float
    centre_long: float
    radius_metres: int  # from the centre to the farthest member, rounded up
    support: int
    first_at: datetime
    last_at: datetime

    @property
    def count(self) -> int:
        return len(self.concern_ids)


def scan(concerns: Iterable[ScannedConcern], rules: ScanRules, now: datetime) -> list[ProblemCandidate]:
    """The candidate problems among `concerns` (one beat's), ranked most pressing first."""
    since = now - timedelta(days=rules.days)
    by_category: dict[str, list[ScannedConcern]] = defaultdict(list)
    for concern in concerns:
        if since <= concern.submitted_at <= now:
            by_category[concern.category_code].append(concern)
    found: list[ProblemCandidate] = []
    for category in sorted(by_category):
        for members in _clusters(by_category[category], rules.metres):
            if len(members) >= rules.min_concerns:
                found.append(_candidate(category, members))
    found.sort(key=lambda c: (-c.count, -c.support, -c.last_at.timestamp(), c.concern_ids))
    return found


def _clusters(pool: list[ScannedConcern], metres: float) -> list[list[ScannedConcern]]:
    remaining = {concern.concern_id: concern for concern in pool}
    # Neighbours once (pairwise distances); each round counts only those still unassigned.
    neighbours = {
        concern.concern_id: [o for o in pool if o.concern_id != concern.concern_id and _near(concern, o, metres)]
        for concern in pool
    }
    clusters: list[list[ScannedConcern]] = []
    while remaining:

        def free(concern: ScannedConcern) -> list[ScannedConcern]:
            return [o for o in neighbours[concern.concern_id] if o.concern_id in remaining]

        seed = min(remaining.values(), key=lambda c: (-len(free(c)), -c.submitted_at.timestamp(), c.concern_id))
        members = [seed]
        for other in sorted(free(seed), key=lambda o: (_metres(seed, o), o.concern_id)):
            if all(_near(member, other, metres) for member in members):
                members.append(other)
        for member in members:
            del remaining[member.concern_id]
        clusters.append(members)
    return clusters


def _metres(a: ScannedConcern, b: ScannedConcern) -> float:
    return distance_metres(a.lat, a.long, b.lat, b.long)


def _near(a: ScannedConcern, b: ScannedConcern, metres: float) -> bool:
    return _metres(a, b) <= metres


def _candidate(category: str, members: list[ScannedConcern]) -> ProblemCandidate:
    lat = sum(m.lat for m in members) / len(members)
    long = sum(m.long for m in members) / len(members)
    radius = max(distance_metres(lat, long, m.lat, m.long) for m in members)
    return ProblemCandidate(
        category_code=category,
        concern_ids=tuple(sorted(m.concern_id for m in members)),
        centre_lat=round(lat, 6),
        centre_long=round(long, 6),
        radius_metres=int(radius) + 1,
        support=sum(m.supporters for m in members),
        first_at=min(m.submitted_at for m in members),
        last_at=max(m.submitted_at for m in members),
    )
