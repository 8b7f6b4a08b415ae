"""Fixtures for the notifications tests: a real SMTP server, real HTTP receivers,
stand-ins for the RPC methods of concerns, referrals and surveys, and the service."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any, ClassVar

import eventlet
import pytest
from kombu import Connection, Producer
from nameko.rpc import rpc
from nameko.testing.services import entrypoint_hook
from sqlalchemy import select

from beat_shared.amqp import event_exchange
from beat_shared.auth import mint_token
from beat_shared.clock import FrozenClock
from beat_shared.config import env
from beat_shared.contracts import new_event
from beat_shared.contracts.envelope import CloudEvent
from beat_shared.db import make_engine, unit_of_work
from beat_shared.testing import html_part, text_part, wait_for
from notifications.dependencies import DispatchTimer
from notifications.service import NotificationsService

# --- real HTTP receivers (webhook endpoints, the SMS gateway) -------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    port: int
    requests: list[Received] = field(default_factory=list)
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    default: tuple[int, dict[str, str]] = (200, {})
    hold: threading.Event | None = None  # if set: record each request, then wait for it before answering

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, *responses: tuple[int, dict[str, str]] | int) -> None:
        """Answer the next requests with these statuses (then the default)."""
        self.script.extend(r if isinstance(r, tuple) else (r, {}) for r in responses)


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver(0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            receiver.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            if receiver.hold is not None:
                receiver.hold.wait(30)
            status, headers = receiver.script.pop(0) if receiver.script else receiver.default
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


# --- stand-ins for the other services' agreed RPC methods -----------------------------------


UNKNOWN_BEAT = "ZZ-99"  # the one beat the concerns stand-in does not know
UNANSWERED_BEAT = "ZZ-98"  # the one it fails to answer about


class ConcernsStandIn:
    """Stands in for concerns: `reporter_contact(s)`, `beat_contacts` and `beat_exists` as agreed.
    `calls` counts the reporter questions; `batch_fails` makes `reporter_contacts` fail (as an
    older concerns without it would)."""

    name = "concerns"
    reporters: ClassVar[dict[str, dict[str, Any] | None]] = {}
    beats: ClassVar[dict[str, dict[str, list[dict[str, Any]]]]] = {}
    calls: ClassVar[Counter[str]] = Counter()
    batch_fails: ClassVar[bool] = False

    @rpc
    def reporter_contact(self, concern_id: str) -> dict[str, Any] | None:
        type(self).calls["reporter_contact"] += 1
        return type(self).reporters.get(concern_id)

    @rpc
    def reporter_contacts(self, concern_ids: list[str]) -> dict[str, dict[str, Any] | None]:
        type(self).calls["reporter_contacts"] += 1
        if type(self).batch_fails:
            raise RuntimeError("no such method here")
        return {concern_id: type(self).reporters.get(concern_id) for concern_id in concern_ids}

    @rpc
    def beat_contacts(self, beat_code: str) -> dict[str, list[dict[str, Any]]]:
        return type(self).beats.get(beat_code, {"officers": [], "supervisors": []})

    @rpc
    def beat_exists(self, beat_code: str) -> bool:
        if beat_code == UNANSWERED_BEAT:
            raise RuntimeError("concerns cannot say right now")
        return beat_code != UNKNOWN_BEAT


class ReferralsStandIn:
    """Stands in for referrals: `agency_contact`, `webhook_endpoints`, `disable_webhook`."""

    name = "referrals"
    agencies: ClassVar[dict[str, dict[str, Any]]] = {}
    endpoints: ClassVar[dict[str, list[dict[str, Any]]]] = {}
    disabled: ClassVar[list[tuple[str, str]]] = []

    @rpc
    def agency_contact(self, agency_id: str) -> dict[str, Any] | None:
        return type(self).agencies.get(agency_id)

    @rpc
    def webhook_endpoints(self, agency_id: str) -> list[dict[str, Any]]:
        return type(self).endpoints.get(agency_id, [])

    @rpc
    def disable_webhook(self, endpoint_id: str, reason: str) -> None:
        type(self).disabled.append((endpoint_id, reason))
        for endpoints in type(self).endpoints.values():
            for endpoint in endpoints:
                if endpoint["endpoint_id"] == endpoint_id:
                    endpoint["active"] = False


class SurveysStandIn:
    """Stands in for surveys: `invitation_link`."""

    name = "surveys"
    links: ClassVar[dict[str, dict[str, str] | None]] = {}

    @rpc
    def invitation_link(self, invitation_id: str) -> dict[str, str] | None:
        return type(self).links.get(invitation_id)


@pytest.fixture
def stand_ins(container_factory, rabbit_config) -> SimpleNamespace:
    ConcernsStandIn.reporters = {}
    ConcernsStandIn.beats = {}
    ConcernsStandIn.calls = Counter()
    ConcernsStandIn.batch_fails = False
    ReferralsStandIn.agencies = {}
    ReferralsStandIn.endpoints = {}
    ReferralsStandIn.disabled = []
    SurveysStandIn.links = {}
    for cls in (ConcernsStandIn, ReferralsStandIn, SurveysStandIn):
        container_factory(cls, {"AMQP_URI": rabbit_config["AMQP_URI"]}).start()
    return SimpleNamespace(concerns=ConcernsStandIn, referrals=ReferralsStandIn, surveys=SurveysStandIn)


# --- the service under test ------------------------------------------------------------------


@pytest.fixture
def clock() -> FrozenClock:
    # Real "now" (to the second): receivers check webhook timestamps against their own clock.
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def notifications_db(migrated_database: Callable[[str], str]) -> str:
    url = migrated_database("notifications")
    return url


@pytest.fixture
def start_service(notifications_db, smtp_sink, http_receiver, clock, container_factory, beat_config, stand_ins):
    """Start the notifications service; keyword arguments override its config."""

    def start(dispatch_on_arrival: bool = False, **overrides: Any) -> Any:
        settings = dict(
            NOTIFICATIONS_DATABASE_URL=notifications_db,
            BEAT_CLOCK=clock,
            NOTIFICATIONS_SMTP_PORT=str(smtp_sink.port),
            NOTIFICATIONS_DISPATCH_SECONDS="3600",  # tests drive rounds themselves
            NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE="true",
            NOTIFICATIONS_WEBHOOK_REQUIRE_HTTPS="false",
            NOTIFICATIONS_SMS_GATEWAY_URL=http_receiver.url("/sms"),
            NOTIFICATIONS_SMS_INBOUND_TOKEN="gateway-token",
            NOTIFICATIONS_RPC_TIMEOUT="5",
            NOTIFICATIONS_TIMEZONE="UTC",
        )
        config = beat_config("notifications", **{**settings, **overrides})
        container = container_factory(NotificationsService, config)
        for entrypoint in container.entrypoints:
            if isinstance(entrypoint, DispatchTimer):  # tests drive rounds themselves unless asked
                entrypoint.wake_on_arrival = dispatch_on_arrival
        container.start()
        return container

    return start


@pytest.fixture
def service(start_service) -> Any:
    return start_service()


DISPATCH_TIMEOUT = 60  # seconds; a round takes well under one


def dispatch(container: Any) -> dict[str, Any]:
    """One dispatcher round, now (at the frozen clock's time). A round that never answers (its
    container died under it) fails the test instead of hanging the whole lane."""
    failure = AssertionError(f"the dispatch round did not answer within {DISPATCH_TIMEOUT} s")
    with eventlet.Timeout(DISPATCH_TIMEOUT, failure), entrypoint_hook(container, "dispatch") as hook:
        return hook()


def publish(amqp_uri: str, event: CloudEvent) -> None:
    """Publish an event as its owning service's outbox relay would."""
    service = event.source.rsplit("/", 1)[-1]
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        Producer(connection).publish(
            event.to_json(),
            exchange=event_exchange(service),
            routing_key=event.type,
            content_type="application/cloudevents+json",
            content_encoding="utf-8",
            delivery_mode=2,
        )


