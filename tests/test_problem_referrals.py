"""A referral made for a problem (issue 26) between the real concerns and referrals services, on
SQLite and PostgreSQL: an officer of the problem's beat asks from the problem itself (no concern),
referrals drafts the referral, and concerns links it to the problem when `beat.referral.created`
names the request; the referral's live status is read from referrals by that request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from beat_shared.auth import mint_token
from beat_shared.clock import FrozenClock, utc_iso
from beat_shared.config import env
from beat_shared.testing import wait_for
from concerns import demo as concerns_demo
from concerns.service import ConcernsService
from referrals import demo as referrals_demo
from referrals.service import ReferralsService

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def bearer(role: str, subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(role, subject, env('BEAT_JWT_SECRET'))}"}


OFFICER = bearer("officer", "officer-rv02")
ASK = {
    "need_category": "food",
    "urgency": "soon",
    "client": {"name": "Sam Client", "phone": "+1 555 0100 777"},
    "consent": {
        "given_by": "Sam Client",
        "given_at": utc_iso(START - timedelta(minutes=10)),
        "method": "verbal",
        "scope": "share contact details with a food provider",
    },
}


@pytest.fixture
def clock() -> FrozenClock:
    """Concerns' clock (a problem's response and its assessment's windows take weeks)."""
    return FrozenClock(START)


@pytest.fixture
def urls(running_services, clock) -> dict[str, str]:
    started = running_services(
        {
            "concerns": (ConcernsService, lambda session: concerns_demo.seed(session, START), clock),
            "referrals": (ReferralsService, referrals_demo.seed_directory, FrozenClock(START)),
        }
    )
    return {name: service.url for name, service in started.items()}


def demo_problem(concerns: str) -> dict[str, Any]:
    """The demo city's problem in analysis at Station Road (RV-02)."""
    listed = requests.get(f"{concerns}/beats/RV-02/problems", params={"stage": "open"}, headers=OFFICER, timeout=10)
    [problem] = listed.json()["problems"]
    return problem


def test_a_referral_asked_for_a_problem_joins_it_with_its_live_status(urls):
    concerns, referrals = urls["concerns"], urls["referrals"]
    problem_id = demo_problem(concerns)["id"]
    asked = requests.post(f"{concerns}/problems/{problem_id}/referral-requests", json=ASK, headers=OFFICER, timeout=10)
    assert asked.status_code == 201, asked.text
    [request] = asked.json()["referral_requests"]
    assert (request["need_category"], request["urgency"], request["state"]) == ("food", "soon", "requested")
    assert "Sam" not in asked.text  # the workspace names the request, not the person

    def linked() -> list[str] | None:
        workspace = requests.get(f"{concerns}/problems/{problem_id}", headers=OFFICER, timeout=10).json()
        return workspace["referral_ids"] or None

    [referral_id] = wait_for(linked, timeout=20, message="the drafted referral linked to the problem")
    by_request = {"request_id": request["request_id"]}
    [row] = requests.get(f"{referrals}/referrals", params=by_request, headers=OFFICER, timeout=10).json()["contents"]
    assert (row["id"], row["status"], row["concern_id"], row["beat_code"]) == (referral_id, "draft", None, "RV-02")

    sent = requests.post(f"{referrals}/referrals/{referral_id}/send", headers=OFFICER, timeout=10)
    assert sent.status_code == 200, sent.text
    [row] = requests.get(f"{referrals}/referrals", params=by_request, headers=OFFICER, timeout=10).json()["contents"]
    assert row["status"] == "sent"  # the status the workspace shows is referrals' own, as it stands
    again = requests.get(f"{concerns}/problems/{problem_id}", headers=OFFICER, timeout=10).json()
    assert again["referral_ids"] == [referral_id]  # linked once, though more events came


