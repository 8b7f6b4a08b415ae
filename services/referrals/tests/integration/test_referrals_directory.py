"""The HSDS 3.0 directory API, its administration, import and export, and matching."""

from __future__ import annotations

import json

from referrals_testkit import ADMIN, OFFICER, PANTRY, START, auth

from referrals.hsds import schema_errors
from referrals.hsds.transfer import document_errors

PAGE_FIELDS = {"total_items", "total_pages", "page_number", "size", "first_page", "last_page", "empty", "contents"}


def test_api_info_and_paged_lists(referrals, web_session):
    info = web_session.get("/").json()
    assert info["version"] == "3.0" and info["openapi_url"].endswith("/openapi.json")
    first = web_session.get("/services?per_page=5").json()
    assert set(first) == PAGE_FIELDS
    assert (first["total_items"], first["total_pages"], first["page_number"], first["size"]) == (19, 4, 1, 5)
    assert first["first_page"] and not first["last_page"] and not first["empty"]
    last = web_session.get("/services?per_page=5&page=4").json()
    assert last["size"] == 4 and last["last_page"]
    for item in first["contents"]:
        assert schema_errors("service", item) == {}
    assert web_session.get("/services?page=0").status_code == 400
    for path in ("/organizations", "/taxonomies", "/taxonomy_terms", "/service_at_locations"):
        body = web_session.get(path).json()
        assert set(body) == PAGE_FIELDS and body["total_items"] > 0, path
    assert web_session.get("/organizations").json()["total_items"] == 12
    assert web_session.get("/taxonomy_terms").json()["total_items"] == 7


def test_service_filters(referrals, web_session):
    terms = {t["code"]: t for t in web_session.get("/taxonomy_terms").json()["contents"]}
    youth = web_session.get(f"/services?taxonomy_term_id={terms['youth_programmes']['id']}").json()
    assert {s["name"] for s in youth["contents"]} == {
        "Youth mentoring",
        "Violence interruption and outreach",
        "After-school club",
    }
    taxonomy_id = terms["food"]["taxonomy_id"]
    assert web_session.get(f"/services?taxonomy_id={taxonomy_id}").json()["total_items"] == 19
    search = web_session.get("/services?search=counselling").json()
    assert {s["name"] for s in search["contents"]} >= {"Outpatient counselling", "Walk-in crisis counselling"}
    organization_id = search["contents"][0]["organization_id"]
    own = web_session.get(f"/services?organization_id={organization_id}").json()
    assert all(s["organization_id"] == organization_id for s in own["contents"])
    assert web_session.get("/services?modified_after=2099-01-01T00:00:00Z").json()["empty"] is True
    assert web_session.get("/services?modified_after=2000-01-01T00:00:00Z").json()["total_items"] == 19
    bad = web_session.get("/services?modified_after=yesterday")
    assert bad.status_code == 400 and "modified_after" in bad.json()["error"]["details"]


