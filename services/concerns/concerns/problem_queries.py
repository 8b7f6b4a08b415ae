"""Problem solving (SARA) read models: the beat's candidates from scanning, the officers' workspace
(evidence on the city's clock, linked concerns, notes, response plan, referral requests, tips), the
assessment's figures as they stand, the public page and the beat page's list and tally.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from beat_shared.clock import utc_iso
from beat_shared.db import existing
from beat_shared.errors import Conflict, PermissionDenied
from beat_shared.rows import fields_of
from concerns import store, views
from concerns.domain import geo
from concerns.domain.assessment import Assessment, assess, windows
from concerns.domain.problems import Stage, is_open, time_profile
from concerns.domain.scanning import ProblemCandidate, ScannedConcern, scan
from concerns.domain.workflow import Actor
from concerns.models import AgreedAction, Concern, Problem, ProblemConcern, ProblemNote, ReferralRequest, Tip
from concerns.settings import Settings


def check_may_work(actor: Actor, beat_code: str) -> None:
    if not actor.may_manage(beat_code):
        raise PermissionDenied("only officers of this beat (or supervisors) may work its problems")


def candidates(session: Session, settings: Settings, now: datetime, actor: Actor, beat_code: str) -> list[dict]:
    """The beat's candidate problems (domain/scanning.py), leaving out concerns already linked to
    an open problem: each carries the body that opens it (`POST /problems`)."""
    store.beat(session, beat_code)
    check_may_work(actor, beat_code)
    worked = select(ProblemConcern.concern_id).join(Problem, Problem.id == ProblemConcern.problem_id)
    worked = worked.where(Problem.beat_code == beat_code, Problem.stage != Stage.CLOSED.value)
    rows = session.execute(
        select(Concern.id, Concern.category_code, Concern.lat, Concern.long, Concern.submitted_at, Concern.supporters)
        .where(Concern.beat_code == beat_code, Concern.lat.is_not(None), Concern.long.is_not(None))
        .where(Concern.merged_into.is_(None), Concern.id.not_in(worked))
        .where(Concern.submitted_at >= now - timedelta(days=settings.scan_rules.days))  # the rest cannot count
    )
    scanned = [ScannedConcern(row[0], row[1], row[2], row[3], row[4], row[5]) for row in rows]
    return [_candidate_view(beat_code, found) for found in scan(scanned, settings.scan_rules, now)]


def _candidate_view(beat_code: str, found: ProblemCandidate) -> dict[str, Any]:
    return {
        "category": found.category_code,
        "count": found.count,
        "support": found.support,
        "first_at": utc_iso(found.first_at),
        "last_at": utc_iso(found.last_at),
        "centre": {"lat": found.centre_lat, "long": found.centre_long},
        "radius_metres": found.radius_metres,
        "concern_ids": list(found.concern_ids),
        "open_with": {
            "beat_code": beat_code,
            "title": f"Repeated {found.category_code.replace('_', ' ')} concerns",
            "categories": [found.category_code],
            "centre": {"lat": found.centre_lat, "long": found.centre_long},
            "radius_metres": max(found.radius_metres, 50),
            "concern_ids": list(found.concern_ids),
            "origin": "candidate",
        },
    }


def measure(session: Session, settings: Settings, now: datetime, problem: Problem) -> Assessment:
    """Before/after figures of the problem's area against the rest of its beat (domain/assessment.py):
    the area is the problem's circle, or, for a problem opened without a place, its linked concerns."""
    if problem.response_started_at is None or problem.response_ended_at is None:
        raise Conflict("assess a problem after its response: move it to assessment first", {"stage": [problem.stage]})
    span = windows(problem.response_started_at, problem.response_ended_at, now, settings.assessment_days)
    if span.weeks < 1:
        raise Conflict(
            "too soon to assess: at least a week must pass after the response ended",
            {"response_ended_at": [utc_iso(problem.response_ended_at)]},
        )
    query = select(Concern.id, Concern.lat, Concern.long, Concern.submitted_at).where(
        Concern.beat_code == problem.beat_code,
        Concern.category_code.in_(problem.categories),
        Concern.submitted_at >= span.before_start,
        Concern.submitted_at < span.after_end,
    )
    centre = (problem.centre_lat, problem.centre_long)
    placed = centre[0] is not None and centre[1] is not None
    # A problem with a place is its circle; one without is the concerns linked to it.
    linked: set[str] = set()
    if placed:
        query = query.where(Concern.lat.is_not(None))
    else:
        linked = set(session.scalars(select(ProblemConcern.concern_id).where(ProblemConcern.problem_id == problem.id)))
    area: list[datetime] = []
    control: list[datetime] = []
    for concern_id, lat, long, at in session.execute(query):
        if placed:
            inside = geo.distance_metres(centre[0], centre[1], lat, long) <= problem.radius_metres  # type: ignore[arg-type]
        else:
            inside = concern_id in linked
        (area if inside else control).append(at)
    return assess(area, control, span)


