"""Likely duplicates of a new concern: same category, close by, recent, still open."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from concerns.domain.geo import distance_metres


@dataclass(frozen=True)
class Candidate:
    concern_id: str
    category_code: str
    lat: float | None
    long: float | None
    submitted_at: datetime
    is_open: bool


@dataclass(frozen=True)
class Suggestion:
    concern_id: str
    distance_metres: int


def suggest_duplicates(
    category_code: str,
    lat: float | None,
    long: float | None,
    now: datetime,
    candidates: Iterable[Candidate],
    max_metres: float,
    max_days: float,
    limit: int = 5,
) -> list[Suggestion]:
    """Open concerns of the same category within `max_metres` and `max_days`, nearest first.

    A concern without coordinates cannot be compared by distance, so it gets no suggestions.
    """
    if lat is None or long is None:
        return []
    since = now - timedelta(days=max_days)
    found: list[Suggestion] = []
    for candidate in candidates:
        if not candidate.is_open or candidate.category_code != category_code or candidate.submitted_at < since:
            continue
        if candidate.lat is None or candidate.long is None:
            continue
        metres = distance_metres(lat, long, candidate.lat, candidate.long)
        if metres <= max_metres:
            found.append(Suggestion(candidate.concern_id, round(metres)))
    found.sort(key=lambda suggestion: (suggestion.distance_metres, suggestion.concern_id))
    return found[:limit]
