"""Event contracts: the CloudEvents envelope and the catalogue of event types."""

from beat_shared.contracts import catalogue  # noqa: F401 - registers every published event type
from beat_shared.contracts.envelope import CloudEvent, new_event, parse_event
from beat_shared.contracts.registry import EventContract, all_contracts, contract_for, register

__all__ = [
    "CloudEvent",
    "EventContract",
    "all_contracts",
    "contract_for",
    "new_event",
    "parse_event",
    "register",
]
