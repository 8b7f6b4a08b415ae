"""Demo data for Riverton: the standard surveys, a wave per quarter over RV-01..RV-06 with
synthetic anonymous responses (seeded, so every run makes the same figures), post-contact
survey answers by category, beat populations, and some activity for the report cards.

Everything is dated relative to the day the demo is loaded: the waves cover the four
quarters up to and including the current one, so the dashboard's newest period is today's,
and nothing (a concern, a meeting, a referral) is dated after that day.

RV-06 gets only 9 responses a quarter, so it shows as suppressed everywhere.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from surveys.catalogue import ensure_bank_survey
from surveys.domain.definitions import construct_scores, score_response
from surveys.domain.item_bank import POST_CONTACT_SURVEY_CODE, STANDARD_SURVEY_CODE
from surveys.domain.periods import period_bounds, quarter_of
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
from surveys.totals import rebuild_totals

BEATS = ("RV-01", "RV-02", "RV-03", "RV-04", "RV-05", "RV-06")
QUARTERS = 4  # the current quarter and the three before it
RESPONSES_PER_PERIOD = {"RV-01": 64, "RV-02": 52, "RV-03": 41, "RV-04": 47, "RV-05": 35, "RV-06": 9}
POPULATIONS = {"RV-01": 8200, "RV-02": 6100, "RV-03": 9400, "RV-04": 5300, "RV-05": 7000, "RV-06": 2100}
# How residents of each beat tend to feel (0..1), and how much better each quarter gets.
CLIMATE = {"RV-01": 0.62, "RV-02": 0.55, "RV-03": 0.45, "RV-04": 0.58, "RV-05": 0.50, "RV-06": 0.52}
IMPROVEMENT = {"RV-01": 0.02, "RV-02": 0.0, "RV-03": 0.05, "RV-04": -0.02, "RV-05": 0.03, "RV-06": 0.0}
# Post-contact answers per beat and quarter, spread over these concern categories.
POST_CONTACT_PER_PERIOD = 40
DEFAULT_MIN_CELL = 30  # SURVEYS_MIN_CELL's default
POST_CONTACT_CATEGORIES = ("noise", "drug_activity", "speeding_traffic", "vandalism_graffiti")
SEED = 20260105


def demo_periods(today: datetime) -> tuple[str, ...]:
    """The last QUARTERS quarter labels, oldest first, ending with the one `today` falls in."""
    labels = [quarter_of(today)]
    while len(labels) < QUARTERS:
        labels.append(quarter_of(period_bounds(labels[-1])[0] - timedelta(days=1)))
    return tuple(reversed(labels))


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


@dataclass(frozen=True)
class Batch:
    """Who answered what, where and when: one beat's responses to one survey in one period."""

    survey: Survey
    wave_id: str | None
    period: str
    beat: str
    feeling: float  # how residents of the beat feel this period (0..1)
    count: int
    categories: tuple[str | None, ...] = (None,)  # post-contact answers carry the concern's category


def _responses(batch: Batch, rng: random.Random) -> tuple[list[dict], list[dict]]:
    responses, answers = [], []
    survey = batch.survey
    for index in range(batch.count):
        feeling = batch.feeling + rng.gauss(0, 0.12)
        category = batch.categories[index % len(batch.categories)]
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
                "wave_id": batch.wave_id,
                "kind": "wave" if batch.wave_id else "post_contact",
                "channel": "invited",
                "beat_code": batch.beat,
                "category_code": category,
                "period": batch.period,
                "language": "es" if rng.random() < 0.25 else "en",
                **{name: constructs.get(name) for name in CONSTRUCT_COLUMNS},
            }
        )
        answers.extend(
            {
                "response_id": response_id,
                "item_code": a.item_code,
                "survey_code": survey.code,
                "beat_code": batch.beat,
                "category_code": category,
                "period": batch.period,
                "value_num": a.value_num,
                "value_text": a.value_text,
                "score": a.score,
            }
            for a in scored
        )
    return responses, answers


