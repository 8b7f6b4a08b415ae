"""The beat report card: what people feel beside what was done, in the same period.

The actions come from this service's own read model, fed by the other services'
events (concerns, meetings, problems, referrals); the scores come from the survey results and
obey the same suppression.
"""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.domain.periods import period_bounds
from surveys.models import ConcernActivity, MeetingActivity, ProblemActivity, ReferralActivity
from surveys.results import ResultQuery, compute_results

CARD_CONSTRUCTS = ("safety", "trust")
SOLVED_OUTCOMES = ("solved", "reduced")
SCORE_FIELDS = ("suppressed", "n", "mean", "mean_ci", "share_favourable", "change")


def _count(session: Session, column: Any, beat_column: Any, beat: str, start: datetime, end: datetime) -> int:
    statement = select(func.count()).where(beat_column == beat, column >= start, column < end)
    return int(session.scalar(statement) or 0)


def problems(session: Session, beat: str, start: datetime, end: datetime) -> dict[str, int]:
    """Problems worked (opened in the period, or open at some time in it) and solved (assessed
    solved or reduced in the period)."""
    worked = select(func.count()).where(
        ProblemActivity.beat_code == beat,
        ProblemActivity.opened_at < end,
        (ProblemActivity.assessed_at.is_(None)) | (ProblemActivity.assessed_at >= start),
    )
    solved = select(func.count()).where(
        ProblemActivity.beat_code == beat,
        ProblemActivity.assessed_at >= start,
        ProblemActivity.assessed_at < end,
        ProblemActivity.outcome.in_(SOLVED_OUTCOMES),
    )
    return {"problems_worked": int(session.scalar(worked) or 0), "problems_solved": int(session.scalar(solved) or 0)}


def actions(session: Session, beat: str, period: str) -> dict[str, Any]:
    """Counts of what happened in a beat in a period, from the events this service received."""
    start, end = period_bounds(period)
    acknowledged = session.execute(
        select(ConcernActivity.submitted_at, ConcernActivity.acknowledged_at).where(
            ConcernActivity.beat_code == beat,
            ConcernActivity.acknowledged_at >= start,
            ConcernActivity.acknowledged_at < end,
            ConcernActivity.submitted_at.is_not(None),
        )
    ).all()
    waits = [(ack - sub).total_seconds() / 3600 for sub, ack in acknowledged]
    return {
        "concerns_received": _count(session, ConcernActivity.submitted_at, ConcernActivity.beat_code, beat, start, end),
        "concerns_resolved": _count(session, ConcernActivity.resolved_at, ConcernActivity.beat_code, beat, start, end),
        "concerns_closed": _count(session, ConcernActivity.closed_at, ConcernActivity.beat_code, beat, start, end),
        "median_hours_to_acknowledge": round(statistics.median(waits), 1) if waits else None,
        "meetings_held": _count(session, MeetingActivity.held_at, MeetingActivity.beat_code, beat, start, end),
        "referrals_made": _count(session, ReferralActivity.sent_at, ReferralActivity.beat_code, beat, start, end),
        **problems(session, beat, start, end),
    }


def report_card(session: Session, survey_code: str, beat: str, period: str, threshold: int) -> dict[str, Any]:
    """Safety and trust scores (or their suppression) and the actions, for one beat and period."""
    period_bounds(period)
    cells = compute_results(
        session,
        ResultQuery(survey_code=survey_code, groups=(beat,), periods=(period,), codes=CARD_CONSTRUCTS),
        threshold,
    )
    # No response at all shows like a suppressed cell: there is nothing to show.
    empty = {"suppressed": True, **dict.fromkeys(SCORE_FIELDS[1:])}
    scores = {code: dict(empty) for code in CARD_CONSTRUCTS}
    for cell in cells:
        scores[cell["code"]] = {key: cell[key] for key in SCORE_FIELDS}
    return {
        "beat_code": beat,
        "period": period,
        "survey_code": survey_code,
        "minimum_cell": threshold,
        "scores": scores,
        "actions": actions(session, beat, period),
    }
