"""The referral lifecycle over real HTTP, PostgreSQL and RabbitMQ: consent, events, agency access."""

from __future__ import annotations

from datetime import timedelta

from referrals_testkit import (
    ADMIN,
    CLIENT,
    FOOD_BANK,
    FOOD_BANK_USER,
    OFFICER,
    PANTRY,
    PERSONAL_VALUES,
    SAFE_HAVEN_USER,
    START,
    SUPERVISOR,
    consent,
)

from beat_shared.clock import utc_iso


def draft(web_session, **overrides):
    body = {"service_id": PANTRY, "need_category": "food", "urgency": "soon", "beat_code": "RV-01", "client": CLIENT}
    response = web_session.post("/referrals", json={**body, **overrides}, headers=OFFICER)
    assert response.status_code == 201, response.text
    return response.json()


def sent(web_session):
    referral = draft(web_session, consent=consent())
    response = web_session.post(f"/referrals/{referral['id']}/send", headers=OFFICER)
    assert response.status_code == 200, response.text
    return response.json()


def assert_no_personal_data(event):
    text = str(event)
    for value in PERSONAL_VALUES:
        assert value not in text, f"{value!r} leaked into {event.get('type', event)}"


def test_draft_without_consent_cannot_be_sent(referrals, web_session, spy, db_session):
    referral = draft(web_session)
    assert referral["status"] == "draft" and referral["agency_id"] == FOOD_BANK
    response = web_session.post(f"/referrals/{referral['id']}/send", headers=OFFICER)
    assert response.status_code == 409
    error = response.json()["error"]
    assert "no consent is recorded" in error["message"] and "consent" in error["message"]
    assert db_session("SELECT status FROM referrals")[0].status == "draft"
    created = spy.wait("beat.referral.created")[0]
    assert created["data"]["status"] == "draft"
    assert "x-agency-id" not in spy.headers_of(created["id"])  # a draft never reaches the agency's feed
    assert spy.events("beat.referral.sent") == []


def test_expired_consent_and_consent_for_another_agency_block_sending(referrals, web_session, clock):
    referral = draft(web_session)
    old = consent(given_at=utc_iso(START - timedelta(days=10)), valid_until=utc_iso(START - timedelta(days=1)))
    assert web_session.post(f"/referrals/{referral['id']}/consent", json=old, headers=OFFICER).status_code == 201
    response = web_session.post(f"/referrals/{referral['id']}/send", headers=OFFICER)
    assert response.status_code == 409 and "consent has expired" in response.json()["error"]["message"]


