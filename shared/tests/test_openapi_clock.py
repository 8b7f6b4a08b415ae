"""Generated OpenAPI documents and the injectable clock."""

from openapi_spec_validator import validate

from beat_shared.clock import FrozenClock
from beat_shared.openapi import build_openapi, openapi_path
from shared_sample import LedgerService


def test_werkzeug_rules_become_openapi_paths():
    path, parameters = openapi_path("/concerns/<int:concern_id>/notes/<note>")
    assert path == "/concerns/{concern_id}/notes/{note}"
    assert [(p["name"], p["schema"]["type"]) for p in parameters] == [("concern_id", "integer"), ("note", "string")]


def test_service_document_is_valid_openapi_and_lists_every_endpoint():
    document = build_openapi(LedgerService)
    validate(document)
    assert set(document["paths"]) >= {"/entries", "/entries/{entry_id}", "/healthz", "/readyz", "/metrics"}
    read = document["paths"]["/entries/{entry_id}"]["get"]
    assert read["security"] == [{"bearer": []}]
    assert read["x-roles"] == ["officer", "admin"]
    assert "401" in read["responses"] and "403" in read["responses"]
    assert "security" not in document["paths"]["/healthz"]["get"]


def test_openapi_is_served(ledger, web_session):
    served = web_session.get("/openapi.json").json()
    assert served == build_openapi(LedgerService)


def test_frozen_clock_moves_only_when_told():
    clock = FrozenClock()
    start = clock.now()
    assert clock.now() == start
    assert (clock.advance(hours=2) - start).total_seconds() == 7200
