"""Open311 GeoReport v2 conformance, in XML and JSON, against the running service."""

from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from concerns_testkit import POINTS, officer

API_KEY = "open311-development-key"
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]


def post_form(web_session, fmt="xml", query="", **fields):
    lat, long = POINTS["RV-02"]
    values = {
        "api_key": API_KEY,
        "service_code": "noise",
        "lat": lat,
        "long": long,
        "description": "Bass from the car park",
        **fields,
    }
    values = {key: value for key, value in values.items() if value is not None}
    return web_session.post(f"/open311/v2/requests.{fmt}{query}", data=urlencode(values, doseq=True), headers=FORM)


def xml(response):
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8", response.headers
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ElementTree.fromstring(response.content)


def xml_errors(response, status):
    assert response.status_code == status, response.text
    root = xml(response)
    assert root.tag == "errors"
    return [(int(error.findtext("code")), error.findtext("description")) for error in root.findall("error")]


def json_errors(response, status):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, list) and all(set(error) == {"code", "description"} for error in body)
    return [(error["code"], error["description"]) for error in body]


def test_discovery_and_services_in_both_formats(service, web_session):
    discovery = xml(web_session.get("/open311/v2/discovery.xml"))
    endpoint = discovery.find("endpoints/endpoint")
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url").endswith("/open311/v2")
    assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]
    assert web_session.get("/open311/v2/discovery.json").json()["endpoints"][0]["type"] == "production"

    services = xml(web_session.get("/open311/v2/services.xml"))
    assert services.tag == "services" and len(services.findall("service")) == 10
    speeding = next(s for s in services.findall("service") if s.findtext("service_code") == "speeding_traffic")
    assert speeding.findtext("metadata") == "true" and speeding.findtext("type") == "realtime"
    assert speeding.findtext("group") == "traffic" and "speeding" in speeding.findtext("keywords")
    as_json = web_session.get("/open311/v2/services.json").json()
    assert {s["service_code"] for s in as_json} >= {"other", "noise"}
    assert next(s for s in as_json if s["service_code"] == "other")["metadata"] is False
    # Old clients ask for .xml while accepting only JSON.
    accept_json = web_session.get("/open311/v2/services.xml", headers={"Accept": "application/json"})
    assert accept_json.headers["Content-Type"].startswith("application/json")


def test_service_definition_and_the_singular_alias(service, web_session):
    definition = xml(web_session.get("/open311/v2/services/speeding_traffic.xml"))
    assert definition.tag == "service_definition" and definition.findtext("service_code") == "speeding_traffic"
    attributes = definition.findall("attributes/attribute")
    assert [a.findtext("code") for a in attributes] == ["time_of_day", "vehicle_types"]
    vehicles = attributes[1]
    assert vehicles.findtext("datatype") == "multivaluelist" and vehicles.findtext("variable") == "true"
    assert vehicles.findtext("required") == "false" and vehicles.findtext("order") == "2"
    assert [v.findtext("key") for v in vehicles.findall("values/value")] == ["car", "motorbike", "truck"]
    as_json = web_session.get("/open311/v2/service/speeding_traffic.json").json()
    assert as_json["attributes"][1]["values"][0] == {"key": "car", "name": "Cars"}
    assert xml_errors(web_session.get("/open311/v2/services/unknown.xml"), 404)[0][0] == 404
    assert json_errors(web_session.get("/open311/v2/services/unknown.json"), 404)[0][0] == 404


