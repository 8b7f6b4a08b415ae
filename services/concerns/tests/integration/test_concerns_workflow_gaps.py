"""Issue 21, point 8 and 10: notes without a status change, If-Match against the body's version,
?beat= of another officer's beat, and meetings concluded only once they have started."""

from concerns_testkit import concern_body, officer, resident, supervisor

MEETING = {
    "kind": "community_meeting",
    "title": "Downtown beat meeting",
    "venue": "Riverton Public Library",
    "starts_at": "2026-03-12T18:30:00-06:00",
    "ends_at": "2026-03-12T20:30:00-06:00",
}


def note(web_session, concern_id: str, headers: dict | None = None, **body):
    return web_session.post(f"/concerns/{concern_id}/notes", json=body, headers=headers or officer())


def test_an_officer_adds_notes_without_changing_the_status(submit, web_session, events, db_count):
    submitted = submit(contact={"email": "ana@example.org"})
    concern_id, receipt = submitted["concern"]["id"], submitted["receipt_token"]
    added = note(web_session, concern_id, version=1, public_note="We have asked for a patrol.", internal_note="Car 7")
    assert added.status_code == 200, added.text
    assert added.headers["ETag"] == '"2"'
    body = added.json()
    assert body["status"] == "submitted" and body["version"] == 2
    assert body["updates"][-1] | {"at": None} == {
        "status": "submitted",
        "previous_status": "submitted",
        "at": None,
        "public_note": "We have asked for a patrol.",
        "by": "officer-rv02",
        "by_role": "officer",
        "internal_note": "Car 7",
    }
    # The reporter hears of the public note; the internal one stays with staff.
    changed = events.wait_for("beat.concern.status_changed")[0]["data"]
    assert changed["status"] == changed["previous_status"] == "submitted" and changed["has_public_note"] is True
    assert "patrol" not in str(changed)
    mine = web_session.get(f"/receipts/{receipt}").json()
    assert [update["public_note"] for update in mine["updates"]] == [None, "We have asked for a patrol."]
    assert "Car 7" not in str(mine)
    # An internal note alone is recorded and announces nothing.
    assert note(web_session, concern_id, version=2, internal_note="Called the caretaker").status_code == 200
    assert db_count("concern_updates") == 3 and db_count("outbox") == 2  # submitted + one status_changed
    # The concern can still be acknowledged from where it was.
    acknowledged = web_session.post(
        f"/concerns/{concern_id}/transitions", json={"status": "acknowledged", "version": 3}, headers=officer()
    )
    assert acknowledged.status_code == 200 and acknowledged.json()["version"] == 4


def test_bad_notes_are_refused_and_change_nothing(submit, web_session, db_count):
    concern_id = submit()["concern"]["id"]
    empty = note(web_session, concern_id, version=1)
    assert empty.status_code == 400 and "public_note" in empty.json()["error"]["details"]
    assert note(web_session, concern_id, version=7, public_note="late").status_code == 409
    no_version = note(web_session, concern_id, public_note="which one?")
    assert no_version.status_code == 400 and "version" in no_version.json()["error"]["details"]
    assert note(web_session, concern_id, officer("RV-03"), version=1, public_note="not mine").status_code == 403
    assert note(web_session, concern_id, resident(), version=1, public_note="me").status_code == 403
    assert web_session.post(f"/concerns/{concern_id}/notes", json={"version": 1, "public_note": "x"}).status_code == 401
    assert note(web_session, "no-such-concern", version=1, public_note="x").status_code == 404
    assert db_count("concern_updates") == 1 and db_count("outbox") == 1


