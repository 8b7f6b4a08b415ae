"""The committed AsyncAPI and OpenAPI documents are valid and match the code (no drift)."""

import json
from pathlib import Path

import pytest
from jsonschema import Draft7Validator
from openapi_spec_validator import validate

from beat_shared.docs import contract_documents, contract_files

CONTRACTS = Path(__file__).parents[1] / "docs" / "contracts"
ASYNCAPI_SCHEMA = json.loads((CONTRACTS / "standards" / "asyncapi-3.0.0.schema.json").read_text())
DOCUMENTS = contract_documents()
FILES = contract_files()


@pytest.mark.parametrize("relative", sorted(FILES))
def test_committed_document_matches_the_code(relative):
    committed = CONTRACTS / relative
    assert committed.exists(), f"{committed} is missing: run `.venv/bin/beat docs`"
    assert committed.read_text() == FILES[relative], f"{relative} drifted: run `.venv/bin/beat docs`"


def test_asyncapi_document_is_valid_asyncapi_3():
    errors = sorted(Draft7Validator(ASYNCAPI_SCHEMA).iter_errors(DOCUMENTS["asyncapi.json"]), key=str)
    assert not errors, errors[0].message


def test_asyncapi_lists_every_event_type_once_with_its_channel():
    document = DOCUMENTS["asyncapi.json"]
    messages = document["components"]["messages"]
    assert "beat.concern.submitted" in messages and "beat.referral.sent" in messages
    assert document["channels"]["concernsEvents"]["address"] == "concerns.events"
    assert document["channels"]["concernsEvents"]["bindings"]["amqp"]["exchange"]["type"] == "topic"


@pytest.mark.parametrize("relative", sorted(r for r in DOCUMENTS if r.startswith("openapi/")))
def test_openapi_documents_are_valid(relative):
    validate(DOCUMENTS[relative])
