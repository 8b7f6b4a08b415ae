"""Who sees what: staff, residents, receipt holders and the public; the beat page; catalogue admin."""

import json

from concerns_testkit import POINTS, admin, officer, resident, supervisor

PERSONAL = ("Ana Bell", "ana@example.org", "555 123 4567", "resident-ana")


def _submit_private(submit):
    contact = {"name": "Ana Bell", "email": "ana@example.org", "phone": "+1 555 123 4567"}
    lat, long = POINTS["RV-02"]
    return submit(
        headers=resident("resident-ana"),
        contact=contact,
        location={"lat": lat + 0.000123, "long": long - 0.000456, "address": "12 Station Road"},
        description="Dealing by the shelter; call me on 555 123 4567.",
        category="drug_activity",
    )


def test_resident_cannot_read_anothers_concern(submit, web_session):
    concern_id = _submit_private(submit)["concern"]["id"]
    own = web_session.get(f"/concerns/{concern_id}", headers=resident("resident-ana"))
    assert own.status_code == 200 and own.json()["reporter"]["email"] == "ana@example.org"
    other = web_session.get(f"/concerns/{concern_id}", headers=resident("resident-ben"))
    assert other.status_code == 403 and "ana" not in other.text.lower()
    assert web_session.get(f"/concerns/{concern_id}").status_code == 401
    listed = web_session.get("/me/concerns", headers=resident("resident-ben")).json()
    assert listed["contents"] == [] and listed["total_items"] == 0
    mine = web_session.get("/me/concerns", headers=resident("resident-ana")).json()
    assert [item["relation"] for item in mine["contents"]] == ["reported"]


def test_receipt_token_reads_only_its_concern(submit, web_session):
    first, second = submit(), submit(beat="RV-05")
    token = first["receipt_token"]
    first_id, second_id = first["concern"]["id"], second["concern"]["id"]
    assert web_session.get(f"/concerns/{first_id}", headers={"X-Receipt-Token": token}).status_code == 200
    assert web_session.get(f"/concerns/{second_id}", headers={"X-Receipt-Token": token}).status_code == 403
    assert web_session.get(f"/receipts/{token}").json()["id"] == first_id
    assert web_session.get("/receipts/not-a-token").status_code == 404
    resident_view = web_session.get(f"/receipts/{token}").json()
    assert "internal_note" not in json.dumps(resident_view)


def test_public_views_have_no_personal_data_or_exact_location(submit, move, web_session):
    answer = _submit_private(submit)
    concern_id = answer["concern"]["id"]
    move(concern_id, "acknowledged", 1, public_note="Patrols tonight.", internal_note="Ana Bell is a regular caller")
    lat, long = POINTS["RV-02"]
    exact_lat, exact_long = lat + 0.000123, long - 0.000456
    for path in (f"/public/concerns/{concern_id}", "/public/concerns", "/public/concerns.geojson"):
        response = web_session.get(path)
        assert response.status_code == 200
        text = response.text
        for secret in (*PERSONAL, "12 Station Road", "regular caller", str(exact_lat), str(exact_long)):
            assert secret not in text, (path, secret)
    public = web_session.get(f"/public/concerns/{concern_id}").json()
    assert public["location"] == {"lat": round(exact_lat, 3), "long": round(exact_long, 3), "precision_metres": 100}
    assert "[phone removed]" in public["description"]
    assert public["updates"] == [
        {
            "status": "acknowledged",
            "previous_status": "submitted",
            "at": "2026-03-02T09:00:00Z",
            "public_note": "Patrols tonight.",
        }
    ]
    feature = web_session.get("/public/concerns.geojson").json()["features"][0]
    assert feature["geometry"]["coordinates"] == [round(exact_long, 3), round(exact_lat, 3)]
    assert set(feature["properties"]) == {
        "category",
        "category_name",
        "status",
        "open311_status",
        "beat_code",
        "supporters",
        "submitted_at",
    }


def test_public_list_filters_and_pages(submit, move, web_session):
    ids = [submit(beat=beat)["concern"]["id"] for beat in ("RV-01", "RV-02", "RV-02")]
    move(ids[1], "acknowledged", 1)
    move(ids[1], "resolved", 2)
    page = web_session.get("/public/concerns", params={"per_page": 2}).json()
    assert page["total_items"] == 3 and page["size"] == 2 and page["last_page"] is False
    assert "911" in page["service_notice"]
    assert {c["id"] for c in web_session.get("/public/concerns", params={"beat": "RV-02"}).json()["contents"]} == set(
        ids[1:]
    )
    closed = web_session.get("/public/concerns", params={"status": "closed"}).json()["contents"]
    assert [c["id"] for c in closed] == [ids[1]]
    west, south = POINTS["RV-01"][1] - 0.01, POINTS["RV-01"][0] - 0.01
    box = f"{west},{south},{west + 0.02},{south + 0.02}"
    assert [c["id"] for c in web_session.get("/public/concerns", params={"bbox": box}).json()["contents"]] == [ids[0]]
    assert web_session.get("/public/concerns", params={"bbox": "1,2,3"}).status_code == 400
    assert web_session.get("/public/concerns", params={"status": "maybe"}).status_code == 400
    assert web_session.get("/public/concerns", params={"per_page": "lots"}).status_code == 400


