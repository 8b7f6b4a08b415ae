"""Submitting concerns over the native JSON API: placement, receipts, notices, duplicates, bad input."""

from typing import Any

from concerns_testkit import POINTS, concern_body, officer, resident
from jsonschema import Draft202012Validator


def contract_errors(web_session: Any, schema_name: str, body: Any) -> list[str]:
    """How `body` breaks the named schema of the service's published OpenAPI document."""
    components = web_session.get("/openapi.json").json()["components"]
    validator = Draft202012Validator({"$ref": f"#/components/schemas/{schema_name}", "components": components})
    return [f"{list(error.path)}: {error.message}" for error in validator.iter_errors(body)]


def test_anonymous_submission_gets_receipt_notice_beat_and_event(submit, web_session, events, db_count):
    answer = submit(category="drug_activity", attributes={"time_of_day": "evening"})
    concern = answer["concern"]
    assert concern["status"] == "submitted" and concern["beat_code"] == "RV-02"
    assert concern["outside_beats"] is False and concern["anonymous"] is True
    assert concern["attributes"] == {"time_of_day": "evening"}
    assert concern["acknowledge_by"] == "2026-03-04T09:00:00Z"  # drug activity: 48 hours
    assert "911" in answer["service_notice"] and "48 hours" in answer["service_notice"]
    assert concern["service_notice"] == answer["service_notice"]
    assert answer["receipt_token"] and answer["possible_duplicates"] == []
    receipt = web_session.get(f"/receipts/{answer['receipt_token']}")
    assert receipt.status_code == 200 and receipt.json()["id"] == concern["id"]
    event = events.wait_for("beat.concern.submitted")[0]
    assert event["subject"] == concern["id"]
    assert event["data"] == {
        "concern_id": concern["id"],
        "category_code": "drug_activity",
        "beat_code": "RV-02",
        "status": "submitted",
        "occurred_at": "2026-03-02T09:00:00Z",
        "anonymous": True,
        "has_contact": False,
        "outside_beats": False,
        "language": "en",
    }
    assert db_count("concerns") == 1 and db_count("concern_updates") == 1


def test_contact_details_and_resident_link(submit, events):
    contact = {"name": "Ana Bell", "email": "ana@example.org", "phone": "+1 555 123 4567", "preference": "sms"}
    answer = submit(headers=resident("resident-ana"), contact=contact, language="es")
    concern = answer["concern"]
    assert concern["anonymous"] is False
    assert concern["reporter"]["subject"] == "resident-ana"
    assert concern["reporter"]["contact_preference"] == "sms"
    data = events.wait_for("beat.concern.submitted")[0]["data"]
    assert data["has_contact"] is True and data["language"] == "es" and data["anonymous"] is False
    # No personal data in events: none of the contact's values (a random id may hold "555" or "ana").
    assert not [value for value in (contact["name"], contact["email"], contact["phone"]) if value in str(data)]


def test_concern_outside_every_beat_is_accepted_and_flagged(submit, events):
    concern = submit(beat="outside")["concern"]
    assert concern["beat_code"] is None and concern["outside_beats"] is True
    assert events.wait_for("beat.concern.submitted")[0]["data"]["outside_beats"] is True


def test_address_only_concern_has_no_beat_and_is_not_flagged(submit):
    concern = submit(location={"address": "14 Mill Lane"})["concern"]
    assert concern["location"] == {"lat": None, "long": None, "address": "14 Mill Lane"}
    assert concern["beat_code"] is None and concern["outside_beats"] is False


def test_likely_duplicates_are_suggested_on_submit_and_before(submit, web_session):
    first = submit()["concern"]
    lat, long = POINTS["RV-02"]
    near = submit(location={"lat": lat + 0.001, "long": long})
    assert [d["concern_id"] for d in near["possible_duplicates"]] == [first["id"]]
    assert 100 <= near["possible_duplicates"][0]["distance_metres"] <= 125
    assert "reporter" not in near["possible_duplicates"][0]["concern"]
    other_category = submit(category="vandalism_graffiti")
    assert other_category["possible_duplicates"] == []
    far = submit(beat="RV-05")
    assert far["possible_duplicates"] == []
    before = web_session.get("/concerns/similar", params={"category": "noise", "lat": lat, "long": long}).json()
    assert {d["concern_id"] for d in before["possible_duplicates"]} == {first["id"], near["concern"]["id"]}
    # What clients checking Beat against its published contract see: each suggestion's public view is in it.
    assert contract_errors(web_session, "SubmittedOutput", near) == []
    assert contract_errors(web_session, "SimilarOutput", before) == []


