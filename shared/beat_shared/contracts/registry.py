"""The catalogue of event types: each type, its version, owner and data schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError

from beat_shared.errors import ContractViolation
from beat_shared.fields import schema_instance

SCHEMA_BASE_URI = "https://beat.city/schemas/events"


@dataclass(frozen=True)
class EventContract:
    type: str  # e.g. beat.concern.submitted; also the routing key
    source_service: str  # the service that publishes it, e.g. concerns
    schema: type[Schema]
    version: int = 1
    description: str = ""

    @property
    def source(self) -> str:
        return f"/beat/{self.source_service}"

    @property
    def dataschema(self) -> str:
        return f"{SCHEMA_BASE_URI}/{self.type}/v{self.version}.json"

    def validate(self, data: Any) -> dict[str, Any]:
        """Data as the schema loads it; raises ContractViolation naming the fields."""
        if not isinstance(data, dict):
            raise ContractViolation(f"{self.type}: data must be an object")
        try:
            schema_instance(self.schema).load(data)
        except ValidationError as error:
            raise ContractViolation(f"{self.type}: data breaks its schema", error.messages) from error
        return data


_CATALOGUE: dict[str, EventContract] = {}


def register(contract: EventContract) -> EventContract:
    existing = _CATALOGUE.get(contract.type)
    if existing is not None and existing != contract:
        raise ValueError(f"event type {contract.type} is already registered differently")
    _CATALOGUE[contract.type] = contract
    return contract


def contract_for(event_type: str) -> EventContract:
    try:
        return _CATALOGUE[event_type]
    except KeyError:
        raise ContractViolation(f"unknown event type {event_type!r}") from None


def all_contracts() -> list[EventContract]:
    return sorted(_CATALOGUE.values(), key=lambda contract: contract.type)
