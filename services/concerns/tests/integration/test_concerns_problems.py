"""Problem solving (SARA) over HTTP on both backends: a problem from a scanning suggestion through
assessment, with linked concerns (by hand and as they arrive), notes, a meeting's action, a
referral id, its events and its public page."""

from datetime import UTC, datetime

import pytest
from concerns_testkit import POINTS, START, admin, officer, resident, run_timer, supervisor
from sqlalchemy import select

from beat_shared.db import make_engine, unit_of_work
from beat_shared.migrations import upgrade
from concerns import demo
from concerns.models import Problem, ProblemConcern, Tip

AREA = POINTS["RV-02"]
ELSEWHERE = (43.0405, -108.388)  # the same beat, ~800 m from the area: the control
MEETING = {
    "kind": "community_meeting",
    "title": "Downtown beat meeting",
    "venue": "Riverton Public Library",
    "starts_at": "2026-03-04T18:00:00Z",
    "ends_at": "2026-03-04T19:00:00Z",
}


def _noise(submit, place, **extra):
    made = submit(category="noise", location={"lat": place[0], "long": place[1]}, **extra)["concern"]
    assert made["beat_code"] == "RV-02"
    return made["id"]


def test_a_problem_from_suggestion_to_assessment(submit, web_session, clock, events):
    area = [_noise(submit, AREA) for _ in range(4)]
    control = [_noise(submit, ELSEWHERE) for _ in range(2)]
    submit(category="drug_activity")  # one of another kind at the place: no candidate

    # Scanning: the repeat place is suggested to the beat's officers, not to others.
    assert web_session.get("/beats/RV-02/problem-candidates", headers=officer("RV-03")).status_code == 403
    assert web_session.get("/beats/RV-02/problem-candidates", headers=resident()).status_code == 403
    found = web_session.get("/beats/RV-02/problem-candidates", headers=officer())
    assert found.status_code == 200, found.text
    candidates = found.json()["candidates"]
    assert [(c["category"], sorted(c["concern_ids"]), c["count"]) for c in candidates] == [("noise", sorted(area), 4)]
    opened = web_session.post("/problems", json=candidates[0]["open_with"], headers=officer())
    assert opened.status_code == 201, opened.text
    problem = opened.json()
    problem_id = problem["id"]
    assert (problem["stage"], problem["concerns"], problem["origin"]) == ("scanning", 4, "candidate")
    assert events.wait_for("beat.problem.opened")[0]["data"] == {
        "problem_id": problem_id,
        "beat_code": "RV-02",
        "categories": ["noise"],
        "stage": "scanning",
        "occurred_at": "2026-03-02T09:00:00Z",
        "origin": "candidate",
        "concern_ids": sorted(area),
        "opened_by": "officer-rv02",
    }
    counts = web_session.get("/beats/RV-02").json()["problem_counts"]
    assert counts == {"being_worked": 1, "closed": 0, "solved": 0, "since": "2026-01-31T09:00:00Z"}
    # Its concerns are no longer suggested; a new one at the place joins the problem as it arrives.
    assert web_session.get("/beats/RV-02/problem-candidates", headers=officer()).json()["candidates"] == []
    clock.advance(days=1)
    answer = submit(category="noise", location={"lat": AREA[0], "long": AREA[1]})
    arrived = answer["concern"]["id"]  # its reporter is told at once which problem it joined
    assert answer["problems"] == [{"id": problem_id, "title": "Repeated noise concerns", "stage": "scanning"}]
    workspace = web_session.get(f"/problems/{problem_id}", headers=officer()).json()
    assert arrived in [c["id"] for c in workspace["linked_concerns"]] and workspace["evidence"]["count"] == 5
    evidence = workspace["evidence"]  # Monday 2 March 09:00 UTC (03:00 in Chicago) four times, Tuesday once
    assert (evidence["by_category"], evidence["by_week"], evidence["by_hour"], evidence["timezone"]) == (
        {"noise": 5},
        {"2026-W10": 5},
        {"3": 5},
        "America/Chicago",
    )
    assert (evidence["by_weekday"], evidence["support"]) == ({"monday": 4, "tuesday": 1}, 0)

    # Analysis: notes along the triangle, and who else is involved.
    move = web_session.post(f"/problems/{problem_id}/stage", json={"stage": "analysis"}, headers=officer())
    assert move.status_code == 200 and move.json()["stage"] == "analysis"
    for side, party in (("place", ""), ("offender", ""), ("other", "landlord")):
        note = {"side": side, "party": party, "text": f"Analysis of the {side}."}
        assert web_session.post(f"/problems/{problem_id}/notes", json=note, headers=officer()).status_code == 201
    bad = web_session.post(f"/problems/{problem_id}/notes", json={"side": "weather", "text": "x"}, headers=officer())
    assert bad.status_code == 400
    skip = web_session.post(f"/problems/{problem_id}/stage", json={"stage": "assessment"}, headers=officer())
    assert skip.status_code == 409

    # Response: a meeting's action, a new action for the city, a referral.
    clock.advance(days=1)  # day 2: the response starts
    assert web_session.post(f"/problems/{problem_id}/stage", json={"stage": "response"}, headers=officer()).ok
    meeting = web_session.post("/beats/RV-02/meetings", json=MEETING, headers=officer()).json()
    clock.advance(hours=12)
    talk = {"description": "Talk to the bar's owner", "owner": "officer-rv02", "due_date": "2026-03-20"}
    walk = {"description": "Residents' walk at closing time", "owner": "Elm St group", "due_date": "2026-03-22"}
    conclusion = f"/meetings/{meeting['id']}/conclusion"
    unknown = {"actions": [talk, {**walk, "problem_id": "no-such-problem"}]}
    assert web_session.post(conclusion, json=unknown, headers=officer()).status_code == 400
    agreed = {"actions": [talk, {**walk, "problem_id": problem_id}]}
    concluded = web_session.post(conclusion, json=agreed, headers=officer()).json()
    assert [action["problem_id"] for action in concluded["actions"]] == [None, problem_id]
    action_id = concluded["actions"][0]["id"]
    attach = web_session.post(
        f"/problems/{problem_id}/actions",
        json={"agreed_action_id": action_id, "owner_kind": "officer"},
        headers=officer(),
    )
    assert attach.status_code == 201, attach.text
    new = {
        "description": "Fix the car park lights",
        "owner": "Streets department",
        "owner_kind": "city",
        "due_date": "2026-03-25",
    }
    assert web_session.post(f"/problems/{problem_id}/actions", json=new, headers=officer()).status_code == 201
    half = {"description": "Half an action"}
    assert web_session.post(f"/problems/{problem_id}/actions", json=half, headers=officer()).status_code == 400
    linked = web_session.post(f"/problems/{problem_id}/referrals", json={"referral_id": "ref-123"}, headers=officer())
    assert linked.json()["referral_ids"] == ["ref-123"]
    plan = linked.json()["actions"]
    assert [(a["meeting_id"], a["owner_kind"]) for a in plan] == [
        (meeting["id"], "officer"),
        (meeting["id"], None),
        (None, "city"),
    ]

    # The response ends at day 32; too soon to assess until a week has passed.
    clock.advance(days=29, hours=12)
    assert web_session.post(f"/problems/{problem_id}/stage", json={"stage": "assessment"}, headers=officer()).ok
    assert web_session.get(f"/problems/{problem_id}/assessment", headers=officer()).status_code == 409
    clock.advance(days=8)
    _noise(submit, AREA)  # after the response: one at the place, two elsewhere in the beat
    _noise(submit, ELSEWHERE)
    _noise(submit, ELSEWHERE)
    clock.advance(days=48)  # 56 days after the response ended

    # Before (days -54..2): area 5, control 2; after (days 32..88): area 1, control 2. The control
    # did not change, so p = 1/2; Binomial(6, 1/2) at 1: (1 + 6 + 6 + 1) / 64 = 0.21875.
    figures = web_session.get(f"/problems/{problem_id}/assessment", headers=officer()).json()
    assert figures["window_weeks"] == 8.0
    assert figures["area"] == {"before": 5, "after": 1, "before_per_week": 0.625, "after_per_week": 0.125}
    assert figures["control"] == {"before": 2, "after": 2, "before_per_week": 0.25, "after_per_week": 0.25}
    assert figures["test"]["p_value"] == 0.21875 and not figures["test"]["significant"]
    assert len(control) == 2
    closed = web_session.post(f"/problems/{problem_id}/assessment", json={"outcome": "reduced"}, headers=officer())
    assert closed.status_code == 200, closed.text
    assert (closed.json()["stage"], closed.json()["outcome"], closed.json()["assessment"]) == (
        "closed",
        "reduced",
        figures,
    )
    assessed = events.wait_for("beat.problem.assessed")[0]["data"]
    assert assessed | {"occurred_at": None} == {
        "problem_id": problem_id,
        "beat_code": "RV-02",
        "categories": ["noise"],
        "stage": "closed",
        "occurred_at": None,
        "outcome": "reduced",
        "window_weeks": 8.0,
        "area_before_per_week": 0.625,
        "area_after_per_week": 0.125,
        "control_before_per_week": 0.25,
        "control_after_per_week": 0.25,
        "p_value": 0.21875,
    }
    stages = [
        (e["data"]["previous_stage"], e["data"]["stage"]) for e in events.wait_for("beat.problem.stage_changed", 4)
    ]
    assert stages == [
        ("scanning", "analysis"),
        ("analysis", "response"),
        ("response", "assessment"),
        ("assessment", "closed"),
    ]
    again = web_session.post(f"/problems/{problem_id}/notes", json={"side": "place", "text": "late"}, headers=officer())
    assert again.status_code == 409

    # The public page: no notes, no owners' names, no concerns' details, the area rounded.
    public = web_session.get(f"/public/problems/{problem_id}")
    assert public.status_code == 200
    body = public.text
    for private in ("Analysis of the", "landlord", "officer-rv02", "Streets department", "Elm St group"):
        assert private not in body
    assert public.json()["area"]["centre"] == {"lat": round(AREA[0], 3), "long": round(AREA[1], 3)}
    assert public.json()["outcome"] == "reduced" and len(public.json()["actions"]) == 3
    assert web_session.get("/public/problems/nope").status_code == 404
    page = web_session.get("/beats/RV-02").json()  # on the beat page while it is recent
    problems = page["problems"]
    assert [(p["id"], p["stage"], p["outcome"], p["concerns"]) for p in problems] == [
        (problem_id, "closed", "reduced", 6)
    ]
    recent = {"being_worked": 0, "closed": 1, "solved": 0}  # reduced, not solved
    assert page["problem_counts"] == {**recent, "since": "2026-04-29T09:00:00Z"}  # CONCERNS_RECENT_DAYS back
    clock.advance(days=31)
    page = web_session.get("/beats/RV-02").json()
    assert (page["problems"], page["problem_counts"]["closed"]) == ([], 0)