BAD_BODIES = [
    ({"description": 42}, "description"),
    ({"location": {"lat": "north", "long": -108.38}}, "location"),
    ({"location": {"lat": 95.0, "long": -108.38}}, "location"),
    ({"location": {"lat": 43.0, "long": -200.0}}, "location"),
    ({"location": {"lat": 43.0}}, "long"),
    ({"location": {}}, "location"),
    ({"category": "ufo_sightings"}, "category"),
    ({"description": "x" * 4001}, "description"),
    ({"media_url": "not a url"}, "media_url"),
    ({"language": "fr"}, "language"),
    ({"attributes": {"time_of_day": "teatime"}}, "attributes"),
    ({"contact": {"preference": "email"}}, "email"),
    ({"contact": {"email": "nope"}}, "contact"),
    ({"colour": "red"}, "colour"),
]


def test_bad_input_is_400_naming_the_field_and_stores_nothing(service, web_session, db_count):
    for change, field in BAD_BODIES:
        response = web_session.post("/concerns", json={**concern_body(), **change})
        assert response.status_code == 400, (change, response.text)
        error = response.json()["error"]
        assert error["code"] == "invalid_input"
        assert field in error["details"], (change, error)
    assert db_count("concerns") == 0 and db_count("outbox") == 0


def test_broken_and_huge_bodies_are_refused(service, web_session, db_count):
    broken = web_session.post("/concerns", data=b'{"category": "noise",', headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "invalid_input"
    not_object = web_session.post("/concerns", json=["noise"])
    assert not_object.status_code == 400
    huge = web_session.post(
        "/concerns", data=b"{" + b" " * (10 * 1024 * 1024) + b"}", headers={"Content-Type": "application/json"}
    )
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "payload_too_large"
    assert db_count("concerns") == 0


def test_rate_limit_per_client_address(make_service, web_session, db_count):
    make_service(CONCERNS_RATE_PER_ADDRESS="2/3600")
    for _ in range(2):
        assert web_session.post("/concerns", json=concern_body()).status_code == 201
    limited = web_session.post("/concerns", json=concern_body())
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) == 1800
    assert db_count("concerns") == 2


def test_rate_limit_counts_the_resident_behind_the_ingress_not_the_ingress(make_service, web_session, db_count):
    make_service(CONCERNS_RATE_PER_ADDRESS="1/3600", BEAT_TRUSTED_PROXIES="127.0.0.0/8")

    def through_ingress(client: str) -> int:
        headers = {"X-Forwarded-For": client}
        return web_session.post("/concerns", json=concern_body(), headers=headers).status_code

    assert through_ingress("198.51.100.1") == 201
    assert through_ingress("198.51.100.2") == 201  # another resident, same ingress
    assert through_ingress("198.51.100.1") == 429
    assert through_ingress("6.6.6.6, 198.51.100.1") == 429  # a forged first hop changes nothing
    assert db_count("concerns") == 2


def test_forwarded_for_from_an_untrusted_peer_is_ignored(make_service, web_session):
    make_service(CONCERNS_RATE_PER_ADDRESS="1/3600")  # nobody is a trusted proxy by default
    first = web_session.post("/concerns", json=concern_body(), headers={"X-Forwarded-For": "198.51.100.1"})
    assert first.status_code == 201
    again = web_session.post("/concerns", json=concern_body(), headers={"X-Forwarded-For": "198.51.100.2"})
    assert again.status_code == 429  # both came from this test's address


def test_rate_limit_per_token(make_service, web_session):
    make_service(CONCERNS_RATE_PER_TOKEN="1/60")
    assert web_session.post("/concerns", json=concern_body(), headers=resident("r1")).status_code == 201
    assert web_session.post("/concerns", json=concern_body(), headers=resident("r1")).status_code == 429
    assert web_session.post("/concerns", json=concern_body(), headers=resident("r2")).status_code == 201


def test_staff_submitting_for_a_caller_do_not_become_the_reporter(submit):
    concern = submit(headers=officer(), contact={"name": "Caller", "phone": "+1 555 000 1111"})["concern"]
    assert concern["reporter"]["subject"] is None and concern["reporter"]["name"] == "Caller"
