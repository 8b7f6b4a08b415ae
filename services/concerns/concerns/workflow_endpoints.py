"""The concerns service's staff workflow entrypoints, an endpoint group of ConcernsService (as
PlatformEndpoints is): the beat's queue, one concern, moves and notes, referral requests. Parse,
call a command or a query, answer."""

from __future__ import annotations

from functools import partial

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

staff_workflow = partial(http, roles=STAFF, tags=["workflow"])
concern_change = partial(staff_workflow, response_schema=ConcernOutput)


class WorkflowEndpoints(EndpointGroup):
    """What officers, supervisors and admins do with concerns."""

    def _answer(self, concern: Concern, audience: str = "staff") -> Response:
        body = queries.concern_answer(self.db, self.settings, self.reference, concern, audience)
        return json_response(body, headers=access.etag(concern.version))

    @http("GET", "/concerns", roles=STAFF, query_schema=ConcernListQuery, tags=["concerns"])
    def list_concerns(self, request: Request) -> Response:
        """Concerns of my beats (officers) or of every beat (supervisors, admins)"""
        args = access.query_args(request, ConcernListQuery())
        actor = self._actor(request)
        found = queries.staff_list(self.db, actor, args, page_request(request.args))
        return json_response(queries.with_notice(self.settings, found))

    @http("GET", "/concerns/<concern_id>", auth="optional", response_schema=ConcernOutput, tags=["concerns"])
    def get_concern(self, request: Request, concern_id: str) -> Response:
        """One concern: staff of its beat, or its reporter (bearer token or X-Receipt-Token)"""
        concern = store.concern(self.db, concern_id)
        audience = access.audience(self.db, concern, request.principal, access.receipt_token(request))
        return self._answer(concern, audience)

    @concern_change(
        "POST",
        "/concerns/<concern_id>/transitions",
        request_schema=TransitionInput,
        conflict="illegal transition or stale version",
    )
    def transition_concern(self, request: Request, concern_id: str) -> Response:
        """Move a concern in its workflow (send If-Match or version)"""
        body = read_json(request, TransitionInput)
        version = access.expected_version(request, body["version"])
        notes = (body["public_note"], body["internal_note"])
        change = commands.Change(Status(body["status"]), version, *notes, merged_into=body["merged_into"])
        return self._answer(
            commands.transition(self.db, self.clock.now(), self.outbox.add, concern_id, self._actor(request), change)
        )

    @concern_change("POST", "/concerns/<concern_id>/notes", request_schema=NoteInput, conflict="stale version")
    def add_note(self, request: Request, concern_id: str) -> Response:
        """Add a public or internal note without changing the status (send If-Match or version)"""
        body = read_json(request, NoteInput)
        version = access.expected_version(request, body["version"])
        note = commands.Note(version, body["public_note"], body["internal_note"])
        return self._answer(
            commands.add_note(self.db, self.clock.now(), self.outbox.add, concern_id, self._actor(request), note)
        )

    @staff_workflow(
        "POST",
        "/referral-requests",
        request_schema=ReferralRequestInput,
        response_schema=ReferralRequestOutput,
        status=201,
    )
    def request_referral(self, request: Request) -> Response:
        """Ask referrals to find help for a resident (their consent recorded by the officer)"""
        body = read_json(request, ReferralRequestInput)
        ask = commands.ReferralAsk(**body)  # the schema's fields are the ask's
        made = commands.request_referral(self.db, self.clock.now(), self.outbox.add, self._actor(request), ask)
        return json_response(views.referral_request_made(made), status=201)
