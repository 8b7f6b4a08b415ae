"""Problem solving (SARA) use cases and read models: candidates, problems, their evidence, notes,
response plan, referrals and assessment. Each change writes its rows and its events together,
with the signature of commands.py's use cases (session, now, emit, actor, ...).

Kept beside commands.py and queries.py (already long) so that a problem's rules read in one place.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from beat_shared.clock import utc_iso
from beat_shared.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from concerns import store, views
from concerns.domain import geo
from concerns.domain.assessment import Assessment, assess, windows
from concerns.domain.problems import Stage, check_move, check_outcome, is_open, time_profile
from concerns.domain.scanning import ProblemCandidate, ScannedConcern, scan
from concerns.domain.workflow import Actor
from concerns.models import AgreedAction, Concern, Problem, ProblemConcern, ProblemNote, ReferralRequest, Tip
from concerns.settings import Settings

Emit = Callable[[str, str, dict[str, Any]], Any]


def _check_may_work(actor: Actor, beat_code: str) -> None:
    if not actor.may_manage(beat_code):
        raise PermissionDenied("only officers of this beat (or supervisors) may work its problems")


# --- scanning -------------------------------------------------------------------------------


def candidates(session: Session, settings: Settings, now: datetime, actor: Actor, beat_code: str) -> list[dict]:
    """The beat's candidate problems (domain/scanning.py), leaving out concerns already linked to
    an open problem: each carries the body that opens it (`POST /problems`)."""
    store.beat(session, beat_code)
    _check_may_work(actor, beat_code)
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


# --- opening and linking --------------------------------------------------------------------


def open_problem(session: Session, now: datetime, emit: Emit, actor: Actor, body: dict[str, Any]) -> Problem:
    """Open a problem in Scanning from a candidate or by hand; emits beat.problem.opened."""
    beat_code = body["beat_code"]
    store.beat(session, beat_code)
    _check_may_work(actor, beat_code)
    for index, code in enumerate(body["categories"]):
        store.category(session, code, f"categories.{index}")
    centre = body.get("centre")
    problem = Problem(
        id=str(uuid.uuid4()),
        beat_code=beat_code,
        title=body["title"],
        summary=body.get("summary", ""),
        categories=sorted(set(body["categories"])),
        centre_lat=centre["lat"] if centre else None,
        centre_long=centre["long"] if centre else None,
        radius_metres=body["radius_metres"],
        origin=body["origin"],
        stage=Stage.SCANNING.value,
        referral_ids=[],
        opened_by=actor.subject,
        opened_at=now,
        stage_changed_at=now,
    )
    session.add(problem)
    session.flush()
    linked = _link(session, now, problem, body.get("concern_ids", []), actor.subject)
    if body.get("tell_reporters"):
        _tell_reporters(session, now, emit, actor, problem, linked)
    emit(
        "beat.problem.opened",
        problem.id,
        {**_facts(problem, now), "origin": problem.origin, "concern_ids": linked, "opened_by": actor.subject},
    )
    return problem


def _facts(problem: Problem, now: datetime) -> dict[str, Any]:
    return {
        "problem_id": problem.id,
        "beat_code": problem.beat_code,
        "categories": list(problem.categories),
        "stage": problem.stage,
        "occurred_at": utc_iso(now),
    }


def _link(session: Session, now: datetime, problem: Problem, concern_ids: Iterable[str], by: str) -> list[str]:
    """Link concerns of the problem's beat (each once); returns the ids newly linked."""
    wanted = list(dict.fromkeys(concern_ids))
    if not wanted:
        return []
    found = {
        row[0]: row[1] for row in session.execute(select(Concern.id, Concern.beat_code).where(Concern.id.in_(wanted)))
    }
    unknown = [key for key in wanted if key not in found]
    if unknown:
        raise InvalidInput("some concerns do not exist", {"concern_ids": [f"unknown: {', '.join(unknown)}"]})
    elsewhere = [key for key in wanted if found[key] != problem.beat_code]
    if elsewhere:
        raise InvalidInput(
            "a problem links concerns of its own beat only", {"concern_ids": [f"other beats: {', '.join(elsewhere)}"]}
        )
    already = set(
        session.scalars(
            select(ProblemConcern.concern_id).where(
                ProblemConcern.problem_id == problem.id, ProblemConcern.concern_id.in_(wanted)
            )
        )
    )
    new = [key for key in wanted if key not in already]
    for key in new:
        session.add(ProblemConcern(problem_id=problem.id, concern_id=key, linked_by=by, linked_at=now))
    session.flush()
    return new