def test_the_evidence_counts_hours_and_weekdays_on_the_citys_clock(submit, web_session, clock):
    # Around Chicago's spring-forward (Sunday 8 March 2026, 02:00 CST = 08:00 UTC), as the API answers.
    made = []
    for moment in ("2026-03-08T05:30", "2026-03-08T07:59", "2026-03-08T08:00", "2026-03-09T04:30"):
        clock.advance(seconds=(datetime.fromisoformat(moment).replace(tzinfo=UTC) - clock.now()).total_seconds())
        made.append(_noise(submit, ELSEWHERE))
    body = {"beat_code": "RV-02", "title": "Weekend noise", "categories": ["noise"], "concern_ids": made}
    opened = web_session.post("/problems", json=body, headers=officer())
    assert opened.status_code == 201, opened.text
    evidence = opened.json()["evidence"]
    # Saturday 23:30 CST, Sunday 01:59 CST, Sunday 03:00 CDT, Sunday 23:30 CDT (in UTC: 2 Sundays, a Monday).
    assert evidence["timezone"] == "America/Chicago"
    assert evidence["by_hour"] == {"1": 1, "3": 1, "23": 2}
    assert evidence["by_weekday"] == {"saturday": 1, "sunday": 3}
    assert evidence["by_week"] == {"2026-W10": 4}