def test_officers_see_their_beats_supervisors_everything(submit, web_session):
    in_beat = submit(beat="RV-02")["concern"]["id"]
    submit(beat="RV-03")
    outside = submit(beat="outside")["concern"]["id"]
    mine = web_session.get("/concerns", headers=officer("RV-02")).json()
    assert [item["id"] for item in mine["contents"]] == [in_beat]
    assert "reporter" in mine["contents"][0] and "internal_note" in json.dumps(mine["contents"][0]["updates"])
    everything = web_session.get("/concerns", headers=supervisor()).json()
    assert everything["total_items"] == 3
    flagged = web_session.get("/concerns", params={"outside_beats": "true"}, headers=supervisor()).json()
    assert [item["id"] for item in flagged["contents"]] == [outside]
    assert web_session.get("/concerns", headers=resident()).status_code == 403
    assert web_session.get("/concerns").status_code == 401
    assert web_session.get("/concerns", params={"status": "lost"}, headers=supervisor()).status_code == 400


def test_beat_page_introduces_officers_meetings_top_and_resolved(submit, move, web_session, clock):
    popular = submit()["concern"]["id"]
    quiet = submit(category="vandalism_graffiti")["concern"]["id"]
    for who in ("r1", "r2"):
        web_session.post(f"/concerns/{popular}/support", headers=resident(who))
    fixed = submit(category="street_lighting")["concern"]["id"]
    move(fixed, "acknowledged", 1)
    move(fixed, "resolved", 2, public_note="Lamps replaced.")
    web_session.post(
        "/beats/RV-02/meetings",
        json={
            "kind": "crime_prevention_training",
            "title": "Lock it or lose it",
            "venue": "Library",
            "starts_at": "2026-03-10T18:00:00Z",
            "ends_at": "2026-03-10T19:30:00Z",
        },
        headers=officer(),
    )
    page = web_session.get("/beats/RV-02")
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["beat"]["code"] == "RV-02" and body["beat"]["name"] == "Downtown"
    officers = {person["subject"]: person for person in body["officers"]}
    assert set(officers) == {"officer-rv02", "supervisor-1"}
    assert officers["officer-rv02"]["photo_url"].startswith("https://") and officers["officer-rv02"]["email"]
    assert [meeting["title"] for meeting in body["upcoming_meetings"]] == ["Lock it or lose it"]
    assert [c["id"] for c in body["top_open_concerns"]] == [popular, quiet]
    assert [c["id"] for c in body["recently_resolved"]] == [fixed]
    assert body["recently_resolved"][0]["updates"][-1]["public_note"] == "Lamps replaced."
    assert "reporter" not in json.dumps(body)
    assert "911" in body["service_notice"]
    assert web_session.get("/beats/RV-99").status_code == 404
    beats = web_session.get("/beats").json()["beats"]
    assert [beat["code"] for beat in beats] == [f"RV-0{n}" for n in range(1, 7)]
    shapes = web_session.get("/beats.geojson").json()
    assert len(shapes["features"]) == 6 and shapes["features"][0]["geometry"]["type"] == "Polygon"


def test_categories_are_public_and_admins_define_them(service, web_session, db_count):
    listed = web_session.get("/categories").json()["categories"]
    assert len(listed) == 10
    speeding = web_session.get("/categories/speeding_traffic").json()
    assert [a["code"] for a in speeding["attributes"]] == ["time_of_day", "vehicle_types"]
    assert web_session.get("/categories/nope").status_code == 404
    body = {
        "name": "Fireworks",
        "group": "nuisance",
        "keywords": ["fireworks"],
        "acknowledge_hours": 12,
        "attributes": [
            {"code": "how_often", "datatype": "number", "required": True, "order": 1, "description": "Nights a week"}
        ],
    }
    assert web_session.put("/categories/fireworks", json=body, headers=officer()).status_code == 403
    made = web_session.put("/categories/fireworks", json=body, headers=admin())
    assert made.status_code == 200, made.text
    assert made.json()["acknowledge_hours"] == 12
    bad = {**body, "attributes": [{**body["attributes"][0], "datatype": "colour"}]}
    assert web_session.put("/categories/fireworks", json=bad, headers=admin()).status_code == 400
    mismatch = web_session.put("/categories/fireworks", json={**body, "code": "other"}, headers=admin())
    assert mismatch.status_code == 400
    lat, long = POINTS["RV-01"]
    submitted = web_session.post(
        "/concerns",
        json={
            "category": "fireworks",
            "description": "Bangs",
            "location": {"lat": lat, "long": long},
            "attributes": {},
        },
    )
    assert submitted.status_code == 400 and "how_often" in json.dumps(submitted.json()["error"]["details"])
    assert db_count("categories") == 11


