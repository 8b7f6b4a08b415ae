"""Helpers shared by the concerns service's tests (tokens, request bodies, an event spy)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from kombu import Connection, Queue

from beat_shared.amqp import event_exchange
from beat_shared.auth import mint_token
from beat_shared.config import env
from beat_shared.testing import wait_for

SECRET = env("BEAT_JWT_SECRET")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# Points inside each demo beat, and one outside Riverton.
POINTS = {
    "RV-01": (43.045, -108.405),
    "RV-02": (43.045, -108.380),
    "RV-03": (43.045, -108.353),
    "RV-04": (43.014, -108.405),
    "RV-05": (43.014, -108.380),
    "RV-06": (43.014, -108.353),
    "outside": (43.200, -108.000),
}


def bearer(role: str, subject: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(role, subject, SECRET)}"}


def officer(beat: str = "RV-02") -> dict[str, str]:
    return bearer("officer", f"officer-rv{beat[-2:]}")


def supervisor() -> dict[str, str]:
    return bearer("supervisor", "supervisor-1")


def admin() -> dict[str, str]:
    return bearer("admin", "admin-1")


def resident(subject: str = "resident-ana") -> dict[str, str]:
    return bearer("resident", subject)


def concern_body(category: str = "noise", beat: str = "RV-02", **overrides) -> dict:
    lat, long = POINTS[beat]
    body = {
        "category": category,
        "description": "Loud music every night from the car park.",
        "location": {"lat": lat, "long": long},
    }
    body.update(overrides)
    return body


class EventSpy:
    """A queue bound to the concerns exchange; collects the CloudEvents the relay publishes."""

    def __init__(self, amqp_uri: str) -> None:
        self.connection = Connection(amqp_uri)
        self.queue = Queue("concerns-spy", exchange=event_exchange("concerns"), routing_key="beat.#", durable=False)
        self.queue(self.connection.default_channel).declare()
        self.seen: list[dict] = []

    def _drain(self) -> None:
        while True:
            message = self.queue(self.connection.default_channel).get(no_ack=True)
            if message is None:
                return
            self.seen.append(json.loads(message.body))

    def of_type(self, event_type: str) -> list[dict]:
        self._drain()
        return [event for event in self.seen if event["type"] == event_type]

    def wait_for(self, event_type: str, count: int = 1, timeout: float = 10.0) -> list[dict]:
        return wait_for(
            lambda: found if len(found := self.of_type(event_type)) >= count else None,
            timeout=timeout,
            message=f"{count} {event_type} event(s)",
        )

    def close(self) -> None:
        self.connection.release()


def run_timer(container, method_name: str):
    """Fire a timer once the way its tick does, so its transaction is settled (committed), and
    wait for the result. (nameko's entrypoint_hook bypasses the entrypoint's result handling,
    so a timer's writes would be rolled back.)"""
    from nameko.testing.services import entrypoint_waiter
    from nameko.testing.utils import get_extension
    from nameko.timer import Timer

    timer = get_extension(container, Timer, method_name=method_name)
    with entrypoint_waiter(container, method_name) as waiter:
        timer.handle_timer_tick()
    timer.worker_complete.reset()
    return waiter.get()
