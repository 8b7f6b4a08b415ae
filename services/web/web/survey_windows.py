"""The beat's survey scores beside a problem's before and after figures (issue 26).

The assessment's windows are dates; surveys answers the scores of the periods (quarters) that
overlap each window (`GET /results?from=&to=`), so a window may show more than one period.
Both windows are asked in the same round as the page's other calls that need the problem.
"""

from __future__ import annotations

from typing import Any

from web.api import ApiError, Call

CONSTRUCTS = ("safety", "trust")
WINDOWS = ("before", "after")


def score_calls(beat_code: str, assessment: dict[str, Any] | None) -> dict[str, Call]:
    """One results call per window of the assessment (none without an assessment)."""
    if not assessment:
        return {}
    return {
        f"scores {side}": Call(
            "surveys",
            "GET",
            "/results",
            params={
                "group": beat_code,
                "code": ",".join(CONSTRUCTS),
                "from": assessment[side]["from"],
                "to": assessment[side]["to"],
            },
        )
        for side in WINDOWS
    }


def window_scores(found: dict[str, Any]) -> dict[str, dict[str, list[dict[str, Any]]]] | None:
    """Takes the calls' answers out of `found`: per window, per construct, its periods' cells;
    None when surveys could not answer (the page says so instead of failing)."""
    answers = {side: found.pop(f"scores {side}", None) for side in WINDOWS}
    if any(answer is None or isinstance(answer, ApiError) for answer in answers.values()):
        return None
    return {
        side: {
            code: [cell for cell in answer["contents"] if cell["code"] == code and cell["group"] != "all"]
            for code in CONSTRUCTS
        }
        for side, answer in answers.items()
    }