def test_categories_are_served_in_the_language_asked_for_from_a_citys_translations(service, web_session):
    spanish = web_session.get("/categories/speeding_traffic?lang=es").json()
    assert (spanish["language"], spanish["name"]) == ("es", "Exceso de velocidad y tráfico")
    [when, vehicles] = spanish["attributes"]
    assert when["description"] == "¿Cuándo suele ocurrir?" and when["values"][0] == {
        "key": "morning",
        "name": "Por la mañana",
    }
    assert vehicles["datatype_description"] == "Elija todos los que correspondan"
    by_header = web_session.get("/categories", headers={"Accept-Language": "fr, es-MX;q=0.8, en;q=0.5"}).json()
    assert {c["language"] for c in by_header["categories"]} == {"es"} and "Ruido" in {
        c["name"] for c in by_header["categories"]
    }
    english = web_session.get("/categories/speeding_traffic", headers={"Accept-Language": "fr"}).json()
    assert (english["language"], english["name"]) == ("en", "Speeding and traffic")
    assert web_session.get("/categories/noise?lang=de").json()["language"] == "en"  # none given: English
    assert web_session.get("/categories/noise?lang=not a language").status_code == 400

    body = {
        "name": "Fireworks",
        "attributes": [{"code": "how_often", "datatype": "number", "order": 1, "description": "Nights a week"}],
        "translations": {"es": {"name": "Petardos", "attributes": {"how_often": {"description": "Noches por semana"}}}},
    }
    made = web_session.put("/categories/fireworks", json=body, headers=admin())
    assert made.status_code == 200 and made.json()["translations"]["es"]["name"] == "Petardos"
    fireworks = web_session.get("/categories/fireworks?lang=es").json()
    assert fireworks["name"] == "Petardos" and fireworks["attributes"][0]["description"] == "Noches por semana"
    assert fireworks["description"] == ""  # what the city did not translate stays as it is
    bad = {**body, "translations": {"Spanish": {"name": "Petardos"}}}
    assert web_session.put("/categories/fireworks", json=bad, headers=admin()).status_code == 400
    unknown_field = {**body, "translations": {"es": {"nombre": "Petardos"}}}
    assert web_session.put("/categories/fireworks", json=unknown_field, headers=admin()).status_code == 400


def test_beats_import_from_geojson_and_officer_assignment(submit, web_session):
    outside = submit(beat="outside")["concern"]["id"]
    lat, long = POINTS["outside"]
    ring = [[long - 0.01, lat - 0.01], [long + 0.01, lat - 0.01], [long + 0.01, lat + 0.01], [long - 0.01, lat + 0.01]]
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": "RV-07", "name": "North Farms", "neighbourhood": "Farms"},
                "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
            }
        ],
    }
    assert web_session.post("/beats/import", json=collection, headers=supervisor()).status_code == 403
    imported = web_session.post("/beats/import", json=collection, headers=admin())
    assert imported.status_code == 200, imported.text
    assert imported.json() == {"imported": ["RV-07"], "concerns_placed": 1}
    placed = web_session.get(f"/concerns/{outside}", headers=supervisor()).json()
    assert placed["beat_code"] == "RV-07" and placed["outside_beats"] is False
    broken = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code": "X"}}]}
    assert web_session.post("/beats/import", json=broken, headers=admin()).status_code == 400
    bad_ring = json.loads(json.dumps(collection))
    bad_ring["features"][0]["geometry"]["coordinates"][0][1] = [long, 123.0]
    assert web_session.post("/beats/import", json=bad_ring, headers=admin()).status_code == 400

    profile = {
        "name": "Officer Sam Lee",
        "email": "sam@riverton.example",
        "photo_url": "https://riverton.example/sam.jpg",
    }
    assert web_session.put("/officers/officer-rv07", json=profile, headers=supervisor()).status_code == 200
    assigned = web_session.post("/beats/RV-07/officers", json={"subject": "officer-rv07"}, headers=supervisor())
    assert assigned.status_code == 201
    assert [o["subject"] for o in assigned.json()["officers"]] == ["officer-rv07"]
    assert web_session.post("/beats/RV-07/officers", json={"subject": "ghost"}, headers=supervisor()).status_code == 400
    # The newly assigned officer may now work the placed concern.
    sam = {"Authorization": officer("RV-07")["Authorization"]}
    moved = web_session.post(
        f"/concerns/{outside}/transitions", json={"status": "acknowledged", "version": 1}, headers=sam
    )
    assert moved.status_code == 200
    assert web_session.delete("/beats/RV-07/officers/officer-rv07", headers=supervisor()).status_code == 204
    assert web_session.delete("/beats/RV-07/officers/officer-rv07", headers=supervisor()).status_code == 404


def test_openapi_document_describes_the_api(service, web_session):
    document = web_session.get("/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    assert "/concerns/{concern_id}/transitions" in document["paths"]
    submit_op = document["paths"]["/concerns"]["post"]
    assert submit_op["requestBody"]["content"]["application/json"]["schema"]
    assert "ConcernInput" in json.dumps(document["components"]["schemas"])