def test_if_match_that_disagrees_with_the_body_version_is_refused(submit, web_session, db_count):
    concern_id = submit()["concern"]["id"]
    both = {**officer(), "If-Match": '"2"'}
    refused = web_session.post(
        f"/concerns/{concern_id}/transitions", json={"status": "acknowledged", "version": 1}, headers=both
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["details"] == {"version": ["must agree with If-Match"]}
    noted = note(web_session, concern_id, both, version=1, public_note="x")
    assert noted.status_code == 409
    assert db_count("concern_updates") == 1
    agreeing = {**officer(), "If-Match": '"1"'}
    moved = web_session.post(
        f"/concerns/{concern_id}/transitions", json={"status": "acknowledged", "version": 1}, headers=agreeing
    )
    assert moved.status_code == 200, moved.text


def test_an_officer_asking_for_another_officers_beat_gets_403(submit, web_session):
    submit(beat="RV-02")
    submit(beat="RV-03")
    theirs = web_session.get("/concerns", params={"beat": "RV-03"}, headers=officer("RV-02"))
    assert theirs.status_code == 403, theirs.text
    assert theirs.json()["error"]["details"] == {"beat": ["not one of your beats"]}
    unknown = web_session.get("/concerns", params={"beat": "RV-99"}, headers=officer("RV-02"))
    assert unknown.status_code == 403
    mine = web_session.get("/concerns", params={"beat": "RV-02"}, headers=officer("RV-02"))
    assert mine.status_code == 200 and mine.json()["total_items"] == 1
    everyone = web_session.get("/concerns", params={"beat": "RV-03"}, headers=supervisor())
    assert everyone.status_code == 200 and everyone.json()["total_items"] == 1


def test_a_meeting_cannot_be_concluded_before_it_starts(service, web_session, clock, events):
    made = web_session.post("/beats/RV-02/meetings", json=MEETING, headers=officer())
    assert made.status_code == 201, made.text
    path = f"/meetings/{made.json()['id']}/conclusion"
    early = web_session.post(path, json={"attendees": 20, "summary": "Too soon"}, headers=officer())
    assert early.status_code == 409, early.text
    assert early.json()["error"]["details"] == {"starts_at": ["2026-03-13T00:30:00Z"]}
    assert web_session.get(f"/meetings/{made.json()['id']}").json()["status"] == "scheduled"
    clock.advance(days=10, hours=16)  # 2026-03-13T01:00Z, half an hour after it started
    held = web_session.post(path, json={"attendees": 20, "summary": "Held"}, headers=officer())
    assert held.status_code == 200 and held.json()["status"] == "concluded"
    assert len(events.wait_for("beat.meeting.concluded")) == 1


def test_a_concern_in_no_beat_waits_in_the_supervisors_unplaced_queue(submit, web_session):
    by_address = submit(location={"address": "12 Main Street, Riverton"})
    outside = submit(beat="outside")
    placed = submit(beat="RV-02")
    for answer in (by_address, outside):
        assert "a supervisor will pass it to the right officers" in answer["service_notice"]
        assert "officer of your beat" not in answer["service_notice"]
        assert answer["concern"]["beat_code"] is None
    assert "An officer of your beat will acknowledge your concern within" in placed["service_notice"]
    queue = web_session.get("/concerns", params={"queue": "unplaced"}, headers=supervisor())
    assert queue.status_code == 200, queue.text
    assert {item["id"] for item in queue.json()["contents"]} == {by_address["concern"]["id"], outside["concern"]["id"]}
    everything = web_session.get("/concerns", headers=supervisor()).json()
    assert everything["total_items"] == 3 and everything["unplaced_open"] == 2
    assert web_session.get("/concerns", params={"queue": "unplaced"}, headers=officer()).status_code == 403
    assert "unplaced_open" not in web_session.get("/concerns", headers=officer()).json()
    assert web_session.get("/concerns", params={"queue": "lost"}, headers=supervisor()).status_code == 400
    # The receipt view repeats the notice that fits the concern.
    receipt = web_session.get(f"/receipts/{by_address['receipt_token']}").json()
    assert "a supervisor will pass it" in receipt["service_notice"]


def test_the_notice_and_status_labels_follow_the_submitters_language(submit, web_session, move):
    spanish = submit(language="es")
    assert spanish["service_notice"].startswith("Esta no es una línea de emergencias")
    assert "Un agente de su sector atenderá su inquietud en un plazo de" in spanish["service_notice"]
    assert spanish["concern"]["status_label"] == "Recibida"
    unplaced = submit(language="es", beat="outside")
    assert "un supervisor la pasará" in unplaced["service_notice"]
    assert move(spanish["concern"]["id"], "acknowledged", 1).status_code == 200
    receipt = web_session.get(f"/receipts/{spanish['receipt_token']}").json()
    assert receipt["status_label"] == "Atendida por el agente de su sector"
    assert receipt["service_notice"].startswith("Esta no es")
    english = submit()
    assert english["concern"]["status_label"] == "Received" and english["service_notice"].startswith("This is not")


def test_the_reporter_claim_check_carries_the_public_notes_of_each_step(
    submit, move, web_session, events, service, clock
):
    from nameko.standalone.rpc import ServiceRpcProxy

    concern_id = submit(contact={"email": "ana@example.org"})["concern"]["id"]
    assert (
        move(concern_id, "acknowledged", 1, public_note="We will visit on Friday.", internal_note="x").status_code
        == 200
    )
    clock.advance(hours=2)
    assert note(web_session, concern_id, version=2, public_note="Visited: nobody home.").status_code == 200
    acknowledged = events.wait_for("beat.concern.acknowledged")[0]
    noted = events.wait_for("beat.concern.status_changed")[0]
    with ServiceRpcProxy("concerns", service.config) as concerns:
        contact = concerns.reporter_contact(concern_id)
    # Newest first, each with the time of its step: the occurred_at of the event it published.
    assert contact["public_notes"] == [
        {"at": noted["data"]["occurred_at"], "note": "Visited: nobody home."},
        {"at": acknowledged["data"]["occurred_at"], "note": "We will visit on Friday."},
    ]
    assert "x" not in [entry["note"] for entry in contact["public_notes"]]  # internal notes stay inside


def test_anonymous_me_too_without_a_token_counts_once_per_client_address(submit, web_session):
    concern_id = submit()["concern"]["id"]
    first = web_session.post(f"/concerns/{concern_id}/support")
    assert first.status_code == 200 and first.json()["counted"] is True
    # The same client again and again without a token: refused, not counted (it used to count 4→7).
    for _ in range(3):
        again = web_session.post(f"/concerns/{concern_id}/support")
        assert again.status_code == 429, again.text
        assert again.json()["error"]["code"] == "rate_limited" and "X-Receipt-Token" in again.json()["error"]["message"]
        assert int(again.headers["Retry-After"]) > 3600
    # With the supporter token it was given, the same person is simply already counted.
    token = first.json()["supporter_token"]
    repeat = web_session.post(f"/concerns/{concern_id}/support", headers={"X-Receipt-Token": token})
    assert repeat.status_code == 200 and repeat.json()["counted"] is False
    # A resident who signs in from the same address is counted for themselves.
    signed_in = web_session.post(f"/concerns/{concern_id}/support", headers=resident("resident-neighbour"))
    assert signed_in.json()["counted"] is True and signed_in.json()["supporters"] == 2
    # Another concern from the same client: its own first anonymous "me too".
    other_id = submit(category="drug_activity")["concern"]["id"]
    assert web_session.post(f"/concerns/{other_id}/support").json()["counted"] is True


def test_anonymous_me_too_counts_each_client_behind_a_trusted_proxy(make_service, web_session):
    make_service(BEAT_TRUSTED_PROXIES="127.0.0.0/8")
    made = web_session.post("/concerns", json=concern_body(), headers={"X-Forwarded-For": "198.51.100.9"})
    concern_id = made.json()["concern"]["id"]
    for client in ("203.0.113.5", "203.0.113.6"):
        answer = web_session.post(f"/concerns/{concern_id}/support", headers={"X-Forwarded-For": client})
        assert answer.status_code == 200 and answer.json()["counted"] is True, answer.text
    again = web_session.post(f"/concerns/{concern_id}/support", headers={"X-Forwarded-For": "203.0.113.5"})
    assert again.status_code == 429
    assert web_session.get(f"/public/concerns/{concern_id}").json()["supporters"] == 2
