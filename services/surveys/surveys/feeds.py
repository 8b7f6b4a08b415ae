"""Prometheus gauges of survey scores: the latest period per beat and construct.

The gauges are rebuilt from the results on every scrape, so a cell that is (or
becomes) suppressed is absent rather than stale.
"""

from __future__ import annotations

from prometheus_client import Gauge
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import ResultTotal
from surveys.results import ResultQuery, compute_results

SURVEY_SCORE = Gauge(
    "beat_survey_score",
    "Mean 0-100 construct score in the latest period with results (suppressed cells are absent).",
    ["survey", "beat", "construct", "period"],
)
SURVEY_RESPONDENTS = Gauge(
    "beat_survey_respondents",
    "Respondents behind beat_survey_score (suppressed cells are absent).",
    ["survey", "beat", "construct", "period"],
)
SURVEY_FAVOURABLE = Gauge(
    "beat_survey_share_favourable",
    "Share of respondents on the favourable side (score above 50) in the latest period.",
    ["survey", "beat", "construct", "period"],
)


def refresh_score_gauges(session: Session, threshold: int) -> None:
    """Set one gauge per survey, beat (or `all`) and construct, for its latest shown period."""
    SURVEY_SCORE.clear()
    SURVEY_RESPONDENTS.clear()
    SURVEY_FAVOURABLE.clear()
    for survey_code in session.scalars(select(ResultTotal.survey_code).distinct()):
        latest: dict[tuple[str, str], dict] = {}
        for cell in compute_results(session, ResultQuery(survey_code=survey_code), threshold):
            if cell["suppressed"] or cell["mean"] is None:
                continue
            key = (cell["group"], cell["code"])
            if key not in latest or cell["period"] > latest[key]["period"]:
                latest[key] = cell
        for (group, construct), cell in latest.items():
            labels = (survey_code, group, construct, cell["period"])
            SURVEY_SCORE.labels(*labels).set(cell["mean"])
            SURVEY_RESPONDENTS.labels(*labels).set(cell["n"])
            SURVEY_FAVOURABLE.labels(*labels).set(cell["share_favourable"])