def _store(session: Session, batch: Batch, rng: random.Random) -> int:
    responses, answers = _responses(batch, rng)
    session.execute(insert(Response), responses)
    session.execute(insert(Answer), answers)
    return len(responses)


def _activity(session: Session, rng: random.Random, periods: tuple[str, ...], now: datetime) -> None:
    """Concerns, meetings and referrals per beat and quarter, as the events would have recorded
    them; the current quarter only up to `now` (nothing happened in the future)."""
    for period in periods:
        start, end = period_bounds(period)
        span = (min(end, now) - start).total_seconds()
        for beat in BEATS:
            for index in range(rng.randint(6, 18)):
                submitted = start + timedelta(seconds=rng.uniform(0, span * 0.9))
                acknowledged = submitted + timedelta(hours=rng.uniform(2, 72))
                resolved = acknowledged + timedelta(days=rng.uniform(1, 20)) if rng.random() < 0.7 else None
                session.add(
                    ConcernActivity(
                        concern_id=f"demo-{period}-{beat}-{index}",
                        beat_code=beat,
                        category_code=rng.choice(POST_CONTACT_CATEGORIES),
                        submitted_at=submitted,
                        acknowledged_at=acknowledged if acknowledged < now else None,
                        resolved_at=resolved if resolved and resolved < min(end, now) else None,
                        follow_up_invited=False,
                    )
                )
            for index in range(rng.randint(1, 3)):
                held = start + timedelta(days=20 + 25 * index)
                if held < now:  # a meeting not held yet is not on the report card
                    session.add(
                        MeetingActivity(
                            meeting_id=f"demo-meeting-{period}-{beat}-{index}",
                            beat_code=beat,
                            kind="community_meeting",
                            held_at=held,
                        )
                    )
            for index in range(rng.randint(0, 4)):
                sent = start + timedelta(days=10 + 15 * index)
                if sent < now:
                    session.add(
                        ReferralActivity(
                            referral_id=f"demo-referral-{period}-{beat}-{index}",
                            beat_code=beat,
                            need_category="food",
                            sent_at=sent,
                        )
                    )


def seed(session: Session, now: datetime | None = None) -> str:
    """Load the demo once, dated relative to `now` (the day it is loaded); running it again adds nothing."""
    now = now or datetime.now(UTC)
    periods = demo_periods(now)
    survey = ensure_bank_survey(session, STANDARD_SURVEY_CODE, now)
    post_contact = ensure_bank_survey(session, POST_CONTACT_SURVEY_CODE, now)
    if session.scalar(select(Wave).where(Wave.name.like("Riverton residents survey %")).limit(1)) is not None:
        return "demo surveys already present"
    rng = random.Random(SEED)
    for beat, population in POPULATIONS.items():
        if session.get(BeatPopulation, beat) is None:
            session.add(BeatPopulation(beat_code=beat, population=population))
    total = 0
    for offset, period in enumerate(periods):
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
            feeling = CLIMATE[beat] + IMPROVEMENT[beat] * offset
            total += _store(session, Batch(survey, wave.id, period, beat, feeling, RESPONSES_PER_PERIOD[beat]), rng)
            if RESPONSES_PER_PERIOD[beat] < DEFAULT_MIN_CELL:
                continue  # a beat too small to show anything (RV-06) stays suppressed everywhere
            # Residents whose concern was dealt with rate the contact a little better than the beat feels.
            contact = Batch(
                post_contact, None, period, beat, feeling + 0.1, POST_CONTACT_PER_PERIOD, POST_CONTACT_CATEGORIES
            )
            total += _store(session, contact, rng)
    rebuild_totals(session)  # the responses went in as bulk inserts, past the running totals
    _activity(session, rng, periods, now)
    session.flush()
    return (
        f"standard and post-contact surveys, {len(periods)} waves ({periods[0]} to {periods[-1]}) "
        f"over {len(BEATS)} beats, {total} responses"
    )
