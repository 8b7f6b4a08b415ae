"""JSON Schema of every event type, generated from its marshmallow schema."""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema

from beat_shared.contracts.registry import EventContract


def marshmallow_json_schema(schema: type[Schema]) -> dict[str, Any]:
    """The JSON Schema (OpenAPI 3.1 dialect) apispec derives from a marshmallow schema."""
    plugin = MarshmallowPlugin()
    APISpec("beat", "1", "3.1.0", plugins=[plugin])
    assert plugin.converter is not None
    return plugin.converter.schema2jsonschema(schema)


def event_json_schema(contract: EventContract) -> dict[str, Any]:
    """The whole CloudEvent of one type, its data described by the contract's schema."""
    return {
        "$id": contract.dataschema,
        "title": contract.type,
        "description": contract.description,
        "type": "object",
        "required": [
            "specversion",
            "id",
            "source",
            "type",
            "time",
            "subject",
            "datacontenttype",
            "dataschema",
            "data",
        ],
        "properties": {
            "specversion": {"const": "1.0"},
            "id": {"type": "string", "format": "uuid"},
            "source": {"const": contract.source},
            "type": {"const": contract.type},
            "time": {"type": "string", "format": "date-time"},
            "subject": {"type": "string"},
            "datacontenttype": {"const": "application/json"},
            "dataschema": {"const": contract.dataschema},
            "data": marshmallow_json_schema(contract.schema),
        },
    }
