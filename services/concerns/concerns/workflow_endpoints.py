"""The concerns service's staff workflow entrypoints, an endpoint group of ConcernsService (as
PlatformEndpoints is): the beat's queue, one concern, moves and notes, referral requests. Parse,
call a command or a query, answer."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from beat_shared.http import http, json_response, page_request, read_json
from beat_shared.roles import STAFF
from concerns import access, commands, queries, store, views
from concerns.domain.workflow import Status
from concerns.endpoint_group import EndpointGroup
from concerns.models import Concern
from concerns.schemas import (
    ConcernListQuery,
    ConcernOutput,
    NoteInput,
    ReferralRequestInput,
    ReferralRequestOutput,
    TransitionInput,
)


class WorkflowEndpoints(EndpointGroup):
    """What officers, supervisors and admins do with concerns."""

    def _answer(self, concern: Concern, audience: str = "staff") -> Response:
        body = queries.concern_answer(self.db, self.settings, self.reference, concern, audience)
        return json_response(body, headers=access.etag(concern.version))

    @http(
        "GET",
        "/concerns",
        roles=STAFF,
        summary="Concerns of my beats (officers) or of every beat (supervisors, admins)",
        query_schema=ConcernListQuery,
        tags=["concerns"],
    )
    def list_concerns(self, request: Request) -> Response:
        args = access.query_args(request, ConcernListQuery())
        actor = self._actor(request)
        found = queries.staff_list(self.db, actor, args, page_request(request.args))
        return json_response(queries.with_notice(self.settings, found))

    @http(
        "GET",
        "/concerns/<concern_id>",
        auth="optional",
        summary="One concern: staff of its beat, or its reporter (bearer token or X-Receipt-Token)",
        response_schema=ConcernOutput,
        tags=["concerns"],
    )
    def get_concern(self, request: Request, concern_id: str) -> Response:
        concern = store.concern(self.db, concern_id)
        audience = access.audience(self.db, concern, request.principal, access.receipt_token(request))
        return self._answer(concern, audience)

    @http(
        "POST",
        "/concerns/<concern_id>/transitions",
        roles=STAFF,
        summary="Move a concern in its workflow (send If-Match or version)",
        request_schema=TransitionInput,
        response_schema=ConcernOutput,
        tags=["workflow"],
        responses={"409": {"description": "illegal transition or stale version"}},
    )
    def transition_concern(self, request: Request, concern_id: str) -> Response:
        body = read_json(request, TransitionInput)
        change = commands.Change(
            target=Status(body["status"]),
            expected_version=access.expected_version(request, body["version"]),
            public_note=body["public_note"],
            internal_note=body["internal_note"],
            merged_into=body["merged_into"],
        )
        actor = self._actor(request)
        return self._answer(commands.transition(self.db, self.clock.now(), self.outbox.add, concern_id, actor, change))

    @http(
        "POST",
        "/concerns/<concern_id>/notes",
        roles=STAFF,
        summary="Add a public or internal note without changing the status (send If-Match or version)",
        request_schema=NoteInput,
        response_schema=ConcernOutput,
        tags=["workflow"],
        responses={"409": {"description": "stale version"}},
    )
    def add_note(self, request: Request, concern_id: str) -> Response:
        body = read_json(request, NoteInput)
        note = commands.Note(
            expected_version=access.expected_version(request, body["version"]),
            public_note=body["public_note"],
            internal_note=body["internal_note"],
        )
        actor = self._actor(request)
        return self._answer(commands.add_note(self.db, self.clock.now(), self.outbox.add, concern_id, actor, note))

    @http(
        "POST",
        "/referral-requests",
        roles=STAFF,
        summary="Ask referrals to find help for a resident (their consent recorded by the officer)",
        request_schema=ReferralRequestInput,
        response_schema=ReferralRequestOutput,
        status=201,
        tags=["workflow"],
    )
    def request_referral(self, request: Request) -> Response:
        body = read_json(request, ReferralRequestInput)
        ask = commands.ReferralAsk(
            need_category=body["need_category"],
            urgency=body["urgency"],
            client=body["client"],
            consent=body["consent"],
            concern_id=body["concern_id"],
            beat_code=body["beat_code"],
        )
        actor = self._actor(request)
        made = commands.request_referral(self.db, self.clock.now(), self.outbox.add, actor, ask)
        return json_response(views.referral_request_made(made), status=201)
