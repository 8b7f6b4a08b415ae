"""The AsyncAPI 3.0 document of Beat's events, generated from the contracts and the consumers in code."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

from beat_shared.amqp import CLOUDEVENTS_CONTENT_TYPE
from beat_shared.contracts import all_contracts
from beat_shared.contracts.jsonschema import event_json_schema
from beat_shared.inbox import IdempotentEventHandler

AMQP_BINDING_VERSION = "0.3.0"


def _channel_id(service: str) -> str:
    return f"{service}Events"


def _channel(service: str, event_types: list[str]) -> dict[str, Any]:
    return {
        "address": f"{service}.events",
        "title": f"{service} events",
        "description": (
            f"Topic exchange of the {service} service. The routing key is the event type; bind a queue with "
            "a pattern such as `beat.referral.#`."
        ),
        "messages": {event_type: {"$ref": f"#/components/messages/{event_type}"} for event_type in event_types},
        "bindings": {
            "amqp": {
                "is": "routingKey",
                "exchange": {"name": f"{service}.events", "type": "topic", "durable": True, "autoDelete": False},
                "bindingVersion": AMQP_BINDING_VERSION,
            }
        },
    }


def _message(contract: Any) -> dict[str, Any]:
    payload = event_json_schema(contract)
    payload.pop("$id", None)  # kept as the event's `dataschema` value; an $id here would re-base references
    return {
        "name": contract.type,
        "title": contract.type,
        "summary": contract.description,
        "contentType": CLOUDEVENTS_CONTENT_TYPE,
        "payload": payload,
        "correlationId": {"description": "the event id, also the AMQP message id", "location": "$message.payload#/id"},
        "bindings": {"amqp": {"messageType": contract.type, "bindingVersion": AMQP_BINDING_VERSION}},
        "x-dataschema": contract.dataschema,
        "x-version": contract.version,
    }


def _consumers(service_classes: Iterable[type]) -> list[tuple[str, str, str, str]]:
    """(consuming service, method, source service, event type) for every idempotent handler."""
    found = []
    for cls in service_classes:
        for method_name, method in inspect.getmembers(cls):
            for entrypoint in getattr(method, "nameko_entrypoints", ()):
                if isinstance(entrypoint, IdempotentEventHandler):
                    found.append((cls.name, method_name, entrypoint.source_service, entrypoint.event_type))  # type: ignore[attr-defined]
    return sorted(found)


def build_asyncapi(service_classes: Iterable[type], version: str = "1.0.0") -> dict[str, Any]:
    contracts = [
        contract for contract in all_contracts() if not contract.type.startswith(("beat.test.", "beat.bench."))
    ]
    by_service: dict[str, list[str]] = {}
    for contract in contracts:
        by_service.setdefault(contract.source_service, []).append(contract.type)
    document: dict[str, Any] = {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Beat events",
            "version": version,
            "description": (
                "Every event Beat publishes, as CloudEvents 1.0 in structured JSON mode. Events carry no personal "
                "data: ids, categories, statuses, beat codes and timestamps. Consumers must be idempotent (the "
                "event id is stable across redeliveries). See docs/integrating.md."
            ),
        },
        "defaultContentType": CLOUDEVENTS_CONTENT_TYPE,
        "servers": {
            "local": {
                "host": "127.0.0.1:5672",
                "protocol": "amqp",
                "protocolVersion": "0-9-1",
                "description": "the broker `make run` starts",
            },
        },
        "channels": {_channel_id(service): _channel(service, types) for service, types in sorted(by_service.items())},
        "operations": {},
        "components": {"messages": {contract.type: _message(contract) for contract in contracts}},
    }
    for service, types in sorted(by_service.items()):
        document["operations"][f"{service}.publish"] = {
            "action": "send",
            "title": f"{service} publishes",
            "channel": {"$ref": f"#/channels/{_channel_id(service)}"},
            "messages": [{"$ref": f"#/channels/{_channel_id(service)}/messages/{t}"} for t in types],
            "bindings": {"amqp": {"deliveryMode": 2, "bindingVersion": AMQP_BINDING_VERSION}},  # persistent
        }
    for consumer, method, source, event_type in _consumers(service_classes):
        document["operations"][f"{consumer}.{method}"] = {
            "action": "receive",
            "title": f"{consumer} handles {event_type}",
            "description": (
                f"Queue `evt-{source}-{event_type}--{consumer}.{method}` bound with routing key `{event_type}`."
            ),
            "channel": {"$ref": f"#/channels/{_channel_id(source)}"},
            "messages": [{"$ref": f"#/channels/{_channel_id(source)}/messages/{event_type}"}],
            "bindings": {"amqp": {"ack": True, "bindingVersion": AMQP_BINDING_VERSION}},
        }
    return document