def test_only_the_beats_staff_refer_for_an_open_problem(urls):
    concerns = urls["concerns"]
    problem_id = demo_problem(concerns)["id"]
    path = f"{concerns}/problems/{problem_id}/referral-requests"
    other = requests.post(path, json=ASK, headers=bearer("officer", "officer-rv03"), timeout=10)
    assert other.status_code == 403, other.text
    resident = requests.post(path, json=ASK, headers=bearer("resident", "resident-ana"), timeout=10)
    assert resident.status_code == 403, resident.text
    named = requests.post(path, json={**ASK, "concern_id": "c-1"}, headers=OFFICER, timeout=10)
    assert named.status_code == 400 and "concern_id" in named.json()["error"]["details"]
    missing = requests.post(f"{concerns}/problems/nope/referral-requests", json=ASK, headers=OFFICER, timeout=10)
    assert missing.status_code == 404
    workspace = requests.get(f"{concerns}/problems/{problem_id}", headers=OFFICER, timeout=10).json()
    assert workspace["referral_requests"] == [] and workspace["referral_ids"] == []


PLACE = {"lat": 43.0455, "long": -108.3745}  # in RV-02, away from the demo's concerns


def test_a_problem_from_suggestion_to_assessment_with_a_meeting_action_and_a_referral(urls, clock):
    concerns = urls["concerns"]

    def call(method: str, path: str, **body: Any) -> dict[str, Any]:
        answer = requests.request(method, concerns + path, json=body or None, headers=OFFICER, timeout=10)
        assert answer.ok, answer.text
        return answer.json()

    made = []
    for _ in range(3):
        voiced = requests.post(
            f"{concerns}/concerns",
            json={"category": "noise", "description": "Engines revving all night in the lot.", "location": PLACE},
            timeout=10,
        )
        assert voiced.status_code == 201, voiced.text
        made.append(voiced.json()["concern"]["id"])
    [candidate] = [
        c for c in call("GET", "/beats/RV-02/problem-candidates")["candidates"] if made[0] in c["concern_ids"]
    ]
    problem = call("POST", "/problems", **candidate["open_with"])
    problem_id, path = problem["id"], f"/problems/{problem['id']}"
    assert sorted(c["id"] for c in problem["linked_concerns"]) == sorted(made)
    clock.advance(hours=1)  # the concerns came before the response started: they count in the "before" window
    call("POST", f"{path}/stage", stage="analysis")
    call("POST", f"{path}/stage", stage="response")

    # A meeting agrees an action for the problem; a referral is asked for the problem itself.
    starts = clock.now() + timedelta(hours=1)
    meeting = call(
        "POST",
        "/beats/RV-02/meetings",
        kind="community_meeting",
        title="Car park meeting",
        venue="Library",
        starts_at=utc_iso(starts),
        ends_at=utc_iso(starts + timedelta(hours=1)),
    )
    clock.advance(hours=3)
    action = {
        "description": "Lights in the lot",
        "owner": "Streets",
        "due_date": "2026-03-20",
        "problem_id": problem_id,
    }
    call("POST", f"/meetings/{meeting['id']}/conclusion", actions=[action])
    call("POST", f"{path}/referral-requests", **ASK)

    def linked() -> list[str] | None:
        return call("GET", path)["referral_ids"] or None

    [referral_id] = wait_for(linked, timeout=20, message="the referral linked to the problem")

    # Assessment: the response ends, a week passes, the problem is closed with its figures kept.
    clock.advance(days=14)
    call("POST", f"{path}/stage", stage="assessment")
    clock.advance(days=7)
    closed = call("POST", f"{path}/assessment", outcome="reduced")
    assert (closed["stage"], closed["outcome"], closed["referral_ids"]) == ("closed", "reduced", [referral_id])
    assert [(a["meeting_id"], a["description"]) for a in closed["actions"]] == [(meeting["id"], "Lights in the lot")]
    assert closed["assessment"]["area"]["before"] == 3 and closed["assessment"]["window_weeks"] == 1.0
    assert closed["concerns"] == 3