def test_full_lifecycle_with_events_and_agency_access(referrals, web_session, spy, clock):
    referral = draft(web_session)
    recorded = web_session.post(f"/referrals/{referral['id']}/consent", json=consent(), headers=OFFICER)
    assert recorded.status_code == 201 and recorded.json()["agency_id"] == FOOD_BANK
    assert recorded.json()["valid_now"] is True

    response = web_session.post(f"/referrals/{referral['id']}/send", headers=OFFICER)
    assert response.status_code == 200 and response.json()["status"] == "sent"
    event = spy.wait("beat.referral.sent")[0]
    assert event["data"]["details_url"] == f"https://referrals.beat.test/referrals/{referral['id']}"
    assert event["data"]["respond_by"] == utc_iso(START + timedelta(hours=48))
    assert event["data"]["need_category"] == "food" and event["data"]["urgency"] == "soon"
    assert spy.headers_of(event["id"])["x-agency-id"] == FOOD_BANK
    assert_no_personal_data(event)

    # The agency fetches the details with its own token and sees the client (consent is valid).
    details = web_session.get(f"/referrals/{referral['id']}", headers=FOOD_BANK_USER)
    assert details.status_code == 200
    assert details.json()["client"]["name"] == "Maria Lopez"
    # Another agency's token gets 404, with no hint the referral exists.
    assert web_session.get(f"/referrals/{referral['id']}", headers=SAFE_HAVEN_USER).status_code == 404
    assert web_session.post(f"/referrals/{referral['id']}/accept", headers=SAFE_HAVEN_USER).status_code == 404
    assert web_session.get("/referrals", headers=SAFE_HAVEN_USER).json()["total_items"] == 0
    assert web_session.get("/referrals", headers=FOOD_BANK_USER).json()["total_items"] == 1

    clock.advance(hours=3)
    assert web_session.post(f"/referrals/{referral['id']}/accept", headers=FOOD_BANK_USER).json()["status"] == (
        "accepted"
    )
    # Legal transitions only: accepting twice is a conflict.
    twice = web_session.post(f"/referrals/{referral['id']}/accept", headers=FOOD_BANK_USER)
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "illegal_transition"
    started = web_session.post(
        f"/referrals/{referral['id']}/status", json={"status": "in_progress"}, headers=FOOD_BANK_USER
    )
    assert started.json()["status"] == "in_progress"
    done = web_session.post(
        f"/referrals/{referral['id']}/outcome",
        json={"outcome": "got_help", "note": "Parcel collected by Maria"},
        headers=FOOD_BANK_USER,
    )
    assert done.status_code == 200 and done.json()["outcome"] == "got_help"

    for event_type in ("beat.referral.accepted", "beat.referral.status_changed", "beat.referral.completed"):
        [event] = spy.wait(event_type)
        assert spy.headers_of(event["id"])["x-agency-id"] == FOOD_BANK
        assert_no_personal_data(event)
    assert spy.events("beat.referral.status_changed")[0]["data"]["previous_status"] == "accepted"
    assert spy.events("beat.referral.completed")[0]["data"]["outcome"] == "got_help"

    # Officers cannot move a closed referral; agencies cannot cancel.
    assert (
        web_session.post(f"/referrals/{referral['id']}/cancel", json={"reason": "other"}, headers=OFFICER).status_code
        == 409
    )
    assert (
        web_session.post(
            f"/referrals/{referral['id']}/cancel", json={"reason": "other"}, headers=FOOD_BANK_USER
        ).status_code
        == 403
    )

    report = web_session.get("/reports/outcomes?group_by=agency", headers=SUPERVISOR).json()["contents"]
    [row] = [row for row in report if row["agency"] == FOOD_BANK]
    assert row["sent"] == 1 and row["accepted"] == 1 and row["acceptance_rate"] == 1.0
    assert row["median_hours_to_accept"] == 3.0 and row["completed"] == 1 and row["outcomes"]["got_help"] == 1
    by_need = web_session.get("/reports/outcomes?group_by=need_category", headers=ADMIN).json()["contents"]
    assert by_need[0]["need_category"] == "food"
    assert web_session.get("/reports/outcomes", headers=OFFICER).status_code == 403


def test_decline_needs_a_coded_reason_and_is_published(referrals, web_session, spy):
    referral = sent(web_session)
    missing = web_session.post(f"/referrals/{referral['id']}/decline", json={}, headers=FOOD_BANK_USER)
    assert missing.status_code == 400 and "reason" in missing.json()["error"]["details"]
    free_text = web_session.post(
        f"/referrals/{referral['id']}/decline", json={"reason": "Maria is rude"}, headers=FOOD_BANK_USER
    )
    assert free_text.status_code == 400 and "reason" in free_text.json()["error"]["details"]
    declined = web_session.post(
        f"/referrals/{referral['id']}/decline", json={"reason": "no_capacity"}, headers=FOOD_BANK_USER
    )
    assert declined.json()["status"] == "declined"
    assert spy.wait("beat.referral.declined")[0]["data"]["reason"] == "no_capacity"
    # A declined referral no longer shows the client to the agency.
    view = web_session.get(f"/referrals/{referral['id']}", headers=FOOD_BANK_USER).json()
    assert view["client"] is None and "declined" in view["client_withheld_reason"]
    outcome = web_session.post(
        f"/referrals/{referral['id']}/outcome", json={"outcome": "got_help"}, headers=FOOD_BANK_USER
    )
    assert outcome.status_code == 409


def test_cancel_publishes_and_agency_cannot_see_drafts(referrals, web_session, spy):
    referral = draft(web_session)
    assert web_session.get(f"/referrals/{referral['id']}", headers=FOOD_BANK_USER).status_code == 404
    cancelled = web_session.post(
        f"/referrals/{referral['id']}/cancel", json={"reason": "no_longer_needed"}, headers=OFFICER
    )
    assert cancelled.json()["status"] == "cancelled"
    assert spy.wait("beat.referral.cancelled")[0]["data"]["status"] == "cancelled"