def for_change(session: Session, problem_id: str, actor: Actor) -> Problem:
    problem = session.scalars(select(Problem).where(Problem.id == problem_id).with_for_update()).first()
    if problem is None:
        raise NotFound(f"problem {problem_id} does not exist")
    _check_may_work(actor, problem.beat_code)
    return problem


def _open_for_change(session: Session, problem_id: str, actor: Actor) -> Problem:
    problem = for_change(session, problem_id, actor)
    if not is_open(problem.stage):
        raise Conflict("the problem is closed: its record no longer changes", {"stage": ["closed"]})
    return problem


def link_concerns(
    session: Session, now: datetime, emit: Emit, actor: Actor, problem_id: str, concern_ids: list[str], tell: bool
) -> Problem:
    """Link concerns of the beat; with `tell`, their reporters hear of it (see _tell_reporters)."""
    problem = _open_for_change(session, problem_id, actor)
    linked = _link(session, now, problem, concern_ids, actor.subject)
    if tell:
        _tell_reporters(session, now, emit, actor, problem, linked)
    return problem


# A public note on each newly linked open concern: notifications turns it into news for its reporter.
JOINED_NOTES = {
    "en": "Your beat's officers are working on this together with similar concerns nearby, as one problem: {title}.",
    "es": (
        "Los agentes de su sector están trabajando en esto junto con inquietudes similares cercanas, "
        "como un solo problema: {title}."
    ),
}


def _tell_reporters(session: Session, now: datetime, emit: Emit, actor: Actor, problem: Problem, ids: list[str]) -> int:
    """Add the joined-a-problem public note to the open ones of `ids`; returns how many."""
    from concerns import commands  # commands imports this module (a new concern joins problems)

    concerns = session.scalars(select(Concern).where(Concern.id.in_(ids), Concern.status.in_(store.OPEN_VALUES)))
    told = 0
    for concern in list(concerns):
        text = JOINED_NOTES.get(concern.language, JOINED_NOTES["en"]).format(title=problem.title)
        commands.add_note(session, now, emit, concern.id, actor, commands.Note(concern.version, public_note=text))
        told += 1
    return told


def link_arrival(session: Session, now: datetime, concern: Concern) -> list[dict[str, Any]]:
    """Link a new concern to every open problem of its beat it matches (category, within the radius);
    returns those problems as its reporter may see them (id, title, stage)."""
    if concern.beat_code is None or concern.lat is None or concern.long is None:
        return []
    problems = session.scalars(
        select(Problem).where(Problem.beat_code == concern.beat_code, Problem.stage != Stage.CLOSED.value)
    )
    matched = [problem for problem in problems if _matches(problem, concern)]
    for problem in matched:
        session.add(ProblemConcern(problem_id=problem.id, concern_id=concern.id, linked_by="arrival", linked_at=now))
    return [{"id": problem.id, "title": problem.title, "stage": problem.stage} for problem in matched]


def _matches(problem: Problem, concern: Concern) -> bool:
    if concern.category_code not in problem.categories or problem.centre_lat is None or problem.centre_long is None:
        return False
    assert concern.lat is not None and concern.long is not None
    return (
        geo.distance_metres(problem.centre_lat, problem.centre_long, concern.lat, concern.long) <= problem.radius_metres
    )


# --- stages, analysis, response -------------------------------------------------------------


