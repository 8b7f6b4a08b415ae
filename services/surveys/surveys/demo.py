"""Demo data for Riverton: the standard surveys, a wave per quarter over RV-01..RV-06 with
synthetic anonymous responses (seeded, so every run makes the same figures), beat
populations, and some activity for the report cards.

RV-06 gets only 9 responses a quarter, so it shows as suppressed everywhere.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from surveys.catalogue import ensure_bank_survey
from surveys.definitions import construct_scores, score_response
from surveys.item_bank import POST_CONTACT_SURVEY_CODE, STANDARD_SURVEY_CODE
from surveys.models import (
    CONSTRUCT_COLUMNS,
    Answer,
    BeatPopulation,
    ConcernActivity,
    MeetingActivity,
    ReferralActivity,
    Response,
    Survey,
    Wave,
)
from surveys.periods import period_bounds
from surveys.totals import rebuild_totals

BEATS = ("RV-01", "RV-02", "RV-03", "RV-04", "RV-05", "RV-06")
PERIODS = ("2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1")
RESPONSES_PER_PERIOD = {"RV-01": 64, "RV-02": 52, "RV-03": 41, "RV-04": 47, "RV-05": 35, "RV-06": 9}
POPULATIONS = {"RV-01": 8200, "RV-02": 6100, "RV-03": 9400, "RV-04": 5300, "RV-05": 7000, "RV-06": 2100}
# How residents of each beat tend to feel (0..1), and how much better each quarter gets.
CLIMATE = {"RV-01": 0.62, "RV-02": 0.55, "RV-03": 0.45, "RV-04": 0.58, "RV-05": 0.50, "RV-06": 0.52}
IMPROVEMENT = {"RV-01": 0.02, "RV-02": 0.0, "RV-03": 0.05, "RV-04": -0.02, "RV-05": 0.03, "RV-06": 0.0}
SEED = 20260105


def _answer(question: dict[str, Any], feeling: float, rng: random.Random) -> Any:
    """A plausible answer from a respondent whose general feeling is `feeling` (0..1)."""
    kind = question["type"]
    level = min(1.0, max(0.0, feeling + rng.gauss(0, 0.18)))
    if question["reverse"]:
        level = 1 - level
    if kind == "likert_5":
        return 1 + round(level * 4)
    if kind == "scale_0_10":
        return round(level * 10)
    if kind == "single_choice":
        scored = [o for o in question["options"] if o.get("score") is not None]
        if rng.random() < 0.03 and len(scored) < len(question["options"]):
            return next(o["value"] for o in question["options"] if o.get("score") is None)
        return min(scored, key=lambda o: abs(o["score"] / 100 - level))["value"]
    if kind == "multiple_choice":
        values = [o["value"] for o in question["options"] if o["value"] != "none"]
        chosen = [v for v in values if rng.random() < 0.3]
        return chosen or ["none"]
    if kind == "numeric":
        return rng.randint(0, 40)
    return None  # free text stays empty in demo data: it could hold anything


def _responses(survey: Survey, wave: Wave, beat: str, rng: random.Random) -> tuple[list[dict], list[dict]]:
    responses, answers = [], []
    offset = PERIODS.index(wave.period)
    for _ in range(RESPONSES_PER_PERIOD[beat]):
        feeling = CLIMATE[beat] + IMPROVEMENT[beat] * offset + rng.gauss(0, 0.12)
        given = {
            q["item_code"]: value
            for q in survey.questions
            if (value := _answer(q, feeling, rng)) is not None and (q["required"] or rng.random() < 0.8)
        }
        scored = score_response(survey.questions, given)
        constructs = construct_scores(survey.questions, scored)
        response_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        responses.append(
            {
                "id": response_id,
                "survey_id": survey.id,
                "survey_code": survey.code,
                "wave_id": wave.id,
                "kind": "wave",
                "channel": "invited",
                "beat_code": beat,
                "category_code": None,
                "period": wave.period,
                "language": "es" if rng.random() < 0.25 else "en",
                **{name: constructs.get(name) for name in CONSTRUCT_COLUMNS},
            }
        )
        answers.extend(
            {
                "response_id": response_id,
                "item_code": a.item_code,
                "survey_code": survey.code,
                "beat_code": beat,
                "category_code": None,
                "period": wave.period,
                "value_num": a.value_num,
                "value_text": a.value_text,
                "score": a.score,
            }
            for a in scored
        )
    return responses, answers


def _activity(session: Session, rng: random.Random) -> None:
    """Concerns, meetings and referrals per beat and quarter, as the events would have recorded them."""
    for period in PERIODS:
        start, end = period_bounds(period)
        span = (end - start).total_seconds()
        for beat in BEATS:
            for index in range(rng.randint(6, 18)):
                submitted = start + timedelta(seconds=rng.uniform(0, span * 0.9))
                acknowledged = submitted + timedelta(hours=rng.uniform(2, 72))
                resolved = acknowledged + timedelta(days=rng.uniform(1, 20)) if rng.random() < 0.7 else None
                session.add(
                    ConcernActivity(
                        concern_id=f"demo-{period}-{beat}-{index}",
                        beat_code=beat,
                        category_code=rng.choice(["noise", "drugs", "graffiti", "speeding"]),
                        submitted_at=submitted,
                        acknowledged_at=acknowledged,
                        resolved_at=resolved if resolved and resolved < end else None,
                        follow_up_invited=False,
                    )
                )
            for index in range(rng.randint(1, 3)):
                session.add(
                    MeetingActivity(
                        meeting_id=f"demo-meeting-{period}-{beat}-{index}",
                        beat_code=beat,
                        kind="community_meeting",
                        held_at=start + timedelta(days=20 + 25 * index),
                    )
                )
            for index in range(rng.randint(0, 4)):
                session.add(
                    ReferralActivity(
                        referral_id=f"demo-referral-{period}-{beat}-{index}",
                        beat_code=beat,
                        need_category="food",
                        sent_at=start + timedelta(days=10 + 15 * index),
                    )
                )


def seed(session: Session) -> str:
    """Load the demo once; running it again adds nothing."""
    now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    survey = ensure_bank_survey(session, STANDARD_SURVEY_CODE, now)
    ensure_bank_survey(session, POST_CONTACT_SURVEY_CODE, now)
    if session.scalar(select(Wave).where(Wave.name.like("Riverton residents survey %")).limit(1)) is not None:
        return "demo surveys already present"
    rng = random.Random(SEED)
    for beat, population in POPULATIONS.items():
        if session.get(BeatPopulation, beat) is None:
            session.add(BeatPopulation(beat_code=beat, population=population))
    total = 0
    for period in PERIODS:
        start, end = period_bounds(period)
        wave = Wave(
            id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            survey_id=survey.id,
            name=f"Riverton residents survey {period}",
            period=period,
            beat_codes=list(BEATS),
            opens_at=start,
            closes_at=end,
            open_link_slug=None,
            open_link_daily_limit=3,
            open_link_max_per_beat=None,
            created_at=start,
        )
        session.add(wave)
        session.flush()
        for beat in BEATS:
            responses, answers = _responses(survey, wave, beat, rng)
            session.execute(insert(Response), responses)
            session.execute(insert(Answer), answers)
            total += len(responses)
    rebuild_totals(session)  # the responses went in as bulk inserts, past the running totals
    _activity(session, rng)
    session.flush()
    return f"standard and post-contact surveys, {len(PERIODS)} waves over {len(BEATS)} beats, {total} responses"
