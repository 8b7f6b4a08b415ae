"""Problems (SARA: Scanning, Analysis, Response, Assessment): stages, closing outcomes, notes.

A problem moves forward one stage at a time; it may step back from Response to Analysis (the
plan showed the analysis was wrong) and from Assessment to Response (try again). It is closed
only from Assessment, with an outcome, by the assessment itself (commands.assess_problem).
"""

from __future__ import annotations

from enum import StrEnum

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
