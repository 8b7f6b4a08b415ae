"""Officers' broadcasts: an alert or a meeting announcement to a beat's subscribers, and its preview."""

from __future__ import annotations

from functools import partial
from typing import Any

from werkzeug.wrappers import Request, Response

from beat_shared import idempotency
from beat_shared.entrypoints import timer
from beat_shared.errors import InvalidInput
from beat_shared.http import http, idempotent_create, json_response, read_json
from beat_shared.roles import OFFICERS
from notifications import broadcast_preview, commands, queries
from notifications.endpoints import RENDERER, ServiceParts
from notifications.models import IDEMPOTENCY_KEYS
from notifications.schemas import BEAT_CODE, BroadcastInput, BroadcastPreviewView, BroadcastView

broadcast_endpoint = partial(http, roles=OFFICERS, request_schema=BroadcastInput, tags=["broadcasts"])


class BroadcastEndpoints(ServiceParts):
    """`/broadcasts/{beat_code}[/preview]` for officers of the beat and supervisors."""

    @idempotent_create(broadcast_endpoint, "/broadcasts/<beat_code>", response_schema=BroadcastView)
    def broadcast(self, request: Request, beat_code: str) -> Response:
        """Send a beat alert or meeting announcement to the beat's subscribers"""
        body = self._broadcast_request(request, beat_code)
        now, officer = self.clock.now(), request.principal.subject
        # A retried alert must not reach the beat twice.
        done = idempotency.once(
            self.db,
            IDEMPOTENCY_KEYS,
            request,
            {"beat": beat_code, **body},
            now,
            lambda: commands.broadcast(self.db, now, beat_code, body, officer),
            lambda made: made.id,
        )
        record = done.made or queries.get_broadcast(self.db, done.resource_id)
        answer = {
            "id": record.id,
            "beat_code": beat_code,
            "kind": record.kind,
            "subscribers": self._reach(beat_code, body),
        }
        return json_response(answer, 201, done.headers)

    @broadcast_endpoint("POST", "/broadcasts/<beat_code>/preview", response_schema=BroadcastPreviewView)
    def preview_broadcast(self, request: Request, beat_code: str) -> Response:
        """What a broadcast would say in each language, and how many subscribers it would reach (nothing sent)"""
        body = self._broadcast_request(request, beat_code)
        return json_response(broadcast_preview.preview(RENDERER, beat_code, body, self._reach(beat_code, body)))

    @timer(interval=3600)
    def forget_idempotency_keys(self) -> int:
        """Broadcasts' Idempotency-Keys are kept a day."""
        return idempotency.forget_expired(self.db, IDEMPOTENCY_KEYS, self.clock.now())

    def _broadcast_request(self, request: Request, beat_code: str) -> dict[str, Any]:
        """The body of a broadcast to this beat, from an officer assigned to it or a supervisor."""
        if not BEAT_CODE.regex.match(beat_code):
            raise InvalidInput("not a beat code", {"beat_code": ["a beat code like RV-01"]})
        body = read_json(request, BroadcastInput)
        if request.principal.role == "officer":
            self.require_assignment(request.principal.subject, beat_code)
        return body

    def _reach(self, beat_code: str, body: dict[str, Any]) -> int:
        """How many it reaches: the beat's subscribers, or its neighbourhood watch for a `watch`."""
        return queries.beat_subscriber_count(self.db, beat_code, watch=body["kind"] == "watch")