def test_hsds_list_options_minimal_full_top_only_and_ndjson(referrals, web_session):
    minimal = web_session.get("/services?minimal=true&per_page=100").json()
    assert minimal["total_items"] == 19
    assert all(set(item) == {"id", "last_modified"} for item in minimal["contents"])
    default = web_session.get("/services?per_page=1").json()["contents"][0]
    full = web_session.get("/services?full=true&per_page=1").json()["contents"][0]
    assert "schedules" not in default and "service_at_locations" not in default
    assert full["id"] == default["id"] and full["schedules"] and full["service_at_locations"]
    assert schema_errors("service", full) == {}

    nested = web_session.get("/organizations?full_service=true&search=Food").json()["contents"]
    assert nested and all("services" in organization for organization in nested)
    assert all("services" not in organization for organization in web_session.get("/organizations").json()["contents"])
    assert web_session.get("/organizations?full=true").json()["contents"][0]["services"] is not None

    food = next(t for t in web_session.get("/taxonomy_terms").json()["contents"] if t["code"] == "food")
    child = {"code": "food_pantries", "name": "Pantries", "description": "Food pantries", "parent_id": food["id"]}
    assert web_session.post("/taxonomy_terms", json=child, headers=ADMIN).status_code == 201
    top = web_session.get("/taxonomy_terms?top_only=true").json()
    assert top["total_items"] == 7 and web_session.get("/taxonomy_terms").json()["total_items"] == 8
    assert all(term.get("parent_id") is None for term in top["contents"])

    streamed = web_session.get("/services?format=ndjson&organization_id=" + full["organization_id"])
    assert streamed.status_code == 200 and streamed.headers["Content-Type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in streamed.text.splitlines()]
    paged = web_session.get("/services?organization_id=" + full["organization_id"]).json()
    assert [item["id"] for item in lines] == [item["id"] for item in paged["contents"]]
    everything = web_session.get("/service_at_locations?format=ndjson").text.splitlines()
    assert len(everything) == web_session.get("/service_at_locations").json()["total_items"]

    bad_options = ["/services?minimal=perhaps", "/services?format=xml", "/taxonomy_terms?top_only=2"]
    for bad in [*bad_options, "/organizations?full=x"]:
        answer = web_session.get(bad)
        assert answer.status_code == 400, bad
        assert answer.json()["error"]["code"] == "invalid_input"


def test_fully_nested_service_and_organization_validate(referrals, web_session):
    service = web_session.get(f"/services/{PANTRY}").json()
    assert schema_errors("service", service) == {}
    assert service["organization"]["organization_identifiers"][0]["identifier"] == "agency-riverton-food-bank"
    assert service["attributes"][0]["taxonomy_term"]["code"] == "food"
    assert service["schedules"][0]["byday"] == "MO,WE,FR"
    assert {language["code"] for language in service["languages"]} == {"en", "es"}
    location = service["service_at_locations"][0]["location"]
    assert location["addresses"][0]["city"] == "Riverton" and location["latitude"]
    organization = web_session.get(f"/organizations/{service['organization_id']}").json()
    assert schema_errors("organization", organization) == {}
    assert {s["name"] for s in organization["services"]} == {"Emergency food pantry", "Mobile pantry"}
    link = web_session.get(f"/service_at_locations/{service['service_at_locations'][0]['id']}").json()
    assert schema_errors("service_at_location", link) == {} and link["service"]["id"] == PANTRY
    term = service["attributes"][0]["taxonomy_term"]
    assert web_session.get(f"/taxonomy_terms/{term['id']}").json()["code"] == "food"
    assert web_session.get(f"/taxonomies/{term['taxonomy_id']}").json()["name"] == "Beat need categories"
    for missing in ("/services/nope", "/organizations/nope", "/taxonomies/nope", "/service_at_locations/nope"):
        assert web_session.get(missing).status_code == 404, missing


def test_demo_export_validates_and_import_round_trips(referrals, web_session, db_session):
    exported = web_session.get("/hsds/export").json()
    assert document_errors(exported) == {}
    assert len(exported["organizations"]) == 12 and len(exported["services"]) == 19
    imported = web_session.post("/hsds/import", json=exported, headers=ADMIN)
    assert imported.status_code == 200 and imported.json()["imported"]["services"] == 19
    again = web_session.get("/hsds/export").json()
    assert [s["id"] for s in again["services"]] == [s["id"] for s in exported["services"]]
    assert again["organizations"] == exported["organizations"]


def test_invalid_import_names_the_field_and_stores_nothing(referrals, web_session, db_session):
    exported = web_session.get("/hsds/export").json()
    exported["services"][2]["status"] = "open all hours"
    exported["services"][2]["phones"] = [{"id": "not-a-uuid", "number": "555"}]
    exported["organizations"][0]["name"] = "Renamed before the failure"
    response = web_session.post("/hsds/import", json=exported, headers=ADMIN)
    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert "services[2].status" in details and "services[2].phones[0].id" in details
    names = {row.name for row in db_session("SELECT name FROM organizations")}
    assert "Renamed before the failure" not in names
    assert web_session.post("/hsds/import", json=exported, headers=OFFICER).status_code == 403


def test_admin_creates_and_edits_the_directory(referrals, web_session, clock):
    taxonomy = web_session.post(
        "/taxonomies", json={"name": "Extra needs", "description": "More categories"}, headers=ADMIN
    ).json()
    term = web_session.post(
        "/taxonomy_terms",
        json={
            "code": "legal_aid",
            "name": "Legal aid",
            "description": "Free legal advice",
            "taxonomy_id": taxonomy["id"],
        },
        headers=ADMIN,
    )
    assert term.status_code == 201, term.text
    term = term.json()
    organization = web_session.post(
        "/organizations",
        json={
            "agency_id": "agency-riverton-legal-aid",
            "name": "Riverton Legal Aid",
            "description": "Free civil legal help.",
            "email": "help@rivertonlegalaid.org",
            "phones": [{"number": "+1 555 0102 000", "type": "voice"}],
        },
        headers=ADMIN,
    ).json()
    location = web_session.post(
        "/locations",
        json={
            "organization_id": organization["id"],
            "name": "Courthouse annex",
            "latitude": 43.03,
            "longitude": -108.3743,
            "address_1": "1 Court Street",
            "city": "Riverton",
            "state_province": "WY",
            "postal_code": "82501",
            "country": "US",
        },
        headers=ADMIN,
    ).json()
    created = web_session.post(
        "/services",
        json={
            "organization_id": organization["id"],
            "name": "Eviction defence clinic",
            "status": "active",
            "minimum_age": 18,
            "taxonomy_term_ids": [term["id"]],
            "location_ids": [location["id"]],
            "languages": [{"code": "en"}, {"code": "es"}],
            "schedules": [{"byday": "TU,TH", "opens_at": "10:00", "closes_at": "14:00"}],
            "service_areas": [{"name": "Beat RV-01", "beat_code": "RV-01"}],
            "phones": [{"number": "+1 555 0102 001"}],
        },
        headers=ADMIN,
    )
    assert created.status_code == 201, created.text
    service = created.json()
    assert schema_errors("service", service) == {}
    assert service["service_areas"][0]["extent"] == "RV-01"
    clock.advance(hours=1)
    edited = web_session.patch(
        f"/services/{service['id']}",
        json={"status": "temporarily closed", "languages": [{"code": "es"}]},
        headers=ADMIN,
    ).json()
    assert edited["status"] == "temporarily closed" and [lang["code"] for lang in edited["languages"]] == ["es"]
    assert edited["schedules"] == service["schedules"]  # lists not given stay as they were
    assert edited["last_modified"] > service["last_modified"]
    renamed = web_session.patch(
        f"/organizations/{organization['id']}", json={"name": "Riverton Legal Aid Society"}, headers=ADMIN
    )
    assert renamed.json()["name"] == "Riverton Legal Aid Society"
    assert web_session.patch(f"/locations/{location['id']}", json={"name": "Annex"}, headers=ADMIN).json()["name"] == (
        "Annex"
    )
    assert (
        web_session.patch(f"/taxonomy_terms/{term['id']}", json={"name": "Legal help"}, headers=ADMIN).json()["name"]
        == "Legal help"
    )
    # A closed service takes no referrals.
    refused = web_session.post(
        "/referrals",
        json={"service_id": service["id"], "need_category": "legal_aid", "client": {"name": "A B"}},
        headers=OFFICER,
    )
    assert refused.status_code == 400 and "service_id" in refused.json()["error"]["details"]
    assert clock.now() > START


def test_bad_directory_input_is_400_naming_the_field_and_stores_nothing(referrals, web_session, db_session):
    organization_id = web_session.get(f"/services/{PANTRY}").json()["organization_id"]
    cases = [
        ("/organizations", {"agency_id": "Food Bank!", "name": "X", "description": "Y"}, "agency_id"),
        ("/organizations", {"agency_id": "agency-riverton-food-bank", "name": "X", "description": "Y"}, "agency_id"),
        ("/services", {"organization_id": organization_id, "name": "X", "status": "open"}, "status"),
        ("/services", {"organization_id": organization_id, "name": "X", "minimum_age": -1}, "minimum_age"),
        (
            "/services",
            {"organization_id": organization_id, "name": "X", "minimum_age": 30, "maximum_age": 20},
            "minimum_age",
        ),
        (
            "/services",
            {"organization_id": organization_id, "name": "X", "taxonomy_term_ids": ["nope"]},
            "taxonomy_term_ids",
        ),
        (
            "/services",
            {"organization_id": organization_id, "name": "X", "schedules": [{"byday": "Mondays", "opens_at": "9am"}]},
            "schedules",
        ),
        ("/services", {"organization_id": "0b9e1c1e-8a5e-4a57-9a39-0b0b0b0b0b0b", "name": "X"}, None),
        ("/locations", {"latitude": 200}, "latitude"),
        ("/locations", {}, "name"),  # a location that is nowhere
        ("/locations", {"location_type": "postal", "description": "somewhere"}, "name"),
        ("/locations", {"name": "Annex", "latitude": 43.01}, "longitude"),
        ("/taxonomy_terms", {"code": "Food Bank", "name": "X", "description": "Y"}, "code"),
    ]
    before = db_session("SELECT (SELECT count(*) FROM services) AS s, (SELECT count(*) FROM organizations) AS o")[0]
    for path, body, field in cases:
        response = web_session.post(path, json=body, headers=ADMIN)
        if field is None:
            assert response.status_code == 404, response.text  # unknown organization
            continue
        assert response.status_code == 400, (path, body, response.text)
        assert field in response.json()["error"]["details"], (field, response.json())
    after = db_session("SELECT (SELECT count(*) FROM services) AS s, (SELECT count(*) FROM organizations) AS o")[0]
    assert tuple(after) == tuple(before)
    assert web_session.post("/services", json={}, headers=OFFICER).status_code == 403
    assert web_session.post("/services", json={}).status_code == 401


def test_matching_orders_by_availability_and_distance(referrals, web_session, clock):
    # Monday 09:00 in Riverton: the night shelter is closed, the food pantry opens at 10:00.
    near_warehouse = web_session.get(
        "/match?need_category=food&latitude=43.0092&longitude=-108.3827", headers=OFFICER
    ).json()["contents"]
    names = [m["service"]["name"] for m in near_warehouse]
    assert names[:2] == ["Emergency food pantry", "Mobile pantry"] and "Night shelter" in names
    assert near_warehouse[0]["distance_km"] == 0.0 and near_warehouse[0]["open_now"] is False
    # In the old town, about 2 km from several, Meals on wheels (open now) beats nearer closed services.
    old_town = web_session.get(
        "/match?need_category=food&latitude=43.0297&longitude=-108.3732", headers=OFFICER
    ).json()["contents"]
    assert old_town[0]["service"]["name"] == "Meals on wheels" and old_town[0]["open_now"] is True
    assert min(m["distance_km"] for m in old_town) < old_town[0]["distance_km"]
    # Age and language filters.
    teenagers = web_session.get("/match?need_category=food&age=15", headers=OFFICER).json()["contents"]
    assert {m["service"]["name"] for m in teenagers} == {"Emergency food pantry", "Mobile pantry", "After-school club"}
    spanish = web_session.get("/match?need_category=victim_services&language=es", headers=OFFICER).json()["contents"]
    assert "Apoyo a víctimas" in {m["service"]["name"] for m in spanish}
    assert all("es" in m["languages"] for m in spanish)
    # In a beat: services that cover it, nearest its centre first.
    eastgate = web_session.get("/match?need_category=youth_programmes&beat_code=RV-04&age=15", headers=OFFICER)
    assert [m["service"]["name"] for m in eastgate.json()["contents"]] == ["Youth mentoring"]
    # Open now beats a slightly nearer closed service (same kilometre band).
    clock.advance(hours=11)  # 20:00 local: the night shelter is open, the pantry is closed
    evening = web_session.get(
        "/match?need_category=housing&latitude=43.0404&longitude=-108.3921", headers=OFFICER
    ).json()["contents"]
    assert evening[0]["service"]["name"] == "Night shelter" and evening[0]["open_now"] is True
    bad = web_session.get("/match?need_category=astrology", headers=OFFICER)
    assert bad.status_code == 400 and "need_category" in bad.json()["error"]["details"]
    assert web_session.get("/match?need_category=food&latitude=43.01", headers=OFFICER).status_code == 400
    assert web_session.get("/match?need_category=food", headers=auth("resident")).status_code == 403


def test_openapi_document_describes_the_api(referrals, web_session):
    document = web_session.get("/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    for path in ("/services", "/services/{service_id}", "/referrals/{referral_id}/send", "/hsds/import", "/match"):
        assert path in document["paths"], path
    assert "summary" in document["paths"]["/referrals"]["post"]