def test_an_unknown_time_zone_refuses_to_start(make_service):
    with pytest.raises(ValueError, match="CONCERNS_TIMEZONE='Mars/Olympus' is not a known IANA time zone"):
        make_service(CONCERNS_TIMEZONE="Mars/Olympus")


def test_problems_by_hand_and_who_may_work_them(submit, web_session, service, clock, events):
    mine = _noise(submit, AREA)
    other_beat = submit(beat="RV-03")["concern"]["id"]
    body = {"beat_code": "RV-02", "title": "Cars on the verge", "categories": ["noise"], "concern_ids": [mine]}
    assert web_session.post("/problems", json=body, headers=officer("RV-03")).status_code == 403
    assert web_session.post("/problems", json=body, headers=resident()).status_code == 403
    assert (
        web_session.post("/problems", json={**body, "concern_ids": [other_beat]}, headers=officer()).status_code == 400
    )
    assert web_session.post("/problems", json={**body, "categories": ["nope"]}, headers=officer()).status_code == 400
    assert web_session.post("/problems", json={**body, "beat_code": "RV-99"}, headers=supervisor()).status_code == 404
    assert web_session.post("/problems", json={**body, "radius_metres": 5}, headers=officer()).status_code == 400
    made = web_session.post("/problems", json=body, headers=supervisor())
    assert made.status_code == 201 and made.json()["origin"] == "manual" and made.json()["area"] is None
    problem_id = made.json()["id"]
    # A problem without a place links no arriving concerns; linking by hand works, once each.
    _noise(submit, AREA)
    assert web_session.get(f"/problems/{problem_id}", headers=admin()).json()["concerns"] == 1
    relinked = web_session.post(
        f"/problems/{problem_id}/concerns", json={"concern_ids": [mine, mine]}, headers=officer()
    )
    assert relinked.status_code == 200 and relinked.json()["concerns"] == 1
    # Linking may tell the reporters, in their language, through a public note (news for notifications).
    spanish = _noise(submit, AREA, language="es")
    told = {"concern_ids": [spanish], "tell_reporters": True}
    assert web_session.post(f"/problems/{problem_id}/concerns", json=told, headers=officer()).json()["concerns"] == 2
    public = web_session.get(f"/public/concerns/{spanish}").text
    assert "como un solo problema: Cars on the verge." in public
    news = [e for e in events.wait_for("beat.concern.status_changed") if e["data"]["concern_id"] == spanish]
    assert news[0]["data"]["has_public_note"] is True and news[0]["data"]["previous_status"] == "submitted"
    assert web_session.get(f"/problems/{problem_id}", headers=officer("RV-03")).status_code == 403
    assert web_session.get("/problems/nope", headers=officer()).status_code == 404
    listed = web_session.get("/beats/RV-02/problems", params={"stage": "open"}, headers=officer()).json()["problems"]
    assert [p["id"] for p in listed] == [problem_id]
    assert web_session.get("/beats/RV-02/problems", params={"stage": "later"}, headers=officer()).status_code == 400
    closing = web_session.post(f"/problems/{problem_id}/stage", json={"stage": "closed"}, headers=officer())
    assert closing.status_code == 400  # closing is the assessment's, not a stage to move to
    early = web_session.post(f"/problems/{problem_id}/assessment", json={"outcome": "solved"}, headers=officer())
    assert early.status_code == 409
    assert run_timer(service, "erase_expired_tips") == 0
    # Without a place, the area is the linked concerns and the control the rest of the beat's.
    clock.advance(hours=1)
    for stage in ("analysis", "response"):
        assert web_session.post(f"/problems/{problem_id}/stage", json={"stage": stage}, headers=officer()).ok
    clock.advance(days=1)
    assert web_session.post(f"/problems/{problem_id}/stage", json={"stage": "assessment"}, headers=officer()).ok
    clock.advance(days=7)
    figures = web_session.get(f"/problems/{problem_id}/assessment", headers=officer()).json()
    assert (figures["window_weeks"], figures["area"]["before"], figures["control"]["before"]) == (1.0, 2, 1)
    assert (figures["area"]["after"], figures["control"]["after"], figures["test"]["p_value"]) == (0, 0, 1.0)


