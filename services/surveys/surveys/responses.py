"""Taking responses: through a one-time invitation token or a wave's open link.

A response row is written with the wave's period (never a timestamp) and a random
id; the invitation that allowed it is marked used and forgets its recipient in the
same transaction, so after the commit nothing connects the two.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from beat_shared.db import adding_upsert
from beat_shared.errors import Conflict, InvalidInput, NotFound, RateLimited
from surveys.definitions import construct_scores, localise, score_response
from surveys.invitations import LANGUAGES, token_hash
from surveys.models import (
    CONSTRUCT_COLUMNS,
    Answer,
    Invitation,
    OpenLinkCount,
    OpenLinkUse,
    Response,
    ResultsChange,
    Survey,
    Wave,
)
from surveys.periods import quarter_of
from surveys.totals import Placement, add_to_totals, response_rows


class InvitationUsed(Conflict):
    code = "invitation_used"


class SurveyClosed(Conflict):
    code = "survey_closed"


@dataclass(frozen=True)
class Submitted:
    survey_code: str
    period: str
    beat_code: str | None


def _invitation_by_token(session: Session, token: str) -> Invitation:
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == token_hash(token)))
    if invitation is None:
        raise NotFound("this survey link is not valid")
    return invitation


def survey_for_token(session: Session, token: str, language: str | None, now: datetime) -> dict[str, Any]:
    """The survey an invitation token opens, in the requested (or invitation's) language."""
    invitation = _invitation_by_token(session, token)
    if invitation.used:
        raise InvitationUsed("this invitation has already been used; thank you for taking part")
    if invitation.expires_at <= now:
        raise SurveyClosed("this invitation has expired")
    survey = session.get(Survey, invitation.survey_id)
    assert survey is not None
    chosen = language if language in LANGUAGES else invitation.language
    return localise(_definition(survey), chosen)


def _definition(survey: Survey) -> dict[str, Any]:
    return {
        "survey_id": survey.id,
        "code": survey.code,
        "version": survey.version,
        "kind": survey.kind,
        "title": survey.title,
        "description": survey.description,
        "questions": survey.questions,
    }


def _check_open(wave: Wave | None, now: datetime) -> None:
    if wave is not None and not wave.opens_at <= now < wave.closes_at:
        raise SurveyClosed("this survey is not open for responses now")


def submit_with_token(session: Session, token: str, answers: dict[str, Any], language: str, now: datetime) -> Submitted:
    """Store the answers under a one-time token. Raises NotFound for an unknown token,
    InvitationUsed (409) for a used one, SurveyClosed (409) outside the wave or after expiry,
    InvalidInput for bad answers."""
    invitation = _invitation_by_token(session, token)
    if invitation.used:
        raise InvitationUsed("this invitation has already been used")
    if invitation.expires_at <= now:
        raise SurveyClosed("this invitation has expired")
    wave = session.get(Wave, invitation.wave_id) if invitation.wave_id else None
    _check_open(wave, now)
    survey = session.get(Survey, invitation.survey_id)
    assert survey is not None
    period = wave.period if wave is not None else quarter_of(now)
    beat_code, category_code = invitation.beat_code, invitation.category_code
    # Consume atomically: of two concurrent submissions only one update matches.
    consumed = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used.is_(False))
        .values(used=True, recipient_ref=None, concern_id=None, beat_code=None, category_code=None)
        .execution_options(synchronize_session=False)
    )
    if consumed.rowcount != 1:
        raise InvitationUsed("this invitation has already been used")
    _store(session, survey, wave, "invited", beat_code, category_code, period, language, answers)
    return Submitted(survey.code, period, beat_code)


def device_hash(secret: bytes, wave_id: str, day: str, fingerprint: str) -> str:
    """A keyed hash of the device, different every day: enough to count, useless to track."""
    return hmac.new(secret, f"open:{wave_id}:{day}:{fingerprint}".encode(), hashlib.sha256).hexdigest()


def open_link_wave(session: Session, slug: str) -> Wave:
    wave = session.scalar(select(Wave).where(Wave.open_link_slug == slug))
    if wave is None:
        raise NotFound("this open survey link is not valid")
    return wave


def survey_for_open_link(session: Session, slug: str, language: str | None) -> dict[str, Any]:
    wave = open_link_wave(session, slug)
    survey = session.get(Survey, wave.survey_id)
    assert survey is not None
    return {**localise(_definition(survey), language if language in LANGUAGES else "en"), "beats": wave.beat_codes}


