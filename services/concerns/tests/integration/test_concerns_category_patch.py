"""PATCH /categories/{code} (on PostgreSQL and SQLite): an admin changes part of a category and keeps
the rest (its translations, its questions); what a PUT would refuse is refused; nobody else may."""

from __future__ import annotations

import json

from concerns_testkit import admin, officer, supervisor

MERGE = {"Content-Type": "application/merge-patch+json"}


def without_nulls(value):
    """A translation's null words are words not translated, as absent ones are (the schema fills them in)."""
    if isinstance(value, dict):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    return [without_nulls(item) for item in value] if isinstance(value, list) else value


def patch(web_session, code: str, body, headers: dict[str, str]):
    return web_session.patch(f"/categories/{code}", data=json.dumps(body), headers={**MERGE, **headers})


def test_an_admin_changes_the_name_and_time_and_keeps_the_rest(service, web_session):
    before = web_session.get("/categories/speeding_traffic").json()
    changed = patch(web_session, "speeding_traffic", {"name": "Speeding", "acknowledge_hours": 24}, admin())
    assert changed.status_code == 200, changed.text
    after = web_session.get("/categories/speeding_traffic").json()
    assert (after["name"], after["acknowledge_hours"]) == ("Speeding", 24)
    untouched = ("description", "group", "keywords", "attributes", "active", "translations")
    for field in untouched:
        assert without_nulls(after[field]) == without_nulls(before[field]), field
    spanish = web_session.get("/categories/speeding_traffic?lang=es").json()
    assert spanish["name"] == "Exceso de velocidad y tráfico"  # the Spanish words are kept


def test_a_spanish_name_merges_into_the_translation(service, web_session):
    before = web_session.get("/categories/speeding_traffic").json()["translations"]["es"]
    changed = patch(web_session, "speeding_traffic", {"translations": {"es": {"name": "Velocidad"}}}, admin())
    assert changed.status_code == 200, changed.text
    after = web_session.get("/categories/speeding_traffic").json()["translations"]["es"]
    assert without_nulls(after) == without_nulls({**before, "name": "Velocidad"})
    assert web_session.get("/categories/speeding_traffic").json()["name"] == "Speeding and traffic"


def test_questions_given_replace_the_list_and_plain_json_is_read_too(service, web_session):
    attributes = web_session.get("/categories/speeding_traffic").json()["attributes"]
    attributes[0]["description"] = "When does it mostly happen?"
    answer = web_session.patch("/categories/speeding_traffic", json={"attributes": attributes}, headers=admin())
    assert answer.status_code == 200, answer.text
    assert web_session.get("/categories/speeding_traffic").json()["attributes"] == attributes


def test_what_a_put_refuses_a_patch_refuses_and_nothing_changes(service, web_session):
    before = web_session.get("/categories/noise").json()
    refusals = {
        "no name": {"name": None},
        "empty name": {"name": ""},
        "hours out of range": {"acknowledge_hours": 0},
        "hours not a number": {"acknowledge_hours": "soon"},
        "another code": {"code": "other"},
        "unknown field": {"colour": "red"},
        "bad question": {"attributes": [{"code": "x", "datatype": "colour", "order": 1, "description": "?"}]},
        "bad language": {"translations": {"Spanish": {"name": "Ruido"}}},
    }
    for why, body in refusals.items():
        answer = patch(web_session, "noise", body, admin())
        assert answer.status_code == 400, (why, answer.text)
        assert answer.json()["error"]["code"] == "invalid_input", why
    not_an_object = patch(web_session, "noise", ["name"], admin())
    assert not_an_object.status_code == 400
    assert web_session.get("/categories/noise").json() == before
    assert patch(web_session, "fireworks", {"name": "Fireworks"}, admin()).status_code == 404
    assert web_session.get("/categories/fireworks").status_code == 404  # a patch creates nothing


def test_only_admins_may_patch(service, web_session):
    for who, headers in {"anonymous": {}, "officer": officer(), "supervisor": supervisor()}.items():
        answer = patch(web_session, "noise", {"name": "Din"}, headers)
        assert answer.status_code == (401 if who == "anonymous" else 403), who
    assert web_session.get("/categories/noise").json()["name"] == "Noise"
