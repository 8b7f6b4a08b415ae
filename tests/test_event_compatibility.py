"""Published event schemas only change compatibly (policy: docs/decisions/0004-event-versioning.md).

docs/contracts/published/events-v1.json is the catalogue as published: it is written once per
published version and never edited. A change that breaks consumers must be a new event version.
"""

import copy
import json
from pathlib import Path

import pytest

from beat_shared.compatibility import incompatibilities
from beat_shared.contracts import all_contracts
from beat_shared.contracts.jsonschema import marshmallow_json_schema

PUBLISHED = json.loads((Path(__file__).parents[1] / "docs/contracts/published/events-v1.json").read_text())
CURRENT = {
    c.type: marshmallow_json_schema(c.schema)
    for c in all_contracts()
    if not c.type.startswith(("beat.test.", "beat.bench."))
}


@pytest.mark.parametrize("event_type", sorted(PUBLISHED))
def test_published_event_is_still_published_compatibly(event_type):
    assert event_type in CURRENT, f"{event_type} was published and must not disappear (deprecate it first)"
    assert incompatibilities(PUBLISHED[event_type], CURRENT[event_type]) == []


def test_every_current_event_type_is_published():
    assert set(CURRENT) <= set(PUBLISHED), "add new event types to docs/contracts/published/events-v1.json"


SAMPLE = PUBLISHED["beat.referral.completed"]


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda s: s["properties"].pop("outcome"), "outcome: removed"),
        (lambda s: s["properties"]["urgency"].update(type="integer"), "urgency: type"),
        (
            lambda s: s["required"].append("note_code") or s["properties"].update(note_code={"type": "string"}),
            "note_code: became required",
        ),
        (lambda s: s["required"].remove("outcome"), "outcome: no longer required"),
        (lambda s: s["properties"]["outcome"].update(enum=["got_help"]), "allowed values narrowed"),
        (lambda s: s["properties"]["agency_id"].update(maxLength=10), "maxLength narrowed"),
    ],
)
def test_the_checker_catches_each_kind_of_break(change, expected):
    current = copy.deepcopy(SAMPLE)
    change(current)
    assert any(expected in problem for problem in incompatibilities(SAMPLE, current))


def test_the_checker_allows_compatible_changes():
    current = copy.deepcopy(SAMPLE)
    current["properties"]["note_code"] = {"type": "string"}  # a new optional field
    current["properties"]["agency_id"]["maxLength"] = 128  # a relaxed limit
    assert incompatibilities(SAMPLE, current) == []
