"""Event contracts: the envelope, validation at both ends, JSON Schema export, no personal data."""

import json

import pytest
from jsonschema import Draft202012Validator
from marshmallow import fields

from beat_shared.contracts import all_contracts, contract_for, new_event, parse_event
from beat_shared.contracts.jsonschema import event_json_schema
from beat_shared.errors import ContractViolation

PERSONAL_FIELD_WORDS = ("name", "email", "phone", "address", "description", "note", "dob", "birth")


def a_concern_submitted():
    return new_event(
        "beat.concern.submitted",
        "c-1",
        {
            "concern_id": "c-1",
            "category_code": "noise",
            "beat_code": "RV-01",
            "status": "submitted",
            "occurred_at": "2026-11-28T10:00:00Z",
            "anonymous": False,
            "has_contact": True,
            "outside_beats": False,
            "language": "en",
        },
    )


def test_new_event_builds_a_cloudevent():
    event = a_concern_submitted().to_dict()
    assert event["specversion"] == "1.0"
    assert event["source"] == "/beat/concerns"
    assert event["type"] == "beat.concern.submitted"
    assert event["time"].endswith("Z")
    assert event["dataschema"].endswith("/beat.concern.submitted/v1.json")
    assert parse_event(json.dumps(event)).id == event["id"]


def test_new_event_refuses_data_that_breaks_the_schema():
    with pytest.raises(ContractViolation) as raised:
        new_event("beat.concern.supported", "c-1", {"concern_id": "c-1"})
    assert "supporters" in raised.value.details


def test_unknown_types_are_refused():
    with pytest.raises(ContractViolation):
        new_event("beat.concern.exploded", "c-1", {})


@pytest.mark.parametrize(
    "mutate, reason",
    [
        (lambda e: e.update(specversion="0.3"), "specversion"),
        (lambda e: e.update(id="not-a-uuid"), "id"),
        (lambda e: e.update(source="/beat/referrals"), "must come from"),
        (lambda e: e.update(time="yesterday"), "time"),
        (lambda e: e.pop("subject"), "subject"),
        (lambda e: e["data"].update(anonymous="maybe"), "anonymous"),
    ],
)
def test_parse_event_refuses_broken_envelopes(mutate, reason):
    event = a_concern_submitted().to_dict()
    mutate(event)
    with pytest.raises(ContractViolation) as raised:
        parse_event(event)
    assert reason in f"{raised.value.message} {raised.value.details}"


def test_parse_event_refuses_non_json_and_non_objects():
    for body in (b"{oops", b"[1, 2]", 42):
        with pytest.raises(ContractViolation):
            parse_event(body)


def test_every_contract_exports_a_valid_json_schema_that_accepts_a_valid_event():
    assert len(all_contracts()) >= 24
    for contract in all_contracts():
        Draft202012Validator.check_schema(event_json_schema(contract))
    schema = event_json_schema(contract_for("beat.concern.submitted"))
    assert not list(Draft202012Validator(schema).iter_errors(a_concern_submitted().to_dict()))


def test_no_published_event_has_a_field_for_personal_data():
    for contract in all_contracts():
        for field_name, field in contract.schema().fields.items():
            if not isinstance(field, (fields.String, fields.Raw, fields.Dict, fields.List)):
                continue  # numbers, booleans and dates cannot hold a name or an address
            assert not any(word in field_name.split("_") for word in PERSONAL_FIELD_WORDS), (
                f"{contract.type}.{field_name} looks like personal data; events carry ids, not people"
            )