def move(session: Session, now: datetime, emit: Emit, actor: Actor, problem_id: str, target: Stage) -> Problem:
    """Move a problem to another stage by hand; emits beat.problem.stage_changed. Entering Response
    starts the response (its first start counts); leaving it for Assessment ends it."""
    problem = for_change(session, problem_id, actor)
    previous = Stage(problem.stage)
    check_move(previous, target)
    if target is Stage.RESPONSE and problem.response_started_at is None:
        problem.response_started_at = now
    if target is Stage.ASSESSMENT:
        problem.response_ended_at = now
    _set_stage(problem, target, now, emit, actor)
    return problem


def _set_stage(problem: Problem, target: Stage, now: datetime, emit: Emit, actor: Actor) -> None:
    previous = problem.stage
    problem.stage = target.value
    problem.stage_changed_at = now
    emit(
        "beat.problem.stage_changed",
        problem.id,
        {**_facts(problem, now), "previous_stage": previous, "changed_by": actor.subject},
    )


def add_note(session: Session, now: datetime, actor: Actor, problem_id: str, body: dict[str, Any]) -> ProblemNote:
    problem = _open_for_change(session, problem_id, actor)
    note = ProblemNote(
        problem_id=problem.id, side=body["side"], party=body["party"], text=body["text"], author=actor.subject, at=now
    )
    session.add(note)
    session.flush()
    return note


def add_action(session: Session, now: datetime, actor: Actor, problem_id: str, body: dict[str, Any]) -> AgreedAction:
    """Add an action to the response plan, or attach an action a meeting of the beat agreed."""
    problem = _open_for_change(session, problem_id, actor)
    if body.get("agreed_action_id"):
        action = session.get(AgreedAction, body["agreed_action_id"])
        if action is None or action.beat_code != problem.beat_code:
            raise InvalidInput("no such action in this beat", {"agreed_action_id": ["unknown in this beat"]})
        if action.problem_id not in (None, problem.id):
            raise Conflict("the action already belongs to another problem", {"agreed_action_id": ["taken"]})
        action.problem_id = problem.id
        action.owner_kind = action.owner_kind or body.get("owner_kind")
        return action
    missing = [name for name in ("description", "owner", "owner_kind", "due_date") if not body.get(name)]
    if missing:
        raise InvalidInput(
            "a new action needs a description, owner, owner_kind and due_date", {key: ["required"] for key in missing}
        )
    action = AgreedAction(
        id=str(uuid.uuid4()),
        meeting_id=None,
        beat_code=problem.beat_code,
        description=body["description"],
        owner=body["owner"],
        owner_kind=body["owner_kind"],
        due_date=body["due_date"],
        status="open",
        concern_ids=[],
        created_at=now,
        problem_id=problem.id,
    )
    session.add(action)
    session.flush()
    return action


def check_plan_of(session: Session, beat_code: str, problem_id: str, field_name: str) -> None:
    """Raise InvalidInput unless `problem_id` is an open problem of the beat (a meeting's action joins its plan)."""
    problem = session.get(Problem, problem_id)
    if problem is None or problem.beat_code != beat_code or not is_open(problem.stage):
        raise InvalidInput("no such open problem in the meeting's beat", {field_name: ["unknown or closed"]})


def link_referral(session: Session, actor: Actor, problem_id: str, referral_id: str) -> Problem:
    """Link a referral made for the problem (its id in the referrals service)."""
    problem = _open_for_change(session, problem_id, actor)
    _add_referral(problem, referral_id)
    return problem


def _add_referral(problem: Problem, referral_id: str) -> None:
    if referral_id not in problem.referral_ids:
        problem.referral_ids = [*problem.referral_ids, referral_id]


def request_referral(
    session: Session, now: datetime, emit: Emit, actor: Actor, problem_id: str, body: dict[str, Any]
) -> ReferralRequest:
    """Ask referrals to find help for someone for the problem (in its beat, with their consent):
    the referral drafted from the request joins the problem (`referral_created`)."""
    from concerns import commands  # commands imports this module (a new concern joins problems)

    problem = _open_for_change(session, problem_id, actor)
    ask = commands.ReferralAsk(
        need_category=body["need_category"],
        urgency=body["urgency"],
        client=body["client"],
        consent=body["consent"],
        beat_code=problem.beat_code,
    )
    request = commands.request_referral(session, now, emit, actor, ask)
    request.problem_id = problem.id
    return request


