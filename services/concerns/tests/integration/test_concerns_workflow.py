"""The workflow over HTTP: legal moves with who/when/notes, events, 409s, support, overdue, referrals, RPC."""

from datetime import UTC, datetime

import pytest
from concerns_testkit import concern_body, officer, resident, run_timer, supervisor
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ServiceRpcProxy


def test_main_road_with_notes_events_and_history(submit, move, web_session, events):
    concern_id = submit(contact={"email": "ana@example.org"})["concern"]["id"]
    acknowledged = move(concern_id, "acknowledged", 1, public_note="Thanks, on it.", internal_note="Known address")
    assert acknowledged.status_code == 200, acknowledged.text
    assert acknowledged.headers["ETag"] == '"2"'
    body = acknowledged.json()
    assert body["status"] == "acknowledged" and body["version"] == 2
    assert body["acknowledged_at"] == "2026-03-02T09:00:00Z"
    assert body["updates"][-1] == {
        "status": "acknowledged",
        "previous_status": "submitted",
        "at": "2026-03-02T09:00:00Z",
        "public_note": "Thanks, on it.",
        "by": "officer-rv02",
        "by_role": "officer",
        "internal_note": "Known address",
    }
    assert move(concern_id, "in_progress", 2).status_code == 200
    resolved = move(concern_id, "resolved", 3, public_note="Patrols every night this week.")
    assert resolved.json()["status"] == "resolved" and resolved.json()["ended_at"] == "2026-03-02T09:00:00Z"

    ack = events.wait_for("beat.concern.acknowledged")[0]["data"]
    assert ack["officer_id"] == "officer-rv02" and ack["submitted_at"] == "2026-03-02T09:00:00Z"
    changed = events.wait_for("beat.concern.status_changed")[0]["data"]
    assert changed["previous_status"] == "acknowledged" and changed["status"] == "in_progress"
    assert changed["changed_by"] == "officer-rv02" and changed["has_public_note"] is False
    ended = events.wait_for("beat.concern.resolved")[0]["data"]
    assert ended["acknowledged_at"] == "2026-03-02T09:00:00Z" and ended["has_contact"] is True
    assert "Patrols" not in str(ended)  # notes stay in the service

    public = web_session.get(f"/public/concerns/{concern_id}").json()
    assert [update["public_note"] for update in public["updates"]] == [
        "Thanks, on it.",
        "Patrols every night this week.",
    ]
    assert "internal_note" not in str(public)


def test_stale_version_and_illegal_moves_are_409_and_change_nothing(submit, move, web_session, db_count):
    concern_id = submit()["concern"]["id"]
    assert move(concern_id, "acknowledged", 1).status_code == 200
    # A second officer still holding version 1 cannot overwrite the first one's change.
    stale = move(concern_id, "closed_not_resolved", 1, headers=supervisor())
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "conflict"
    illegal = move(concern_id, "submitted", 2)
    assert illegal.status_code == 409 and "allowed from acknowledged" in str(illegal.json()["error"]["details"])
    missing = web_session.post(f"/concerns/{concern_id}/transitions", json={"status": "in_progress"}, headers=officer())
    assert missing.status_code == 400 and "version" in missing.json()["error"]["details"]
    with_if_match = web_session.post(
        f"/concerns/{concern_id}/transitions", json={"status": "in_progress"}, headers={**officer(), "If-Match": '"2"'}
    )
    assert with_if_match.status_code == 200 and with_if_match.json()["version"] == 3
    stale_etag = web_session.post(
        f"/concerns/{concern_id}/transitions", json={"status": "resolved"}, headers={**officer(), "If-Match": '"2"'}
    )
    assert stale_etag.status_code == 409
    assert db_count("concern_updates") == 3 and db_count("outbox") == 3  # submitted, acknowledged, in_progress


def test_officer_of_another_beat_cannot_change_a_concern(submit, move, web_session, db_count):
    concern_id = submit(beat="RV-02")["concern"]["id"]
    other = move(concern_id, "acknowledged", 1, headers=officer("RV-03"))
    assert other.status_code == 403
    assert move(concern_id, "acknowledged", 1, headers=resident()).status_code == 403
    assert move(concern_id, "acknowledged", 1, headers={}).status_code == 401
    assert web_session.get(f"/concerns/{concern_id}", headers=officer("RV-03")).status_code == 403
    assert db_count("concern_updates") == 1
    outside_id = submit(beat="outside")["concern"]["id"]
    assert move(outside_id, "acknowledged", 1).status_code == 403
    assert move(outside_id, "acknowledged", 1, headers=supervisor()).status_code == 200