def test_post_as_form_data_then_the_request_appears_with_the_spec_fields(service, web_session, events):
    created = post_form(
        web_session,
        service_code="speeding_traffic",
        **{"attribute[time_of_day]": "night", "attribute[vehicle_types][]": ["car", "motorbike"]},
        email="ana@example.org",
        first_name="Ana",
        last_name="Bell",
        phone="+1 555 123 4567",
        account_id="acc-7",
    )
    assert created.status_code == 200, created.text
    request = xml(created).find("request")
    request_id = request.findtext("service_request_id")
    assert request_id and request.find("token") is None  # realtime: an id, not a token
    assert "911" in request.findtext("service_notice") and request.findtext("account_id") == "acc-7"

    listed = xml(web_session.get("/open311/v2/requests.xml"))
    assert [r.findtext("service_request_id") for r in listed.findall("request")] == [request_id]
    one = web_session.get(f"/open311/v2/requests/{request_id}.json").json()
    assert len(one) == 1 and list(one[0]) == REQUEST_FIELDS
    record = one[0]
    assert record["status"] == "open" and record["service_code"] == "speeding_traffic"
    assert record["service_name"] == "Speeding and traffic"
    assert record["requested_datetime"] == "2026-03-02T09:00:00Z"
    assert record["expected_datetime"] == "2026-03-05T09:00:00Z"
    assert record["lat"] == round(POINTS["RV-02"][0], 3) and "Downtown" in record["address"]
    assert "Ana" not in str(record) and "555 123 4567" not in str(record)  # a random id may hold "555"
    staff = web_session.get(f"/concerns/{request_id}", headers=officer()).json()
    assert staff["attributes"] == {"time_of_day": "night", "vehicle_types": ["car", "motorbike"]}
    assert staff["reporter"]["name"] == "Ana Bell" and staff["source"] == "open311"
    assert events.wait_for("beat.concern.submitted")[0]["data"]["has_contact"] is True


def test_json_post_and_liberal_api_key_in_query_string(service, web_session):
    answer = post_form(web_session, fmt="json", query=f"?api_key={API_KEY}", api_key=None)
    assert answer.status_code == 200, answer.text
    assert set(answer.json()[0]) == {"service_request_id", "service_notice", "account_id"}
    empty_jurisdiction = post_form(
        web_session, fmt="json", jurisdiction_id="", lat="", long="", address_string="Main St"
    )
    assert empty_jurisdiction.status_code == 200, empty_jurisdiction.text


def test_workflow_maps_onto_open_closed_with_status_notes_and_updates_feed(service, web_session, move, clock):
    first = post_form(web_session, fmt="json").json()[0]["service_request_id"]
    second = post_form(web_session, fmt="json", service_code="vandalism_graffiti").json()[0]["service_request_id"]
    clock.advance(hours=2)
    move(first, "acknowledged", 1, public_note="An officer will visit tonight.")
    assert move(second, "duplicate", 1, merged_into=first).status_code == 200
    move(first, "resolved", 2, public_note="Spoke to the owner; music stops at 10pm.")
    records = {r["service_request_id"]: r for r in web_session.get("/open311/v2/requests.json").json()}
    assert records[first]["status"] == "closed"
    assert records[first]["status_notes"] == "Spoke to the owner; music stops at 10pm."
    assert records[first]["updated_datetime"] == "2026-03-02T11:00:00Z" and records[first]["expected_datetime"] is None
    assert records[second]["status"] == "closed" and records[second]["status_notes"] == "Merged into another concern"
    assert web_session.get("/open311/v2/requests.json", params={"status": "open"}).json() == []
    updates = xml(web_session.get("/open311/v2/servicerequestupdates.xml"))
    feed = [(u.findtext("service_request_id"), u.findtext("status")) for u in updates.findall("request_update")]
    assert feed == [(first, "INVESTIGATING"), (second, "DUPLICATE"), (first, "FIXED")]
    assert updates.find("request_update").findtext("description") == "An officer will visit tonight."


