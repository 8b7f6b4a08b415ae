"""Helpers for the referrals service's tests (constants, tokens, an event spy, stand-ins).

Imported as `referrals_testkit` (conftest.py puts this folder on sys.path).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from kombu import Connection, Queue
from nameko.rpc import rpc as nameko_rpc

from beat_shared.amqp import event_exchange
from beat_shared.auth import mint_token
from beat_shared.clock import utc_iso
from beat_shared.config import env
from beat_shared.testing import wait_for
from referrals.demo import _id

# Monday 5 January 2026, 09:00 in Riverton (America/Chicago).
START = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
FOOD_BANK = "agency-riverton-food-bank"
SAFE_HAVEN = "agency-safe-haven"


def token(role: str, subject: str | None = None, agency_id: str | None = None) -> str:
    return mint_token(role, subject or f"{role}-1", env("BEAT_JWT_SECRET"), agency_id=agency_id)


def auth(role: str, subject: str | None = None, agency_id: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, subject, agency_id)}"}


OFFICER = auth("officer", "officer-rv01")
ADMIN = auth("admin", "admin-1")
SUPERVISOR = auth("supervisor", "supervisor-1")
FOOD_BANK_USER = auth("agency", "worker@foodbank", FOOD_BANK)
SAFE_HAVEN_USER = auth("agency", "worker@safehaven", SAFE_HAVEN)


class EventSpy:
    """A queue bound to referrals.events that collects every event with its headers."""

    def __init__(self, amqp_uri: str) -> None:
        self.connection = Connection(amqp_uri)
        self.queue = Queue("referrals-spy", exchange=event_exchange("referrals"), routing_key="beat.#", durable=False)
        self.queue(self.connection.default_channel).declare()
        self.received: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def _drain(self) -> None:
        bound = self.queue(self.connection.default_channel)
        while (message := bound.get(no_ack=True)) is not None:
            self.received.append((json.loads(message.body), dict(message.headers or {})))

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        self._drain()
        return [event for event, _ in self.received if event_type is None or event["type"] == event_type]

    def wait(self, event_type: str, count: int = 1, timeout: float = 10) -> list[dict[str, Any]]:
        return wait_for(
            lambda: (found := self.events(event_type)) and len(found) >= count and found,
            timeout=timeout,
            message=f"{count} {event_type} event(s)",
        )

    def headers_of(self, event_id: str) -> dict[str, Any]:
        self._drain()
        return next(headers for event, headers in self.received if event["id"] == event_id)


class ConcernsStandIn:
    """Stands in for the concerns service's agreed RPC `referral_client(request_id)`."""

    name = "concerns"
    clients: dict[str, dict[str, Any]] = {}

    @nameko_rpc
    def referral_client(self, request_id: str) -> dict[str, Any] | None:
        return type(self).clients.get(request_id)


PANTRY = _id("service", f"{_id('organization', 'riverton-food-bank')}:Emergency food pantry")
CLIENT = {
    "name": "Maria Lopez",
    "phone": "+1 555 0199 123",
    "email": "maria@example.org",
    "language": "es",
    "age": 34,
    "notes": "Two children; no car.",
}
PERSONAL_VALUES = ("Maria", "Lopez", "0199", "maria@example.org", "children")


def consent(**overrides):
    return {
        "given_by": "Maria Lopez (client)",
        "given_at": utc_iso(START - timedelta(minutes=10)),
        "method": "verbal",
        "scope": "share name and phone with the food bank to arrange a food parcel",
        "valid_until": utc_iso(START + timedelta(days=90)),
        **overrides,
    }