def referral_created(session: Session, request_id: str | None, referral_id: str) -> bool:
    """Referrals drafted `referral_id` from a request: link it to the problem the request was made
    for (even a closed one: it was made for it); returns whether it was linked."""
    request = session.get(ReferralRequest, request_id) if request_id else None
    if request is None or request.problem_id is None:
        return False
    problem = session.scalars(select(Problem).where(Problem.id == request.problem_id).with_for_update()).first()
    if problem is None:
        return False
    _add_referral(problem, referral_id)
    return True


# --- assessment -----------------------------------------------------------------------------


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
    problem = _readable(session, actor, problem_id)
    return assessment_view(measure(session, settings, now, problem))


def close_with_assessment(
    session: Session, settings: Settings, now: datetime, emit: Emit, actor: Actor, problem_id: str, outcome: str
) -> Problem:
    """Close a problem in Assessment with its outcome and the figures, kept as its evidence; emits
    beat.problem.stage_changed and beat.problem.assessed."""
    problem = _open_for_change(session, problem_id, actor)
    if problem.stage != Stage.ASSESSMENT.value:
        raise Conflict(f"a problem in {problem.stage} is not being assessed", {"stage": [problem.stage]})
    check_outcome(outcome)
    result = measure(session, settings, now, problem)
    problem.assessment = assessment_view(result)
    problem.outcome = outcome
    problem.closed_at = now
    _set_stage(problem, Stage.CLOSED, now, emit, actor)
    emit(
        "beat.problem.assessed",
        problem.id,
        {
            **_facts(problem, now),
            "outcome": outcome,
            "window_weeks": round(result.windows.weeks, 3),
            "area_before_per_week": result.per_week(result.area_before),
            "area_after_per_week": result.per_week(result.area_after),
            "control_before_per_week": result.per_week(result.control_before),
            "control_after_per_week": result.per_week(result.control_after),
            "p_value": result.p_value,
        },
    )
    return problem


# --- reading --------------------------------------------------------------------------------


def _readable(session: Session, actor: Actor, problem_id: str) -> Problem:
    problem = session.get(Problem, problem_id)
    if problem is None:
        raise NotFound(f"problem {problem_id} does not exist")
    _check_may_work(actor, problem.beat_code)
    return problem


def _summary(problem: Problem, concerns: int) -> dict[str, Any]:
    return {
        "id": problem.id,
        "beat_code": problem.beat_code,
        "title": problem.title,
        "summary": problem.summary,
        "categories": problem.categories,
        "stage": problem.stage,
        "outcome": problem.outcome,
        "origin": problem.origin,
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
    _check_may_work(actor, beat_code)
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
    problem = _readable(session, actor, problem_id)
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
        "id": note.id,
        "side": note.side,
        "party": note.party,
        "text": note.text,
        "author": note.author,
        "at": utc_iso(note.at),
    }


def action_view(action: AgreedAction, public: bool = False) -> dict[str, Any]:
    view = {
        "id": action.id,
        "meeting_id": action.meeting_id,
        "description": action.description,
        "owner_kind": action.owner_kind,
        "due_date": action.due_date.isoformat(),
        "status": action.status,
        "completed_at": utc_iso(action.completed_at) if action.completed_at else None,
    }
    return view if public else {**view, "owner": action.owner}


def public_problem(session: Session, problem_id: str) -> dict[str, Any]:
    """A problem as anyone may read it: no notes, no concerns' details, no owners' names, the area
    rounded like every public location; the assessment's figures are counts only."""
    problem = session.get(Problem, problem_id)
    if problem is None:
        raise NotFound(f"problem {problem_id} does not exist")
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


def beat_problem_counts(session: Session, beat_code: str, since: datetime) -> dict[str, Any]:
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