def test_the_demo_city_has_a_problem_being_analysed_and_a_tip(database):
    url = database("concerns")
    upgrade("concerns", url)
    engine = make_engine(url, pool_size=1)
    with unit_of_work(engine) as session:
        first = demo.seed(session, START)
    with unit_of_work(engine) as session:
        second = demo.seed(session, START)
        problem = session.scalars(select(Problem)).one()
        assert (problem.beat_code, problem.stage, problem.categories) == ("RV-02", "analysis", ["drug_activity"])
        assert len(session.scalars(select(ProblemConcern)).all()) == 1
        assert session.scalars(select(Tip.beat_code)).all() == ["RV-02"]
    engine.dispose()
    assert "1 problems" in first and second.startswith("demo data already present")


def test_plans_and_links_refuse_what_does_not_fit(web_session, service, clock):
    assert web_session.get("/beats/RV-99/problem-candidates", headers=supervisor()).status_code == 404
    body = {"beat_code": "RV-02", "title": "Verge parking", "categories": ["noise"]}
    first = web_session.post("/problems", json=body, headers=officer()).json()["id"]
    second = web_session.post("/problems", json=body, headers=officer()).json()["id"]
    unknown = web_session.post(f"/problems/{first}/concerns", json={"concern_ids": ["nope"]}, headers=officer())
    assert unknown.status_code == 400 and "nope" in unknown.text
    # A meeting's action joins one problem's plan only, and only a problem of its own beat.
    meeting = web_session.post("/beats/RV-02/meetings", json=MEETING, headers=officer()).json()
    clock.advance(days=3)
    action = {"description": "Letters to the flats", "owner": "Elm St group", "due_date": "2026-03-30"}
    concluded = web_session.post(f"/meetings/{meeting['id']}/conclusion", json={"actions": [action]}, headers=officer())
    action_id = concluded.json()["actions"][0]["id"]
    attach = {"agreed_action_id": action_id, "owner_kind": "residents"}
    assert web_session.post(f"/problems/{first}/actions", json=attach, headers=officer()).status_code == 201
    assert (
        web_session.post(f"/problems/{first}/actions", json=attach, headers=officer()).status_code == 201
    )  # again: no-op
    assert web_session.post(f"/problems/{second}/actions", json=attach, headers=officer()).status_code == 409
    missing = {"agreed_action_id": "no-such-action"}
    assert web_session.post(f"/problems/{first}/actions", json=missing, headers=officer()).status_code == 400
    both = {**attach, "description": "And a new one"}
    assert web_session.post(f"/problems/{first}/actions", json=both, headers=officer()).status_code == 400
    other_beat = web_session.post("/problems", json={**body, "beat_code": "RV-03"}, headers=officer("RV-03")).json()
    stolen = web_session.post(f"/problems/{other_beat['id']}/actions", json=attach, headers=officer("RV-03"))
    assert stolen.status_code == 400
    for _ in range(2):
        linked = web_session.post(f"/problems/{first}/referrals", json={"referral_id": "ref-9"}, headers=officer())
    assert linked.json()["referral_ids"] == ["ref-9"]  # once
    assert web_session.put("/tips/nope/problem", json={"problem_id": first}, headers=officer()).status_code == 404