def test_withdrawal_stops_sharing_and_tells_the_agency(referrals, web_session, spy, clock):
    referral = sent(web_session)
    consent_id = web_session.get(f"/referrals/{referral['id']}", headers=OFFICER).json()["consent"]["id"]
    withdrawn = web_session.post(f"/consents/{consent_id}/withdraw", json={"method": "verbal"}, headers=OFFICER)
    assert withdrawn.status_code == 200 and withdrawn.json()["agencies_told"] == [FOOD_BANK]
    [event] = spy.wait("beat.consent.withdrawn")
    assert event["data"] == {
        "consent_id": consent_id,
        "referral_ids": [referral["id"]],
        "agency_ids": [FOOD_BANK],
        "occurred_at": utc_iso(START),
    }
    assert spy.headers_of(event["id"])["x-agency-id"] == FOOD_BANK
    view = web_session.get(f"/referrals/{referral['id']}", headers=FOOD_BANK_USER).json()
    assert view["client"] is None and view["client_withheld_reason"] == "the client withdrew consent"
    assert_no_personal_data(view)
    again = web_session.post(f"/consents/{consent_id}/withdraw", json={"method": "verbal"}, headers=OFFICER)
    assert again.status_code == 409


def test_every_read_of_personal_data_is_audited(referrals, web_session):
    referral = sent(web_session)
    web_session.get(f"/referrals/{referral['id']}", headers=FOOD_BANK_USER)
    web_session.get(f"/referrals/{referral['id']}", headers=SUPERVISOR)
    web_session.get("/referrals", headers=FOOD_BANK_USER)  # the list shows no personal data: not audited
    log = web_session.get(f"/audit-log?referral_id={referral['id']}", headers=ADMIN)
    assert log.status_code == 200
    entries = log.json()["contents"]
    readers = [(entry["actor"], entry["actor_role"], entry["actor_agency_id"]) for entry in entries]
    # Newest first: the supervisor's read, the agency's read, then the officer's answers (create, send).
    assert readers[:2] == [("supervisor-1", "supervisor", None), ("worker@foodbank", "agency", FOOD_BANK)]
    assert all(entry["action"] == "read_client_details" and "name" in entry["fields"] for entry in entries)
    assert web_session.get("/audit-log", headers=SUPERVISOR).status_code == 403
    by_actor = web_session.get("/audit-log?actor=worker@foodbank", headers=ADMIN).json()
    assert by_actor["total_items"] == 1


def test_reminder_then_expiry_with_supervisor_alert(referrals, web_session, spy, clock):
    from nameko.testing.services import entrypoint_hook

    referral = sent(web_session)
    with entrypoint_hook(referrals, "check_deadlines") as check:
        assert check() == {"reminded": 0, "expired": 0}
        clock.advance(hours=25)
        assert check() == {"reminded": 1, "expired": 0}
        assert check() == {"reminded": 0, "expired": 0}  # one reminder only
        clock.advance(hours=24)
        assert check() == {"reminded": 0, "expired": 1}
    reminder = spy.wait("beat.referral.reminder_due")[0]
    assert reminder["data"]["respond_by"] == utc_iso(START + timedelta(hours=48))
    expired = spy.wait("beat.referral.expired")[0]
    assert expired["data"]["referral_id"] == referral["id"] and expired["data"]["status"] == "expired"
    assert spy.headers_of(expired["id"])["x-agency-id"] == FOOD_BANK
    late = web_session.post(f"/referrals/{referral['id']}/accept", headers=FOOD_BANK_USER)
    assert late.status_code == 409


