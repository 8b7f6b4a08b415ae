"""Changing the surveys database: invitations, responses, the report card's read model.

Use cases that publish take the unit of work first, as in every service: the session, the
settings, the time (`now`) and `emit` (the outbox writer's `add`), so their rows and events are
written in one transaction and a test can run them with a FrozenClock and recorded events.

A response row is written with the wave's period (never a timestamp) and a random id; the
invitation that allowed it is marked used and forgets its recipient in the same transaction,
so after the commit nothing connects the two.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from beat_shared.clock import utc_iso
from beat_shared.db import adding_upsert, insert_unless_exists
from beat_shared.errors import Conflict, InvalidInput, RateLimited
from beat_shared.isotime import parse_iso
from beat_shared.rows import Emit, fields_of
from surveys.catalogue import post_contact_version
from surveys.domain.definitions import construct_scores, score_response
from surveys.domain.periods import quarter_of
from surveys.domain.tokens import LANGUAGES, device_hash, recipient_key, token_for, token_hash
from surveys.models import (
    CONSTRUCT_COLUMNS,
    Answer,
    BeatPopulation,
    ConcernActivity,
    Invitation,
    MeetingActivity,
    OpenLinkCount,
    OpenLinkUse,
    ProblemActivity,
    ReferralActivity,
    Response,
    ResultsChange,
    Survey,
    Wave,
)
from surveys.queries import InvitationUsed, Submitted, SurveyClosed, check_open, invitation_by_token, open_link_wave
from surveys.settings import SurveySettings
from surveys.totals import Placement, add_to_totals, response_rows

# --- invitations ------------------------------------------------------------------------

# What beat.survey.invitation_created says besides its id: no personal data, an opaque reference.
INVITATION_FACTS = ("survey_id", "wave_id", "kind", "concern_id", "recipient_ref", "beat_code", "language")


def invitation_event(invitation: Invitation, now: datetime) -> dict[str, Any]:
    """The data of beat.survey.invitation_created."""
    facts = fields_of(invitation, INVITATION_FACTS, invitation_id="id")
    return {**facts, "expires_at": utc_iso(invitation.expires_at), "occurred_at": utc_iso(now)}


def _new_invitation(secret: bytes, **fields: Any) -> Invitation:
    invitation_id = str(uuid.uuid4())
    return Invitation(id=invitation_id, token_hash=token_hash(token_for(secret, invitation_id)), used=False, **fields)


def issue_wave_invitations(
    session: Session,
    settings: SurveySettings,
    now: datetime,
    emit: Emit,
    wave: Wave,
    recipients: dict[str, list[str]],
) -> list[Invitation]:
    """One invitation and one `beat.survey.invitation_created` per beat subscriber not yet invited
    to this wave (notifications sends them)."""
    secret = settings.token_secret
    expires_at = max(wave.closes_at, now)
    existing = set(session.scalars(select(Invitation.recipient_key).where(Invitation.wave_id == wave.id)))
    created = []
    for beat_code in wave.beat_codes:
        for ref in recipients.get(beat_code, []):
            key = recipient_key(secret, wave.id, ref)
            if key in existing:
                continue
            existing.add(key)
            invitation = _new_invitation(
                secret,
                survey_id=wave.survey_id,
                wave_id=wave.id,
                kind="wave",
                recipient_ref=ref,
                recipient_key=key,
                beat_code=beat_code,
                language="en",  # notifications knows the subscriber's language and localises
                created_at=now,
                expires_at=expires_at,
            )
            session.add(invitation)
            created.append(invitation)
    session.flush()
    for invitation in created:
        emit("beat.survey.invitation_created", invitation.id, invitation_event(invitation, now))
    return created


def _invite_after_contact(
    session: Session,
    activity: ConcernActivity,
    survey: Survey,
    language: str,
    secret: bytes,
    days: int,
    now: datetime,
) -> Invitation | None:
    """The post-contact invitation for a concern's reporter, once per concern."""
    if activity.follow_up_invited:
        return None
    activity.follow_up_invited = True
    invitation = _new_invitation(
        secret,
        survey_id=survey.id,
        wave_id=None,
        kind="post_contact",
        concern_id=activity.concern_id,
        beat_code=activity.beat_code,
        category_code=activity.category_code,
        language=language if language in LANGUAGES else "en",
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(invitation)
    session.flush()
    return invitation


# --- the report card's read model -------------------------------------------------------


def record_concern_activity(session: Session, data: dict[str, Any], **moments: datetime | None) -> ConcernActivity:
    """Upsert the report card's facts about a concern (events may arrive in any order)."""
    # Locked: the handlers of one concern's events may run at the same time, and only one of them
    # may invite the reporter. The row is made first if missing (one statement that a concurrent
    # first insert cannot make fail), then read under the lock.
    insert_unless_exists(session, ConcernActivity, {"concern_id": data["concern_id"], "follow_up_invited": False})
    activity = session.get(ConcernActivity, data["concern_id"], with_for_update=True, populate_existing=True)
    assert activity is not None
    activity.beat_code = data.get("beat_code") or activity.beat_code
    activity.category_code = data.get("category_code") or activity.category_code
    for name, moment in moments.items():
        if moment is not None and getattr(activity, name) is None:
            setattr(activity, name, moment)
    session.flush()
    return activity


def concern_ended(
    session: Session, settings: SurveySettings, now: datetime, emit: Emit, data: dict[str, Any], moment_name: str
) -> Invitation | None:
    """Record a concern's ending (`resolved_at` or `closed_at`); invite the reporter to the
    post-contact survey, once, if they left contact."""
    acknowledged = data.get("acknowledged_at")
    activity = record_concern_activity(
        session,
        data,
        submitted_at=parse_iso(data["submitted_at"]),
        acknowledged_at=parse_iso(acknowledged) if acknowledged else None,
        **{moment_name: parse_iso(data["occurred_at"])},
    )
    if not data["has_contact"]:
        return None
    survey = post_contact_version(session, now)
    invitation = _invite_after_contact(
        session, activity, survey, data["language"], settings.token_secret, settings.post_contact_days, now
    )
    if invitation is not None:
        emit("beat.survey.invitation_created", invitation.id, invitation_event(invitation, now))
    return invitation


def record_meeting(session: Session, data: dict[str, Any]) -> None:
    """A held meeting counts on its beat's report card. One concluded before it started (concerns
    refuses that now; older events may say so) was not held: it does not count."""
    if parse_iso(data["starts_at"]) > parse_iso(data["occurred_at"]):
        return
    if session.get(MeetingActivity, data["meeting_id"]) is None:
        session.add(
            MeetingActivity(
                meeting_id=data["meeting_id"],
                beat_code=data["beat_code"],
                kind=data["kind"],
                held_at=parse_iso(data["starts_at"]),
            )
        )


def record_referral_sent(session: Session, data: dict[str, Any]) -> None:
    """A referral sent from a beat counts on its report card (once per referral)."""
    if session.get(ReferralActivity, data["referral_id"]) is None:
        session.add(
            ReferralActivity(
                referral_id=data["referral_id"],
                beat_code=data.get("beat_code"),
                need_category=data["need_category"],
                sent_at=parse_iso(data["occurred_at"]),
            )
        )


def record_problem(session: Session, data: dict[str, Any], assessed: bool = False) -> None:
    """A problem counts as worked on its beat from its earliest event (its opening; the events
    travel on separate queues, so a later stage may arrive first) and, once assessed, as solved
    or not by its outcome."""
    moment = parse_iso(data["occurred_at"])
    row = {"problem_id": data["problem_id"], "beat_code": data["beat_code"], "opened_at": moment}
    insert_unless_exists(session, ProblemActivity, row)
    # Locked: two of one problem's events may be handled at the same time.
    problem = session.get(ProblemActivity, data["problem_id"], with_for_update=True, populate_existing=True)
    assert problem is not None
    problem.opened_at = min(problem.opened_at, moment)
    if assessed and problem.assessed_at is None:
        problem.assessed_at, problem.outcome = moment, data["outcome"]
    session.flush()


def set_population(session: Session, beat_code: str, population: int) -> None:
    """A beat's population, for post-stratification weights."""
    row = session.get(BeatPopulation, beat_code) or BeatPopulation(beat_code=beat_code)
    row.population = population
    session.add(row)


# --- responses --------------------------------------------------------------------------


def submit_with_token(session: Session, token: str, answers: dict[str, Any], language: str, now: datetime) -> Submitted:
    """Store the answers under a one-time token. Raises NotFound for an unknown token,
    InvitationUsed (409) for a used one, SurveyClosed (409) outside the wave or after expiry,
    InvalidInput for bad answers."""
    invitation = invitation_by_token(session, token)
    if invitation.used:
        raise InvitationUsed("this invitation has already been used")
    if invitation.expires_at <= now:
        raise SurveyClosed("this invitation has expired")
    wave = session.get(Wave, invitation.wave_id) if invitation.wave_id else None
    check_open(wave, now)
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
    check_open(wave, now)
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


def publish_results_updates(session: Session, now: datetime, emit: Emit) -> int:
    """Announce `beat.survey.results_updated` once per period whose results changed."""
    changes = list(session.scalars(select(ResultsChange).where(ResultsChange.pending.is_(True))))
    for change in changes:
        change.pending = False
        emit(
            "beat.survey.results_updated",
            change.survey_id,
            {
                "survey_id": change.survey_id,
                "period": change.period,
                "beat_codes": list(change.beat_codes),
                "occurred_at": utc_iso(now),
            },
        )
    return len(changes)