def rows(url: str, model: Any, *where: Any) -> list[Any]:
    engine = make_engine(url, pool_size=1)
    try:
        with unit_of_work(engine) as session:
            return list(session.scalars(select(model).where(*where)))
    finally:
        engine.dispose()


def acknowledged(concern_id: str) -> CloudEvent:
    """beat.concern.acknowledged of a streetlight concern in RV-03: its reporter is mailed."""
    return new_event(
        "beat.concern.acknowledged",
        concern_id,
        {
            "concern_id": concern_id,
            "category_code": "streetlight_out",
            "beat_code": "RV-03",
            "status": "acknowledged",
            "occurred_at": "2026-01-05T09:00:00Z",
            "officer_id": "officer-rv03",
            "submitted_at": "2026-01-04T09:00:00Z",
        },
    )


def token(role: str, subject: str, agency_id: str | None = None) -> dict[str, str]:
    minted = mint_token(role, subject, env("BEAT_JWT_SECRET"), agency_id=agency_id)
    return {"Authorization": f"Bearer {minted}"}


@pytest.fixture
def kit() -> SimpleNamespace:
    """Helpers tests use (test modules cannot import conftest under importlib mode)."""
    return SimpleNamespace(
        acknowledged=acknowledged,
        dispatch=dispatch,
        publish=publish,
        rows=rows,
        token=token,
        text_part=text_part,
        html_part=html_part,
        wait_for=wait_for,
    )
