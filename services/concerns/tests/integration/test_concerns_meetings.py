"""Community meetings and activities: ranked agendas, agreed actions, priorities, events."""

from concerns_testkit import officer, resident, supervisor

MEETING = {
    "kind": "community_meeting",
    "title": "Downtown beat meeting",
    "venue": "Riverton Public Library",
    "starts_at": "2026-03-12T18:30:00Z",
    "ends_at": "2026-03-12T20:30:00Z",
}


def test_community_meeting_agenda_is_ranked_by_support_and_age(submit, web_session, clock, events):
    old = submit(category="speeding_traffic")["concern"]["id"]
    clock.advance(days=20)
    supported = submit(category="drug_activity")["concern"]["id"]
    for who in ("r1", "r2", "r3", "r4"):
        web_session.post(f"/concerns/{supported}/support", headers=resident(who))
    clock.advance(days=1)
    fresh = submit(category="noise")["concern"]["id"]
    submit(beat="RV-03")  # another beat: not on this agenda
    made = web_session.post("/beats/RV-02/meetings", json=MEETING, headers=officer())
    assert made.status_code == 201, made.text
    agenda = made.json()["agenda"]
    # support 5 + 1 day/7 beats support 1 + 21 days/7 beats support 1 + 0 days
    assert [item["concern_id"] for item in agenda] == [supported, old, fresh]
    assert agenda[0] | {"score": None} == {
        "position": 1,
        "concern_id": supported,
        "category": "drug_activity",
        "support": 5,
        "age_days": 1.0,
        "score": None,
    }
    data = events.wait_for("beat.meeting.scheduled")[0]["data"]
    assert data == {
        "meeting_id": made.json()["id"],
        "beat_code": "RV-02",
        "kind": "community_meeting",
        "title": "Downtown beat meeting",
        "starts_at": "2026-03-12T18:30:00Z",
        "occurred_at": "2026-03-23T09:00:00Z",
        "ends_at": "2026-03-12T20:30:00Z",
        "venue": "Riverton Public Library",
    }
    # New support before the meeting: an officer refreshes the agenda.
    for who in ("r5", "r6", "r7", "r8", "r9", "r10"):
        web_session.post(f"/concerns/{fresh}/support", headers=resident(who))
    refreshed = web_session.post(f"/meetings/{made.json()['id']}/agenda", headers=officer()).json()
    assert refreshed["agenda"][0]["concern_id"] == fresh


def test_other_activities_have_no_agenda_and_bad_meetings_are_refused(service, web_session, db_count):
    for kind in ("crime_prevention_training", "neighbourhood_watch", "youth_activity"):
        made = web_session.post("/beats/RV-04/meetings", json={**MEETING, "kind": kind}, headers=officer("RV-04"))
        assert made.status_code == 201 and made.json()["agenda"] == []
    assert (
        web_session.post(
            "/beats/RV-04/meetings", json={**MEETING, "kind": "barbecue"}, headers=officer("RV-04")
        ).status_code
        == 400
    )
    backwards = {**MEETING, "ends_at": "2026-03-12T17:00:00Z"}
    assert web_session.post("/beats/RV-04/meetings", json=backwards, headers=officer("RV-04")).status_code == 400
    naive = {**MEETING, "starts_at": "2026-03-12T18:30:00"}
    assert web_session.post("/beats/RV-04/meetings", json=naive, headers=officer("RV-04")).status_code == 400
    assert web_session.post("/beats/RV-04/meetings", json=MEETING, headers=officer("RV-02")).status_code == 403
    assert web_session.post("/beats/RV-04/meetings", json=MEETING, headers=resident()).status_code == 403
    assert web_session.post("/beats/RV-99/meetings", json=MEETING, headers=supervisor()).status_code == 404
    assert db_count("meetings") == 3
    upcoming = web_session.get("/beats/RV-04/meetings").json()["meetings"]
    assert len(upcoming) == 3
    assert web_session.get("/beats/RV-04/meetings", params={"when": "past"}).json()["meetings"] == []
    assert web_session.get("/beats/RV-04/meetings", params={"when": "soon"}).status_code == 400


