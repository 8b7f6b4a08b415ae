"""Problems (SARA: Scanning, Analysis, Response, Assessment): stages, closing outcomes, notes.

A problem moves forward one stage at a time; it may step back from Response to Analysis (the
plan showed the analysis was wrong) and from Assessment to Response (try again). It is closed
only from Assessment, with an outcome, by the assessment itself (commands.assess_problem).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from beat_shared.errors import Conflict, InvalidInput


class Stage(StrEnum):
    SCANNING = "scanning"
    ANALYSIS = "analysis"
    RESPONSE = "response"
    ASSESSMENT = "assessment"
    CLOSED = "closed"


MOVES: dict[Stage, frozenset[Stage]] = {
    Stage.SCANNING: frozenset({Stage.ANALYSIS}),
    Stage.ANALYSIS: frozenset({Stage.RESPONSE}),
    Stage.RESPONSE: frozenset({Stage.ANALYSIS, Stage.ASSESSMENT}),
    Stage.ASSESSMENT: frozenset({Stage.RESPONSE}),
    Stage.CLOSED: frozenset(),
}

OUTCOMES = ("solved", "reduced", "displaced", "not_solved")
# The problem-analysis triangle's sides, and "others involved" (landlord, business, agency).
NOTE_SIDES = ("place", "offender", "victim", "other")
# Who may own an action of a response plan.
OWNER_KINDS = ("officer", "residents", "agency", "city")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class OpenProblem:
    """What a new concern needs of an open problem of its beat to join it, and what its reporter sees of it."""

    id: str
    beat_code: str
    title: str
    stage: str
    categories: tuple[str, ...]
    centre_lat: float | None
    centre_long: float | None
    radius_metres: int


def check_move(current: Stage, target: Stage) -> None:
    """Raise Conflict unless a problem may move from `current` to `target` by hand."""
    if target is Stage.CLOSED:
        raise Conflict(
            "a problem is closed by its assessment (POST /problems/{id}/assessment with an outcome)",
            {"stage": ["closed only through the assessment"]},
        )
    if target not in MOVES[current]:
        allowed = ", ".join(sorted(stage.value for stage in MOVES[current])) or "none (it is closed)"
        raise Conflict(
            f"a problem in {current.value} cannot move to {target.value}",
            {"stage": [f"allowed from {current.value}: {allowed}"]},
        )


def check_outcome(outcome: str) -> str:
    if outcome not in OUTCOMES:
        raise InvalidInput(f"unknown outcome {outcome!r}", {"outcome": [f"one of {', '.join(OUTCOMES)}"]})
    return outcome


def is_open(stage: str) -> bool:
    return stage != Stage.CLOSED.value


def time_profile(moments: Iterable[datetime], zone: ZoneInfo) -> dict[str, dict[str, int]]:
    """When concerns came, on the city's clock: counts by ISO week, hour of the day (0 to 23) and day
    of the week, each moment read in `zone` (so a summer evening is not counted an hour late, and
    a Saturday night after 18:00 in Chicago is not a Sunday). Keys are strings, in time order."""
    local = [moment.astimezone(zone) for moment in moments]
    weekdays = Counter(at.weekday() for at in local)
    return {
        "by_week": dict(sorted(Counter(at.strftime("%G-W%V") for at in local).items())),
        "by_hour": {str(hour): count for hour, count in sorted(Counter(at.hour for at in local).items())},
        "by_weekday": {WEEKDAYS[day]: weekdays[day] for day in sorted(weekdays)},
    }