def test_retention_erases_personal_data_and_keeps_counts(referrals, web_session, clock, db_session):
    from nameko.testing.services import entrypoint_hook

    referral = sent(web_session)
    web_session.post(f"/referrals/{referral['id']}/accept", headers=FOOD_BANK_USER)
    web_session.post(f"/referrals/{referral['id']}/outcome", json={"outcome": "got_help"}, headers=FOOD_BANK_USER)
    open_one = sent(web_session)
    with entrypoint_hook(referrals, "erase_expired_personal_data") as erase:
        clock.advance(days=29)
        assert erase() == 0
        clock.advance(days=2)
        assert erase() == 1
    rows = {row.id: row for row in db_session("SELECT * FROM referrals")}
    closed, still_open = rows[referral["id"]], rows[open_one["id"]]
    assert closed.personal_data_erased_at is not None
    assert (closed.client_name, closed.client_phone, closed.client_email, closed.client_notes) == (None,) * 4
    assert still_open.client_name == "Maria Lopez" and still_open.personal_data_erased_at is None
    consent_row = db_session("SELECT given_by FROM consent_records WHERE id = :id", id=closed.consent_id)[0]
    assert consent_row.given_by is None
    view = web_session.get(f"/referrals/{referral['id']}", headers=SUPERVISOR).json()
    assert view["client"] is None and "erased" in view["client_withheld_reason"]
    report = web_session.get("/reports/outcomes", headers=ADMIN).json()["contents"][0]
    assert report["sent"] == 2 and report["completed"] == 1 and report["outcomes"]["got_help"] == 1


def test_bad_referral_input_names_the_field_and_stores_nothing(referrals, web_session, db_session):
    cases = [
        ({"need_category": "food", "client": CLIENT}, "service_id"),
        ({"service_id": PANTRY, "need_category": "food", "client": {**CLIENT, "email": "nope"}}, "client"),
        ({"service_id": PANTRY, "need_category": "food", "urgency": "whenever", "client": CLIENT}, "urgency"),
        ({"service_id": PANTRY, "need_category": "astrology", "client": CLIENT}, "need_category"),
        ({"service_id": PANTRY, "need_category": "food", "client": CLIENT, "colour": "red"}, "colour"),
        (
            {
                "service_id": PANTRY,
                "need_category": "food",
                "client": CLIENT,
                "consent": consent(valid_until=utc_iso(START - timedelta(days=30))),
            },
            "valid_until",
        ),
    ]
    for body, field in cases:
        response = web_session.post("/referrals", json=body, headers=OFFICER)
        assert response.status_code == 400, (field, response.text)
        assert field in response.json()["error"]["details"], (field, response.json())
    assert db_session("SELECT count(*) AS n FROM referrals")[0].n == 0
    assert db_session("SELECT count(*) AS n FROM consent_records")[0].n == 0
    assert db_session("SELECT count(*) AS n FROM outbox")[0].n == 0
    assert web_session.post("/referrals", json={}, headers=FOOD_BANK_USER).status_code == 403
    assert web_session.post("/referrals", json={}).status_code == 401


def test_officer_edits_draft_and_lists_referrals(referrals, web_session):
    referral = draft(web_session)
    changed = web_session.patch(
        f"/referrals/{referral['id']}",
        json={"urgency": "urgent", "client": {"phone": "+1 555 0100 999"}},
        headers=OFFICER,
    )
    assert changed.status_code == 200
    assert changed.json()["urgency"] == "urgent" and changed.json()["client"]["phone"] == "+1 555 0100 999"
    listing = web_session.get("/referrals?status=draft", headers=OFFICER).json()
    assert listing["total_items"] == 1 and "client" not in listing["contents"][0]
    assert web_session.get("/referrals?status=nonsense", headers=OFFICER).status_code == 400


def test_an_officer_lists_the_referrals_made_for_one_concern(referrals, web_session):
    made = draft(web_session, concern_id="concern-7")
    draft(web_session, concern_id="concern-8")
    listing = web_session.get("/referrals?concern_id=concern-7", headers=OFFICER).json()
    assert [row["id"] for row in listing["contents"]] == [made["id"]]


def test_a_retried_draft_is_the_same_referral(referrals, web_session, db_session):
    body = {"service_id": PANTRY, "need_category": "food", "urgency": "soon", "beat_code": "RV-01", "client": CLIENT}
    keyed = {**OFFICER, "Idempotency-Key": "referral-draft-0001"}
    first = web_session.post("/referrals", json=body, headers=keyed)
    again = web_session.post("/referrals", json=body, headers=keyed)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    other = web_session.post("/referrals", json={**body, "urgency": "urgent"}, headers=keyed)
    assert other.status_code == 422
    bad = web_session.post("/referrals", json=body, headers={**OFFICER, "Idempotency-Key": "tiny"})
    assert bad.status_code == 400 and "Idempotency-Key" in bad.json()["error"]["details"]
    assert db_session("SELECT count(*) AS n FROM referrals")[0].n == 1