def test_filters_and_the_90_day_window(service, web_session, clock):
    old = post_form(web_session, fmt="json").json()[0]["service_request_id"]
    clock.advance(days=100)
    noise = post_form(web_session, fmt="json").json()[0]["service_request_id"]
    graffiti = post_form(web_session, fmt="json", service_code="vandalism_graffiti").json()[0]["service_request_id"]

    def ids(**params):
        response = web_session.get("/open311/v2/requests.json", params=params)
        assert response.status_code == 200, response.text
        return {record["service_request_id"] for record in response.json()}

    assert ids() == {noise, graffiti}  # default: the most recent 90 days
    assert ids(service_code="vandalism_graffiti") == {graffiti}
    assert ids(service_code="vandalism_graffiti,noise", status="open,closed") == {noise, graffiti}
    assert ids(start_date="2026-03-01T00:00:00Z", end_date="2026-03-03T00:00:00Z") == {old}
    assert ids(start_date="2026-03-01T00:00:00Z") == {old}
    # service_request_id overrides every other filter, the date window included.
    assert ids(service_request_id=f"{old},{graffiti}", service_code="noise") == {old, graffiti}
    assert ids(service_code="", status="", jurisdiction_id="") == {noise, graffiti}  # empty means absent
    too_long = web_session.get(
        "/open311/v2/requests.xml", params={"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}
    )
    assert xml_errors(too_long, 400)[0][1].startswith("end_date")
    assert json_errors(web_session.get("/open311/v2/requests.json", params={"status": "pending"}), 400)


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_errors_use_the_spec_shape_and_codes_and_store_nothing(service, web_session, db_count, fmt):
    errors = xml_errors if fmt == "xml" else json_errors
    assert errors(post_form(web_session, fmt, api_key=None), 403)[0][0] == 403
    assert "api_key" in errors(post_form(web_session, fmt, api_key="wrong"), 403)[0][1]
    assert errors(post_form(web_session, fmt, service_code="ufo"), 404)[0][0] == 404
    assert errors(post_form(web_session, fmt, jurisdiction_id="elsewhere.gov"), 404)[0][0] == 404
    assert "service_code" in errors(post_form(web_session, fmt, service_code=None), 400)[0][1]
    assert "lat" in errors(post_form(web_session, fmt, lat="north"), 400)[0][1]
    assert "lat" in errors(post_form(web_session, fmt, lat="95"), 400)[0][1]
    assert "location" in errors(post_form(web_session, fmt, lat=None, long=None), 400)[0][1]
    assert "attributes" in errors(post_form(web_session, fmt, **{"attribute[time_of_day]": "teatime"}), 400)[0][1]
    broken = web_session.post(
        f"/open311/v2/requests.{fmt}", data=b"api_key=open311-development-key&description=%E2%28", headers=FORM
    )
    assert errors(broken, 400)
    huge = web_session.post(
        f"/open311/v2/requests.{fmt}", data=b"description=" + b"x" * (10 * 1024 * 1024), headers=FORM
    )
    assert errors(huge, 413)[0][0] == 413
    assert errors(web_session.get(f"/open311/v2/requests/nope.{fmt}"), 404)
    assert errors(web_session.get(f"/open311/v2/tokens/nope.{fmt}"), 404)
    assert errors(web_session.get(f"/open311/v2/services.{fmt}", params={"jurisdiction_id": "x.gov"}), 404)
    assert errors(web_session.get(f"/open311/v2/no-such-thing.{fmt}"), 404)
    assert db_count("concerns") == 0 and db_count("outbox") == 0


def test_receipt_tokens_resolve_through_the_tokens_resource(service, web_session):
    lat, long = POINTS["RV-03"]
    native = web_session.post(
        "/concerns", json={"category": "noise", "description": "Engines", "location": {"lat": lat, "long": long}}
    ).json()
    token = native["receipt_token"]
    resolved = xml(web_session.get(f"/open311/v2/tokens/{token}.xml")).find("request")
    assert resolved.findtext("service_request_id") == native["concern"]["id"] and resolved.findtext("token") == token
    assert web_session.get(f"/open311/v2/tokens/{token}.json").json() == [
        {"service_request_id": native["concern"]["id"], "token": token}
    ]


def test_open311_posts_are_rate_limited_per_address(make_service, web_session):
    make_service(CONCERNS_RATE_PER_ADDRESS="1/600")
    assert post_form(web_session).status_code == 200
    limited = post_form(web_session)
    assert xml_errors(limited, 429)[0][0] == 429 and limited.headers["Retry-After"] == "600"


def test_a_retried_open311_post_is_the_same_service_request(service, web_session, db_count):
    lat, long = POINTS["RV-02"]
    form = {"api_key": API_KEY, "service_code": "noise", "lat": lat, "long": long, "description": "Generator at night"}
    keyed = {**FORM, "Idempotency-Key": "open311-retry-0001"}
    first = web_session.post("/open311/v2/requests.json", data=urlencode(form), headers=keyed)
    again = web_session.post("/open311/v2/requests.json", data=urlencode(form), headers=keyed)
    assert first.status_code == again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert again.json() == first.json()
    other = {**form, "description": "Something else"}
    reused = web_session.post("/open311/v2/requests.xml", data=urlencode(other), headers=keyed)
    assert xml_errors(reused, 422)[0][0] == 422  # in the spec's error shape
    assert db_count("concerns") == 1
