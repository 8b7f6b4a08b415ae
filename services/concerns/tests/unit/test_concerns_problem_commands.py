"""Problem solving's and tips' use cases on SQLite with their events recorded: what opening,
linking, moving, asking a referral for a problem and closing write and announce, and what tips
keep and log, in milliseconds, beside the integration tests over the broker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from beat_shared.db import unit_of_work
from beat_shared.errors import Conflict, NotFound, PermissionDenied
from beat_shared.testing import RecordedEvents
from concerns import commands, problem_commands, problem_queries, tip_commands, tip_queries
from concerns.domain.problems import Stage
from concerns.domain.workflow import Actor
from concerns.intake_endpoints import submission_from
from concerns.models import Problem, Tip, TipRead
from concerns.schemas import ConcernInput
from concerns.settings import Settings

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SETTINGS = Settings.from_config({})
OFFICER = Actor("officer-rv02", "officer", frozenset({"RV-02"}))
SUPERVISOR = Actor("supervisor-1", "supervisor")
OTHER_BEATS_OFFICER = Actor("officer-rv05", "officer", frozenset({"RV-05"}))
ADMIN = Actor("admin-1", "admin")
AREA = {"lat": 43.045, "long": -108.380}
CONSENT = {"given_by": "Sam", "given_at": NOW - timedelta(minutes=5), "method": "verbal", "scope": "food"}


def _voice(session, now: datetime = NOW) -> commands.Submitted:
    body = ConcernInput().load({"category": "noise", "description": "Music all night", "location": AREA})
    body["contact"] = None
    return commands.submit(session, SETTINGS, now, RecordedEvents(), submission_from(body, None))


def _open(session, recorded: RecordedEvents, concern_ids: list[str]) -> Problem:
    body = {
        "beat_code": "RV-02",
        "title": "Music at the car park",
        "categories": ["noise"],
        "centre": AREA,
        "radius_metres": 150,
        "concern_ids": concern_ids,
        "origin": "manual",
    }
    return problem_commands.open_problem(session, NOW, recorded, OFFICER, body)


def test_opening_links_the_concerns_once_and_announces_the_problem(engine):
    recorded = RecordedEvents()
    with unit_of_work(engine) as session:
        first = _voice(session).concern.id
        problem = _open(session, recorded, [first, first])
    assert recorded.types() == ["beat.problem.opened"]
    [(_, subject, data)] = recorded.events
    assert subject == problem.id and data["concern_ids"] == [first] and data["stage"] == "scanning"
    with unit_of_work(engine) as session, pytest.raises(PermissionDenied):
        problem_commands.open_problem(
            session, NOW, RecordedEvents(), OTHER_BEATS_OFFICER, {"beat_code": "RV-02", "categories": ["noise"]}
        )


def test_a_concern_arriving_at_the_place_joins_and_stages_move_one_step(engine):
    recorded = RecordedEvents()
    with unit_of_work(engine) as session:
        problem = _open(session, recorded, [])
        arrived = _voice(session, NOW + timedelta(hours=1))
        assert arrived.joined_problems == [{"id": problem.id, "title": problem.title, "stage": "scanning"}]
        with pytest.raises(Conflict):
            problem_commands.move(session, NOW, recorded, OFFICER, problem.id, Stage.RESPONSE)  # a stage skipped
        problem_commands.move(session, NOW, recorded, OFFICER, problem.id, Stage.ANALYSIS)
        problem_commands.move(session, NOW, recorded, OFFICER, problem.id, Stage.RESPONSE)
        workspace = problem_queries.workspace(session, SETTINGS, NOW, OFFICER, problem.id)
    assert recorded.types() == ["beat.problem.opened", "beat.problem.stage_changed", "beat.problem.stage_changed"]
    assert [e[2]["previous_stage"] for e in recorded.events[1:]] == ["scanning", "analysis"]
    assert workspace["concerns"] == 1 and workspace["response_started_at"] == "2026-03-02T09:00:00Z"
    assert workspace["evidence"]["by_hour"] == {"4": 1}  # 10:00 UTC is 04:00 in Chicago in March (CST)


def test_a_referral_asked_for_the_problem_joins_it_when_referrals_drafts_it(engine):
    recorded = RecordedEvents()
    with unit_of_work(engine) as session:
        problem = _open(session, RecordedEvents(), [])
        ask = {"need_category": "food", "urgency": "soon", "client": {"name": "Sam", "phone": "555-0100"}}
        request = problem_commands.request_referral(
            session, NOW, recorded, OFFICER, problem.id, {**ask, "consent": CONSENT}
        )
        assert problem_commands.referral_created(session, request.id, "referral-1") is True
        assert problem_commands.referral_created(session, request.id, "referral-1") is True  # again: once
        assert problem_commands.referral_created(session, None, "referral-2") is False  # a direct draft
        assert problem_commands.referral_created(session, "unknown", "referral-3") is False
        workspace = problem_queries.workspace(session, SETTINGS, NOW, OFFICER, problem.id)
    assert recorded.types() == ["beat.referral.requested"]
    assert recorded.events[0][2]["beat_code"] == "RV-02" and recorded.events[0][2]["concern_id"] is None
    assert workspace["referral_ids"] == ["referral-1"]
    assert [(r["request_id"], r["state"]) for r in workspace["referral_requests"]] == [(request.id, "requested")]


def test_closing_is_the_assessments_and_a_closed_problem_no_longer_changes(engine):
    recorded = RecordedEvents()
    with unit_of_work(engine) as session:
        problem = _open(session, RecordedEvents(), [])
        with pytest.raises(Conflict):
            problem_commands.close_with_assessment(session, SETTINGS, NOW, recorded, OFFICER, problem.id, "solved")
        for stage, at in ((Stage.ANALYSIS, NOW), (Stage.RESPONSE, NOW), (Stage.ASSESSMENT, NOW + timedelta(days=7))):
            problem_commands.move(session, at, RecordedEvents(), OFFICER, problem.id, stage)
        later = NOW + timedelta(days=14)
        problem_commands.close_with_assessment(session, SETTINGS, later, recorded, OFFICER, problem.id, "solved")
        with pytest.raises(Conflict):
            problem_commands.add_note(session, later, OFFICER, problem.id, {"side": "place", "party": "", "text": "x"})
        with pytest.raises(NotFound):
            problem_commands.move(session, later, recorded, OFFICER, "no-such-problem", Stage.ANALYSIS)
    assert recorded.types() == ["beat.problem.stage_changed", "beat.problem.assessed"]
    assert recorded.events[1][2]["outcome"] == "solved" and recorded.events[1][2]["window_weeks"] == 1.0


def test_tips_are_kept_read_by_the_beats_officers_with_every_read_logged_and_erased_in_time(engine):
    with unit_of_work(engine) as session:
        body = {"beat_code": "RV-02", "text": "The van comes at 2am", "contact": "555-0199", "language": "en"}
        tip = tip_commands.receive(session, SETTINGS, NOW, body)
        assert tip_queries.read(session, NOW, OFFICER, tip.id)["text"] == "The van comes at 2am"
        for outsider in (OTHER_BEATS_OFFICER, ADMIN):
            with pytest.raises(PermissionDenied):
                tip_queries.read(session, NOW, outsider, tip.id)
        assert [t["id"] for t in tip_queries.beat_tips(session, NOW, SUPERVISOR, "RV-02")] == [tip.id]
        problem = _open(session, RecordedEvents(), [])
        assert tip_commands.link_problem(session, NOW, OFFICER, tip.id, problem.id)["problem_id"] == problem.id
        assert problem_queries.workspace(session, SETTINGS, NOW, OFFICER, problem.id)["tips"] == 1
        log = [(read.reader, read.action) for read in session.scalars(select(TipRead).order_by(TipRead.id))]
        assert log == [("officer-rv02", "read"), ("supervisor-1", "list"), ("officer-rv02", "link")]
        retention = timedelta(days=SETTINGS.tip_retention_days)
        assert tip_commands.erase_expired(session, NOW + retention - timedelta(seconds=1)) == 0
        assert tip_commands.erase_expired(session, NOW + retention) == 1
        assert session.scalars(select(Tip)).all() == [] and len(tip_queries.reads(session, SUPERVISOR, tip.id)) == 3
