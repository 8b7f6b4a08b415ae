"""Problem solving (SARA) use cases that change state: opening a problem, linking concerns (by
hand and as they arrive), stage moves, analysis notes, the response plan, referrals made for it and
closing it with its assessment. Each writes its rows and its events together, with the signature
of commands.py's use cases (session, now, emit, actor, ...); what they read is problem_queries.py's.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from beat_shared.clock import utc_iso
from beat_shared.errors import Conflict, InvalidInput, NotFound
from concerns import store
from concerns.domain import geo
from concerns.domain.problems import OpenProblem, Stage, check_move, check_outcome, is_open
from concerns.domain.workflow import Actor
from concerns.models import AgreedAction, Concern, Problem, ProblemConcern, ProblemNote, ReferralRequest
from concerns.problem_queries import assessment_view, check_may_work, measure
from concerns.settings import Settings

Emit = Callable[[str, str, dict[str, Any]], Any]


def open_problem(session: Session, now: datetime, emit: Emit, actor: Actor, body: dict[str, Any]) -> Problem:
    """Open a problem in Scanning from a candidate or by hand; emits beat.problem.opened."""
    beat_code = body["beat_code"]
    store.beat(session, beat_code)
    check_may_work(actor, beat_code)
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
    check_may_work(actor, problem.beat_code)
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


def link_arrival(
    session: Session, now: datetime, concern: Concern, open_problems: Iterable[OpenProblem]
) -> list[dict[str, Any]]:
    """Link a new concern to every open problem of its beat (`open_problems`) it matches (category,
    within the radius); returns those problems as its reporter may see them (id, title, stage)."""
    if concern.beat_code is None or concern.lat is None or concern.long is None:
        return []
    matched = [problem for problem in open_problems if _matches(problem, concern)]
    for problem in matched:
        session.add(ProblemConcern(problem_id=problem.id, concern_id=concern.id, linked_by="arrival", linked_at=now))
    return [{"id": problem.id, "title": problem.title, "stage": problem.stage} for problem in matched]


def _matches(problem: OpenProblem, concern: Concern) -> bool:
    if concern.category_code not in problem.categories or problem.centre_lat is None or problem.centre_long is None:
        return False
    assert concern.lat is not None and concern.long is not None
    return (
        geo.distance_metres(problem.centre_lat, problem.centre_long, concern.lat, concern.long) <= problem.radius_metres
    )


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
