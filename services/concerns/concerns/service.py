"""The concerns service: its dependencies, composed of its endpoint groups, and the entrypoints
other services and the clock use (RPC, events, timers). Entrypoints only: parse, call, answer."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from beat_shared import idempotency
from beat_shared.clock import ClockProvider
from beat_shared.contracts.envelope import CloudEvent
from beat_shared.db import Database
from beat_shared.entrypoints import rpc, timer
from beat_shared.http import http
from beat_shared.inbox import event_handler
from beat_shared.metrics import exposition
from beat_shared.outbox import Outbox
from beat_shared.platform import PlatformEndpoints
from beat_shared.settings_provider import SettingsProvider
from concerns import commands, queries, store
from concerns import metrics as service_metrics
from concerns.beat_endpoints import BeatEndpoints
from concerns.dependencies import RateLimiter, ReferenceData
from concerns.intake_endpoints import IntakeEndpoints
from concerns.meeting_endpoints import MeetingEndpoints
from concerns.models import IDEMPOTENCY_KEYS, Base
from concerns.open311_endpoints import Open311Endpoints
from concerns.problem_endpoints import ProblemEndpoints
from concerns.settings import Settings
from concerns.workflow_endpoints import WorkflowEndpoints


class ConcernsService(
    IntakeEndpoints,
    WorkflowEndpoints,
    MeetingEndpoints,
    BeatEndpoints,
    ProblemEndpoints,
    Open311Endpoints,
    PlatformEndpoints,
):
    """Residents voice neighbourhood concerns, officers respond and report back, and both meet
    to agree on priorities. Also an Open311 GeoReport v2 server at /open311/v2/."""

    name = "concerns"
    # The HTTP API's version (semantic): 1.1 documents the public view of each possible duplicate.
    api_version = "1.1.0"

    db = Database(Base.metadata)
    outbox = Outbox()
    clock = ClockProvider()
    settings = SettingsProvider(Settings)
    limiter = RateLimiter()
    reference = ReferenceData()

    @timer(interval=60)
    def check_overdue(self) -> int:
        """Flag concerns past their time to acknowledge (emits beat.concern.overdue once each);
        forget submission keys older than a day."""
        idempotency.forget_expired(self.db, IDEMPOTENCY_KEYS, self.clock.now())
        return commands.mark_overdue(self.db, self.clock.now(), self.outbox.add)

    @http("GET", "/metrics", auth="none", tags=["platform"])
    def metrics(self, request: Request) -> Response:
        """Prometheus metrics, with the count of concerns past their acknowledge-by time."""
        self.platform.refresh_gauges()
        service_metrics.refresh_overdue_gauge(self.db, self.clock.now())
        body, content_type = exposition()
        return Response(body, status=200, content_type=content_type)

    @event_handler("referrals", "beat.referral.request_failed")
    def on_referral_request_failed(self, event: CloudEvent) -> None:
        """Referrals could not make a referral of an officer's request: show it, with why, on the concern."""
        commands.referral_request_failed(self.db, self.clock.now(), event.data["request_id"], event.data["reason"])

    # --- RPC for other services ----------------------------------------------------------

    @rpc(read_only=True)
    def reporter_contact(self, concern_id: str) -> dict[str, Any] | None:
        """How to reach a concern's reporter (notifications); None when they left no contact."""
        return queries.reporter_contacts(self.db, [concern_id])[concern_id]

    @rpc(read_only=True)
    def reporter_contacts(self, concern_ids: list[str]) -> dict[str, dict[str, Any] | None]:
        """`reporter_contact` for up to 500 concerns in one call: a notifications dispatcher round
        asks once for its whole batch instead of once per message."""
        return queries.reporter_contacts(self.db, concern_ids)

    @rpc(read_only=True)
    def beat_exists(self, beat_code: str) -> bool:
        """Whether the city has this beat (notifications checks subscriptions with it)."""
        return queries.beat_exists(self.db, beat_code)

    @rpc(read_only=True)
    def beat_contacts(self, beat_code: str) -> dict[str, list[dict[str, Any]]]:
        """The officers and supervisors assigned to a beat, with their work contact details."""
        return queries.beat_contacts(self.db, beat_code)

    @rpc(read_only=True)
    def beat_map(self, known_version: int | None = None) -> dict[str, Any] | None:
        """Concerns is the single source of beats: `{version, beats: [{code, name, boundary}]}` for
        referrals' copy (it matches services by the same polygons), None when `known_version` is current."""
        return store.beat_map(self.db, known_version)

    @rpc(read_only=True)
    def referral_client(self, request_id: str) -> dict[str, Any] | None:
        """The client and consent of a referral request (referrals, after beat.referral.requested)."""
        return queries.referral_client(self.db, request_id)
