"""The CloudEvents 1.0 envelope (structured JSON mode) every Beat event travels in."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from beat_shared.clock import Clock, SystemClock, utc_iso
from beat_shared.contracts.registry import contract_for
from beat_shared.errors import ContractViolation
from beat_shared.fields import schema_instance
from beat_shared.rows import fields_of

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/cloudevents+json"


class CloudEventSchema(Schema):
    specversion = fields.String(required=True, validate=validate.Equal(SPEC_VERSION))
    id = fields.UUID(required=True)
    source = fields.String(required=True, validate=validate.Regexp(r"^/beat/[a-z]+$"))
    type = fields.String(required=True, validate=validate.Regexp(r"^beat(\.[a-z_0-9]+)+$"))
    time = fields.AwareDateTime(required=True)
    subject = fields.String(required=True, validate=validate.Length(min=1, max=120))
    datacontenttype = fields.String(required=True, validate=validate.Equal("application/json"))
    dataschema = fields.Url(required=True)
    data = fields.Dict(required=True)


@dataclass(frozen=True)
class CloudEvent:
    id: str
    source: str
    type: str
    time: str
    subject: str
    dataschema: str
    data: dict[str, Any] = field(default_factory=dict)
    specversion: str = SPEC_VERSION
    datacontenttype: str = "application/json"

    def to_dict(self) -> dict[str, Any]:
        return {
            **fields_of(
                self,
                ("specversion", "id", "source", "type", "time", "subject", "datacontenttype", "dataschema", "data"),
            ),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), sort_keys=True)


def new_event(
    event_type: str,
    subject: str,
    data: dict[str, Any],
    clock: Clock | None = None,
    event_id: str | None = None,
) -> CloudEvent:
    """Build an event of a registered type; refuses data that breaks the type's schema."""
    contract = contract_for(event_type)
    contract.validate(data)
    moment: datetime = (clock or SystemClock()).now()
    return CloudEvent(
        id=event_id or str(uuid.uuid4()),
        source=contract.source,
        type=contract.type,
        time=utc_iso(moment),
        subject=str(subject),
        dataschema=contract.dataschema,
        data=data,
    )


def parse_event(body: Any) -> CloudEvent:
    """Validate a received envelope and its data against the contract of its type."""
    if isinstance(body, (bytes, str)):
        try:
            body = json.loads(body)
        except ValueError as error:
            raise ContractViolation("event body is not JSON") from error
    if not isinstance(body, dict):
        raise ContractViolation("event body must be a JSON object")
    try:
        schema_instance(CloudEventSchema).load(body)
    except ValidationError as error:
        raise ContractViolation("event envelope is not a valid CloudEvent", error.messages) from error
    contract = contract_for(body["type"])
    if body["source"] != contract.source:
        raise ContractViolation(f"{body['type']} must come from {contract.source}")
    contract.validate(body["data"])
    return CloudEvent(**{key: body[key] for key in schema_instance(CloudEventSchema).fields})