def test_closed_not_resolved_and_referred(submit, move, events):
    first = submit()["concern"]["id"]
    assert move(first, "closed_not_resolved", 1, public_note="Private land; not for us.").status_code == 200
    closed = events.wait_for("beat.concern.closed")[0]["data"]
    assert closed["status"] == "closed_not_resolved" and closed["acknowledged_at"] is None
    second = submit(beat="RV-05", category="youth_gang_activity")["concern"]["id"]
    move(second, "acknowledged", 1, headers=officer("RV-05"))
    referred = move(second, "referred", 2, headers=officer("RV-05"))
    assert referred.json()["status"] == "referred" and referred.json()["open311_status"] == "open"
    assert any(e["data"]["status"] == "referred" for e in events.wait_for("beat.concern.status_changed"))


def test_reporter_withdraws_with_receipt_token_only(submit, web_session, events):
    answer = submit()
    concern_id, token = answer["concern"]["id"], answer["receipt_token"]
    other_token = submit()["receipt_token"]
    assert web_session.post(f"/concerns/{concern_id}/withdraw").status_code == 401
    assert (
        web_session.post(f"/concerns/{concern_id}/withdraw", headers={"X-Receipt-Token": other_token}).status_code
        == 403
    )
    assert web_session.post(f"/concerns/{concern_id}/withdraw", headers=resident("someone")).status_code == 403
    withdrawn = web_session.post(
        f"/concerns/{concern_id}/withdraw",
        json={"public_note": "Sorted it out with my neighbour."},
        headers={"X-Receipt-Token": token},
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert events.wait_for("beat.concern.closed")[0]["data"]["status"] == "withdrawn"
    assert web_session.get(f"/public/concerns/{concern_id}").status_code == 404  # gone from the public


def test_resident_withdraws_own_concern_by_bearer(submit, web_session):
    concern_id = submit(headers=resident("resident-ana"))["concern"]["id"]
    response = web_session.post(
        f"/concerns/{concern_id}/withdraw", json={"version": 1}, headers=resident("resident-ana")
    )
    assert response.status_code == 200
    again = web_session.post(f"/concerns/{concern_id}/withdraw", json={"version": 2}, headers=resident("resident-ana"))
    assert again.status_code == 409


def test_duplicate_merges_and_carries_supporters_over(submit, move, web_session, events):
    original = submit(headers=resident("resident-ana"))["concern"]["id"]
    duplicate_answer = submit(headers=resident("resident-ben"))
    duplicate = duplicate_answer["concern"]["id"]
    for who in ("resident-cat", "resident-dan", "resident-ana"):  # ana already reported the original
        web_session.post(f"/concerns/{duplicate}/support", headers=resident(who))
    self_merge = move(duplicate, "duplicate", 1, merged_into=duplicate)
    assert self_merge.status_code == 400
    no_target = move(duplicate, "duplicate", 1)
    assert no_target.status_code == 400 and "merged_into" in no_target.json()["error"]["details"]
    merged = move(duplicate, "duplicate", 1, merged_into=original, public_note="Same as an earlier concern.")
    assert merged.status_code == 200 and merged.json()["merged_into"] == original
    target = web_session.get(f"/public/concerns/{original}").json()
    assert target["supporters"] == 3  # ben (reporter), cat, dan; ana is the original's reporter
    data = events.wait_for("beat.concern.merged")[0]["data"]
    assert data["merged_into"] == original and data["supporters_moved"] == 3
    into_closed = submit()["concern"]["id"]
    assert move(into_closed, "duplicate", 1, merged_into=duplicate).status_code == 409
    me_too_merged = web_session.post(f"/concerns/{duplicate}/support", headers=resident("resident-eve"))
    assert me_too_merged.status_code == 409


def test_me_too_counts_once_per_resident_or_token(submit, web_session, events):
    answer = submit()
    concern_id = answer["concern"]["id"]
    first = web_session.post(f"/concerns/{concern_id}/support", headers=resident("resident-ben"))
    assert first.json()["counted"] is True and first.json()["supporters"] == 1
    again = web_session.post(f"/concerns/{concern_id}/support", headers=resident("resident-ben"))
    assert again.json()["counted"] is False and again.json()["supporters"] == 1
    own = web_session.post(f"/concerns/{concern_id}/support", headers={"X-Receipt-Token": answer["receipt_token"]})
    assert own.json()["counted"] is False  # the reporter is already counted
    anonymous = web_session.post(f"/concerns/{concern_id}/support").json()
    assert anonymous["counted"] is True and anonymous["supporter_token"]
    repeat = web_session.post(
        f"/concerns/{concern_id}/support", headers={"X-Receipt-Token": anonymous["supporter_token"]}
    )
    assert repeat.json()["counted"] is False and repeat.json()["supporters"] == 2
    forged = web_session.post(f"/concerns/{concern_id}/support", headers={"X-Receipt-Token": "made-up"})
    assert forged.status_code == 403
    assert web_session.post(f"/concerns/{concern_id}/support", headers=officer()).status_code == 403
    supported = events.wait_for("beat.concern.supported", count=2)
    assert [event["data"]["supporters"] for event in supported] == [1, 2]
    mine = web_session.get("/me/concerns", headers=resident("resident-ben")).json()
    assert [(item["id"], item["relation"]) for item in mine["contents"]] == [(concern_id, "supported")]


def test_overdue_timer_flags_each_late_concern_once(service, submit, move, clock, events, web_session):
    suspicious = submit(category="suspicious_activity")["concern"]["id"]  # 24 hours to acknowledge
    noise = submit(category="noise")["concern"]["id"]  # 72 hours
    acknowledged = submit(category="suspicious_activity")["concern"]["id"]
    move(acknowledged, "acknowledged", 1)
    clock.advance(hours=25)
    assert run_timer(service, "check_overdue") == 1
    assert run_timer(service, "check_overdue") == 0  # once each
    overdue = events.wait_for("beat.concern.overdue")
    assert [event["subject"] for event in overdue] == [suspicious]
    assert overdue[0]["data"]["due_at"] == "2026-03-03T09:00:00Z"
    listed = web_session.get("/concerns", params={"overdue": "true"}, headers=supervisor()).json()
    assert [item["id"] for item in listed["contents"]] == [suspicious]
    clock.advance(hours=48)
    assert run_timer(service, "check_overdue") == 1
    assert events.wait_for("beat.concern.overdue", count=2)[1]["subject"] == noise


REFERRAL = {
    "need_category": "youth_services",
    "urgency": "soon",
    "client": {"name": "Jo Parent", "phone": "+1 555 987 6543", "language": "es", "notes": "Evenings only"},
    "consent": {
        "given_by": "Jo Parent",
        "given_at": "2026-03-02T08:30:00Z",
        "method": "verbal",
        "scope": "Share name and phone with youth services",
        "valid_until": "2026-09-01T00:00:00Z",
    },
}


def test_referral_request_event_and_client_rpc(service, submit, web_session, events):
    concern_id = submit(beat="RV-05", category="youth_gang_activity")["concern"]["id"]
    assert (
        web_session.post(
            "/referral-requests", json={**REFERRAL, "concern_id": concern_id}, headers=officer("RV-02")
        ).status_code
        == 403
    )
    no_consent = {key: value for key, value in REFERRAL.items() if key != "consent"}
    refused = web_session.post(
        "/referral-requests", json={**no_consent, "concern_id": concern_id}, headers=officer("RV-05")
    )
    assert refused.status_code == 400 and "consent" in refused.json()["error"]["details"]
    made = web_session.post("/referral-requests", json={**REFERRAL, "concern_id": concern_id}, headers=officer("RV-05"))
    assert made.status_code == 201, made.text
    request_id = made.json()["request_id"]
    data = events.wait_for("beat.referral.requested")[0]["data"]
    assert data == {
        "request_id": request_id,
        "concern_id": concern_id,
        "need_category": "youth_services",
        "urgency": "soon",
        "beat_code": "RV-05",
        "requested_by": "officer-rv05",
        "consent_recorded": True,
        "occurred_at": "2026-03-02T09:00:00Z",
    }
    with ServiceRpcProxy("concerns", service.config) as concerns:
        client = concerns.referral_client(request_id)
        assert concerns.referral_client("no-such-request") is None
    assert client == {
        "request_id": request_id,
        "concern_id": concern_id,
        "name": "Jo Parent",
        "phone": "+1 555 987 6543",
        "email": None,
        "language": "es",
        "notes": "Evenings only",
        "consent": {
            "given_by": "Jo Parent",
            "given_at": "2026-03-02T08:30:00Z",
            "method": "verbal",
            "scope": "Share name and phone with youth services",
            "valid_until": "2026-09-01T00:00:00Z",
        },
    }


def test_rpc_reporter_contact_beat_contacts_and_beat_exists(service, submit):
    with_contact = submit(contact={"name": "Ana", "email": "ana@example.org", "preference": "email"}, language="es")
    anonymous = submit()
    with ServiceRpcProxy("concerns", service.config) as concerns:
        assert concerns.reporter_contact(with_contact["concern"]["id"]) == {
            "name": "Ana",
            "email": "ana@example.org",
            "phone": None,
            "language": "es",
            "contact_preference": "email",
            "public_notes": [],
        }
        assert concerns.reporter_contact(anonymous["concern"]["id"]) is None
        assert concerns.reporter_contact("unknown") is None
        contacts = concerns.beat_contacts("RV-03")
        assert concerns.beat_contacts("RV-99") == {"officers": [], "supervisors": []}
        assert concerns.beat_exists("RV-03") is True and concerns.beat_exists("RV-99") is False
    assert [person["subject"] for person in contacts["officers"]] == ["officer-rv03"]
    assert contacts["officers"][0]["email"] == "officer-rv03@riverton.example"
    assert [person["subject"] for person in contacts["supervisors"]] == ["supervisor-1"]
    assert set(contacts["officers"][0]) == {"subject", "name", "email", "phone"}


def test_rpc_reporter_contacts_answers_a_batch_in_one_call(service, submit):
    ana = submit(contact={"name": "Ana", "email": "ana@example.org", "preference": "email"}, language="es")
    ben = submit(contact={"name": "Ben", "phone": "+15555550123", "preference": "sms"})
    anonymous = submit()
    ids = [ana["concern"]["id"], ben["concern"]["id"], anonymous["concern"]["id"], "unknown", ana["concern"]["id"]]
    with ServiceRpcProxy("concerns", service.config) as concerns:
        answer = concerns.reporter_contacts(ids)
        singles = {concern_id: concerns.reporter_contact(concern_id) for concern_id in ids}
        with pytest.raises(RemoteError) as not_a_list:
            concerns.reporter_contacts("c-1")
        with pytest.raises(RemoteError) as too_many:
            concerns.reporter_contacts([f"c-{number}" for number in range(501)])
    assert answer == singles  # the same answer as one call per concern
    assert answer[ben["concern"]["id"]]["phone"] == "+15555550123"
    assert answer[anonymous["concern"]["id"]] is None and answer["unknown"] is None
    assert not_a_list.value.exc_type == too_many.value.exc_type == "InvalidInput"


def test_timestamps_follow_the_clock(submit, move, clock):
    concern_id = submit()["concern"]["id"]
    clock.advance(hours=5)
    body = move(concern_id, "acknowledged", 1).json()
    assert body["acknowledged_at"] == datetime(2026, 3, 2, 14, tzinfo=UTC).isoformat().replace("+00:00", "Z")
    assert body["updated_at"] == body["acknowledged_at"] and body["submitted_at"] == "2026-03-02T09:00:00Z"


def test_unknown_concern_is_404(service, web_session, move):
    assert move("no-such-concern", "acknowledged", 1).status_code == 404
    assert web_session.post("/concerns/no-such-concern/support").status_code == 404
    assert web_session.get("/concerns/no-such-concern", headers=officer()).status_code == 404
    assert web_session.post("/concerns", json=concern_body()).status_code == 201


def test_two_officers_changing_at_once_cannot_both_win(submit, web_session, db_count):
    from concurrent.futures import ThreadPoolExecutor

    concern_id = submit()["concern"]["id"]

    def change(headers_and_status):
        headers, status = headers_and_status
        return web_session.post(
            f"/concerns/{concern_id}/transitions", json={"status": status, "version": 1}, headers=headers
        ).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(change, [(officer(), "acknowledged"), (supervisor(), "closed_not_resolved")]))
    assert outcomes == [200, 409]
    assert db_count("concern_updates") == 2