def assessment_view(result: Assessment) -> dict[str, Any]:
    span = result.windows
    return {
        "window_weeks": round(span.weeks, 3),
        "before": {"from": utc_iso(span.before_start), "to": utc_iso(span.before_end)},
        "after": {"from": utc_iso(span.after_start), "to": utc_iso(span.after_end)},
        "area": {
            "before": result.area_before,
            "after": result.area_after,
            "before_per_week": result.per_week(result.area_before),
            "after_per_week": result.per_week(result.area_after),
        },
        "control": {
            "before": result.control_before,
            "after": result.control_after,
            "before_per_week": result.per_week(result.control_before),
            "after_per_week": result.per_week(result.control_after),
        },
        "test": {
            "name": "exact conditional binomial test (area's after-share against the control's)",
            "expected_share": round(result.expected_share, 6),
            "p_value": result.p_value,
            "significant": result.significant,
        },
    }


def preview_assessment(session: Session, settings: Settings, now: datetime, actor: Actor, problem_id: str) -> dict:
    problem = readable(session, actor, problem_id)
    return assessment_view(measure(session, settings, now, problem))


def readable(session: Session, actor: Actor, problem_id: str) -> Problem:
    problem = existing(session, Problem, problem_id, "problem")
    check_may_work(actor, problem.beat_code)
    return problem


SUMMARY_FIELDS = ("id", "beat_code", "title", "summary", "categories", "stage", "outcome", "origin")


def _summary(problem: Problem, concerns: int) -> dict[str, Any]:
    return {
        **fields_of(problem, SUMMARY_FIELDS),
        "concerns": concerns,
        "opened_at": utc_iso(problem.opened_at),
        "stage_changed_at": utc_iso(problem.stage_changed_at),
        "closed_at": utc_iso(problem.closed_at) if problem.closed_at else None,
    }


def _counts(session: Session, ids: list[str]) -> dict[str, int]:
    if not ids:
        return {}
    rows = session.execute(
        select(ProblemConcern.problem_id, func.count())
        .where(ProblemConcern.problem_id.in_(ids))
        .group_by(ProblemConcern.problem_id)
    )
    return {row[0]: row[1] for row in rows}


def beat_problems(session: Session, actor: Actor, beat_code: str, stage: str | None) -> list[dict[str, Any]]:
    store.beat(session, beat_code)
    check_may_work(actor, beat_code)
    query = select(Problem).where(Problem.beat_code == beat_code)
    if stage == "open":
        query = query.where(Problem.stage != Stage.CLOSED.value)
    elif stage:
        query = query.where(Problem.stage == stage)
    problems = list(session.scalars(query.order_by(Problem.opened_at.desc(), Problem.id)))
    counts = _counts(session, [problem.id for problem in problems])
    return [_summary(problem, counts.get(problem.id, 0)) for problem in problems]


def _linked_concerns(session: Session, problem_id: str) -> list[Concern]:
    query = (
        select(Concern)
        .join(ProblemConcern, ProblemConcern.concern_id == Concern.id)
        .where(ProblemConcern.problem_id == problem_id)
        .order_by(Concern.submitted_at, Concern.id)
    )
    return list(session.scalars(query))


def _actions(session: Session, problem_id: str) -> list[AgreedAction]:
    query = select(AgreedAction).where(AgreedAction.problem_id == problem_id)
    return list(session.scalars(query.order_by(AgreedAction.due_date, AgreedAction.id)))


def evidence(concerns: list[Concern], zone: ZoneInfo) -> dict[str, Any]:
    """The analysis's evidence from the linked concerns: how many, "me too"s, when (on the city's
    clock, `zone`) and of what kind."""
    times = [concern.submitted_at for concern in concerns]
    return {
        "count": len(concerns),
        "support": sum(concern.supporters for concern in concerns),
        "first_at": utc_iso(min(times)) if times else None,
        "last_at": utc_iso(max(times)) if times else None,
        "by_category": dict(Counter(concern.category_code for concern in concerns)),
        "timezone": zone.key,
        **time_profile(times, zone),
    }