def test_conclusion_records_actions_priorities_and_announces_them(submit, web_session, events, clock):
    speeding = submit(category="speeding_traffic")["concern"]["id"]
    dealing = submit(category="drug_activity")["concern"]["id"]
    meeting_id = web_session.post("/beats/RV-02/meetings", json=MEETING, headers=officer()).json()["id"]
    conclusion = {
        "attendees": 31,
        "summary": "Speeding and dealing were the top worries.",
        "actions": [
            {
                "description": "Speed checks on Main Street",
                "owner": "Officer Whitehorse",
                "due_date": "2026-03-31",
                "concern_ids": [speeding],
            },
            {
                "description": "Light the bus shelter",
                "owner": "Residents' association",
                "due_date": "2026-04-15",
                "concern_ids": [dealing],
            },
        ],
        "priorities": {
            "period": "2026-Q1",
            "items": [
                {"title": "Speeding on Main Street", "concern_ids": [speeding]},
                {"title": "Dealing at the station"},
            ],
        },
    }
    clock.advance(days=10, hours=12)  # the meeting has been held: it can be concluded
    unknown = {**conclusion, "actions": [{**conclusion["actions"][0], "concern_ids": ["nope"]}]}
    refused = web_session.post(f"/meetings/{meeting_id}/conclusion", json=unknown, headers=officer())
    assert refused.status_code == 400 and "actions.0.concern_ids" in refused.json()["error"]["details"]
    assert (
        web_session.post(f"/meetings/{meeting_id}/conclusion", json=conclusion, headers=officer("RV-05")).status_code
        == 403
    )
    done = web_session.post(f"/meetings/{meeting_id}/conclusion", json=conclusion, headers=officer())
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "concluded" and done.json()["attendees"] == 31
    assert [action["owner"] for action in done.json()["actions"]] == ["Officer Whitehorse", "Residents' association"]
    again = web_session.post(f"/meetings/{meeting_id}/conclusion", json=conclusion, headers=officer())
    assert again.status_code == 409
    data = events.wait_for("beat.meeting.concluded")[0]["data"]
    assert data["actions_agreed"] == 2 and data["attendees"] == 31
    assert data["concern_ids"] == sorted([speeding, dealing])
    priorities = web_session.get("/beats/RV-02/priorities", params={"period": "2026-Q1"}).json()
    assert [item["title"] for item in priorities["items"]] == ["Speeding on Main Street", "Dealing at the station"]
    assert priorities["items"][0]["meeting_id"] == meeting_id
    page = web_session.get("/beats/RV-02").json()
    assert page["priorities"]["period"] == "2026-Q1" and len(page["priorities"]["items"]) == 2
    assert len(page["open_actions"]) == 2
    action_id = done.json()["actions"][0]["id"]
    assert (
        web_session.patch(f"/actions/{action_id}", json={"status": "done"}, headers=officer("RV-03")).status_code == 403
    )
    marked = web_session.patch(f"/actions/{action_id}", json={"status": "done"}, headers=officer())
    assert marked.json()["status"] == "done" and marked.json()["completed_at"] == "2026-03-12T21:00:00Z"
    open_actions = web_session.get("/beats/RV-02/actions", params={"status": "open"}).json()["actions"]
    assert [action["description"] for action in open_actions] == ["Light the bus shelter"]
    assert web_session.get(f"/meetings/{meeting_id}").json()["summary"].startswith("Speeding")


def test_priorities_set_directly_replace_the_period(submit, web_session):
    concern_id = submit()["concern"]["id"]
    first = {"period": "2026-Q2", "items": [{"title": "Noise at night", "concern_ids": [concern_id]}]}
    assert web_session.put("/beats/RV-02/priorities", json=first, headers=officer("RV-04")).status_code == 403
    assert web_session.put("/beats/RV-02/priorities", json=first, headers=officer()).status_code == 200
    second = {"period": "2026-Q2", "items": [{"title": "Parking"}, {"title": "Litter"}]}
    replaced = web_session.put("/beats/RV-02/priorities", json=second, headers=officer()).json()
    assert [(item["rank"], item["title"]) for item in replaced["items"]] == [(1, "Parking"), (2, "Litter")]
    assert (
        web_session.put("/beats/RV-02/priorities", json={**second, "period": "spring"}, headers=officer()).status_code
        == 400
    )
    assert web_session.get("/beats/RV-02/priorities").json()["period"] == "2026-Q1"


def test_officers_choose_the_agenda_from_the_suggestion(submit, web_session, db_count):
    first = submit(category="speeding_traffic")["concern"]["id"]
    second = submit(category="noise")["concern"]["id"]
    elsewhere = submit(beat="RV-03")["concern"]["id"]
    # Both were submitted at the same (frozen) instant: a neighbour's "me too" puts the second first.
    assert web_session.post(f"/concerns/{second}/support").status_code == 200
    suggested = web_session.get("/beats/RV-02/agenda", headers=officer())
    assert suggested.status_code == 200, suggested.text
    assert [item["concern_id"] for item in suggested.json()["agenda"]] == [second, first]
    assert web_session.get("/beats/RV-02/agenda", headers=officer("RV-03")).status_code == 403
    assert web_session.get("/beats/RV-02/agenda", headers=resident()).status_code == 403
    assert web_session.get("/beats/RV-02/agenda").status_code == 401
    assert web_session.get("/beats/RV-99/agenda", headers=supervisor()).status_code == 404
    chosen = web_session.post(
        "/beats/RV-02/meetings", json={**MEETING, "agenda_concern_ids": [second]}, headers=officer()
    )
    assert chosen.status_code == 201, chosen.text
    assert [(item["position"], item["concern_id"]) for item in chosen.json()["agenda"]] == [(1, second)]
    nothing = web_session.post("/beats/RV-02/meetings", json={**MEETING, "agenda_concern_ids": []}, headers=officer())
    assert nothing.status_code == 201 and nothing.json()["agenda"] == []
    for wrong in ([elsewhere], ["no-such-concern"]):
        refused = web_session.post(
            "/beats/RV-02/meetings", json={**MEETING, "agenda_concern_ids": wrong}, headers=officer()
        )
        assert refused.status_code == 400 and "agenda_concern_ids" in refused.json()["error"]["details"]
    activity = {**MEETING, "kind": "youth_activity", "agenda_concern_ids": [first]}
    assert web_session.post("/beats/RV-02/meetings", json=activity, headers=officer()).status_code == 400
    assert db_count("meetings") == 2


def test_my_beats_are_the_beats_i_may_manage(service, web_session):
    mine = web_session.get("/me/beats", headers=officer("RV-04"))
    assert mine.status_code == 200 and [beat["code"] for beat in mine.json()["beats"]] == ["RV-04"]
    everything = web_session.get("/me/beats", headers=supervisor()).json()["beats"]
    assert [beat["code"] for beat in everything] == [f"RV-0{n}" for n in range(1, 7)]
    assert web_session.get("/me/beats", headers=resident()).status_code == 403
    assert web_session.get("/me/beats").status_code == 401
