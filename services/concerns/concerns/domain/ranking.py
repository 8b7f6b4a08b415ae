"""Which open concerns a community meeting should discuss first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

# One "me too" weighs as much as a week of waiting: both say "this matters and is not done".
DAYS_PER_SUPPORTER = 7.0


@dataclass(frozen=True)
class AgendaCandidate:
    concern_id: str
    supporters: int  # "me too" count; the reporter is counted on top
    submitted_at: datetime


@dataclass(frozen=True)
class AgendaItem:
    concern_id: str
    position: int
    score: float
    support: int
    age_days: float


def score(candidate: AgendaCandidate, now: datetime) -> tuple[float, int, float]:
    age_days = max((now - candidate.submitted_at).total_seconds() / 86_400, 0.0)
    support = 1 + candidate.supporters
    return support + age_days / DAYS_PER_SUPPORTER, support, age_days


def rank_agenda(candidates: Iterable[AgendaCandidate], now: datetime, limit: int = 10) -> list[AgendaItem]:
    """Rank by support and age (older and more supported first); ties: older first, then id."""
    scored = [(candidate, *score(candidate, now)) for candidate in candidates]
    scored.sort(key=lambda row: (-row[1], row[0].submitted_at, row[0].concern_id))
    return [
        AgendaItem(candidate.concern_id, position, round(value, 3), support, round(age, 2))
        for position, (candidate, value, support, age) in enumerate(scored[:limit], start=1)
    ]