def workspace(session: Session, settings: Settings, now: datetime, actor: Actor, problem_id: str) -> dict[str, Any]:
    """The officers' view of a problem: evidence, linked concerns, notes, response plan, referrals,
    linked tips (how many: reading one is audited), and its assessment."""
    problem = readable(session, actor, problem_id)
    concerns = _linked_concerns(session, problem.id)
    notes = session.scalars(
        select(ProblemNote).where(ProblemNote.problem_id == problem.id).order_by(ProblemNote.at, ProblemNote.id)
    )
    tips = session.scalar(select(func.count()).select_from(Tip).where(Tip.problem_id == problem.id)) or 0
    return {
        **_summary(problem, len(concerns)),
        "area": _area(problem, exact=True),
        "referral_ids": problem.referral_ids,
        "referral_requests": [views.referral_request_view(made) for made in _referral_requests(session, problem.id)],
        "response_started_at": utc_iso(problem.response_started_at) if problem.response_started_at else None,
        "response_ended_at": utc_iso(problem.response_ended_at) if problem.response_ended_at else None,
        "evidence": evidence(concerns, settings.timezone),
        "linked_concerns": [_linked_view(concern) for concern in concerns],
        "notes": [note_view(note) for note in notes],
        "actions": [action_view(action) for action in _actions(session, problem.id)],
        "tips": tips,
        "assessment": problem.assessment,
    }


def _referral_requests(session: Session, problem_id: str) -> list[ReferralRequest]:
    query = select(ReferralRequest).where(ReferralRequest.problem_id == problem_id)
    return list(session.scalars(query.order_by(ReferralRequest.created_at, ReferralRequest.id)))


def _area(problem: Problem, exact: bool) -> dict[str, Any] | None:
    if problem.centre_lat is None or problem.centre_long is None:
        return None
    lat, long = (
        (problem.centre_lat, problem.centre_long)
        if exact
        else geo.public_point(problem.centre_lat, problem.centre_long)
    )
    return {"centre": {"lat": lat, "long": long}, "radius_metres": problem.radius_metres}


def _linked_view(concern: Concern) -> dict[str, Any]:
    return {
        "id": concern.id,
        "category": concern.category_code,
        "status": concern.status,
        "submitted_at": utc_iso(concern.submitted_at),
        "location": {"lat": concern.lat, "long": concern.long},
        "supporters": concern.supporters,
    }


def note_view(note: ProblemNote) -> dict[str, Any]:
    return {
        **fields_of(note, ("id", "side", "party", "text", "author")),
        "at": utc_iso(note.at),
    }


def action_view(action: AgreedAction, public: bool = False) -> dict[str, Any]:
    """An action of the response plan (views.action_view with who owns it); the public see no names
    and no concerns."""
    view = {**views.action_view(action), "owner_kind": action.owner_kind}
    return {key: value for key, value in view.items() if key not in ("owner", "concern_ids")} if public else view


def public_problem(session: Session, problem_id: str) -> dict[str, Any]:
    """A problem as anyone may read it: no notes, no concerns' details, no owners' names, the area
    rounded like every public location; the assessment's figures are counts only."""
    problem = existing(session, Problem, problem_id, "problem")
    return {
        **_summary(problem, _counts(session, [problem.id]).get(problem.id, 0)),
        "area": _area(problem, exact=False),
        "actions": [action_view(action, public=True) for action in _actions(session, problem.id)],
        "assessment": problem.assessment,
    }


def public_beat_problems(session: Session, beat_code: str, since: datetime) -> list[dict[str, Any]]:
    """The beat page's problems: those being worked and those closed since `since`, public summaries."""
    worked = Problem.stage != Stage.CLOSED.value
    query = select(Problem).where(Problem.beat_code == beat_code, worked | (Problem.closed_at >= since))
    found = list(session.scalars(query.order_by(Problem.opened_at.desc(), Problem.id).limit(10)))
    counts = _counts(session, [problem.id for problem in found])
    return [_summary(problem, counts.get(problem.id, 0)) for problem in found]


def beat_tally(session: Session, beat_code: str, since: datetime) -> dict[str, Any]:
    """The beat page's tally: problems being worked, and those closed since `since` (solved among them)."""
    worked = Problem.stage != Stage.CLOSED.value
    rows = session.execute(
        select(Problem.stage, Problem.outcome).where(
            Problem.beat_code == beat_code, worked | (Problem.closed_at >= since)
        )
    ).all()
    closed = [outcome for stage, outcome in rows if not is_open(stage)]
    return {
        "being_worked": len(rows) - len(closed),
        "closed": len(closed),
        "solved": closed.count("solved"),
        "since": utc_iso(since),
    }