def submit_open(
    session: Session,
    slug: str,
    beat_code: str,
    answers: dict[str, Any],
    language: str,
    fingerprint: str,
    secret: bytes,
    now: datetime,
) -> Submitted:
    """A response through a wave's open link, within its limits.

    Raises RateLimited when this device already answered `daily_limit` times today and
    Conflict when the beat's cap on open-link responses is reached.
    """
    wave = open_link_wave(session, slug)
    _check_open(wave, now)
    if beat_code not in wave.beat_codes:
        raise InvalidInput("this wave does not cover that beat", {"beat_code": wave.beat_codes})
    day = now.date().isoformat()
    # Count first, atomically, then check the new counts: of concurrent submissions over a
    # limit exactly the extra ones fail, and their rollback takes their increment back.
    key = device_hash(secret, wave.id, day, fingerprint)
    use = adding_upsert(
        session, OpenLinkUse, [{"wave_id": wave.id, "day": day, "device_hash": key, "uses": 1}], ("uses",)
    )
    if session.execute(use.returning(OpenLinkUse.uses)).scalar_one() > wave.open_link_daily_limit:
        tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=now.tzinfo)
        raise RateLimited("this device has answered this survey enough times today", int((tomorrow - now).seconds))
    count = adding_upsert(
        session, OpenLinkCount, [{"wave_id": wave.id, "beat_code": beat_code, "responses": 1}], ("responses",)
    )
    responses = session.execute(count.returning(OpenLinkCount.responses)).scalar_one()
    if wave.open_link_max_per_beat is not None and responses > wave.open_link_max_per_beat:
        raise Conflict("the open link has reached its limit of responses for this beat")
    survey = session.get(Survey, wave.survey_id)
    assert survey is not None
    _store(session, survey, wave, "open", beat_code, None, wave.period, language, answers)
    return Submitted(survey.code, wave.period, beat_code)


def _store(
    session: Session,
    survey: Survey,
    wave: Wave | None,
    channel: str,
    beat_code: str | None,
    category_code: str | None,
    period: str,
    language: str,
    answers: dict[str, Any],
) -> None:
    scored = score_response(survey.questions, answers)
    constructs = construct_scores(survey.questions, scored)
    response = Response(
        id=str(uuid.uuid4()),
        survey_id=survey.id,
        survey_code=survey.code,
        wave_id=wave.id if wave is not None else None,
        kind=survey.kind,
        channel=channel,
        beat_code=beat_code,
        category_code=category_code,
        period=period,
        language=language if language in LANGUAGES else "en",
        **{name: constructs.get(name) for name in CONSTRUCT_COLUMNS},
    )
    session.add(response)
    session.flush()
    session.add_all(
        Answer(
            response_id=response.id,
            item_code=answer.item_code,
            survey_code=survey.code,
            beat_code=beat_code,
            category_code=category_code,
            period=period,
            value_num=answer.value_num,
            value_text=answer.value_text,
            score=answer.score,
        )
        for answer in scored
    )
    placement = Placement(survey.code, period, channel, beat_code, category_code)
    add_to_totals(session, response_rows(placement, constructs, scored))
    mark_results_changed(session, survey, period, beat_code)
    session.flush()


def mark_results_changed(session: Session, survey: Survey, period: str, beat_code: str | None) -> None:
    """Remember that this period's results changed; a timer publishes the event."""
    change = session.get(ResultsChange, (survey.code, period))
    if change is None:
        session.add(
            ResultsChange(
                survey_code=survey.code,
                period=period,
                survey_id=survey.id,
                beat_codes=[beat_code] if beat_code else [],
                pending=True,
            )
        )
        return
    # After an announcement the next one names only the beats that changed since.
    beats = set(change.beat_codes) if change.pending else set()
    beats.update([beat_code] if beat_code else [])
    change.pending = True
    change.survey_id = survey.id
    change.beat_codes = sorted(beats)


def pending_results_changes(session: Session) -> list[ResultsChange]:
    """Changes to announce, marked as announced (the caller writes the events in this transaction)."""
    changes = list(session.scalars(select(ResultsChange).where(ResultsChange.pending.is_(True))))
    for change in changes:
        change.pending = False
    return changes
