"""The concerns service's meeting entrypoints, an endpoint group of ConcernsService (as
PlatformEndpoints is): scheduling with a ranked agenda, concluding with agreed actions, and a
beat's actions and priorities. Parse, call a command or a query, answer."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from beat_shared.http import http, json_response, read_json
from beat_shared.roles import STAFF
from concerns import access, commands, problem_queries, queries, views
from concerns.endpoint_group import EndpointGroup
from concerns.schemas import (
    ActionsQuery,
    ActionUpdateInput,
    ConclusionInput,
    MeetingInput,
    MeetingOutput,
    MeetingsQuery,
    PrioritiesInput,
    PrioritiesQuery,
)


class MeetingEndpoints(EndpointGroup):
    """Community meetings and activities, what they agree, and a beat's priorities."""

    @http(
        "POST",
        "/beats/<code>/meetings",
        roles=STAFF,
        summary="Schedule a community meeting or activity (a community meeting gets a ranked agenda)",
        request_schema=MeetingInput,
        response_schema=MeetingOutput,
        status=201,
        tags=["meetings"],
    )
    def schedule_meeting(self, request: Request, code: str) -> Response:
        body = read_json(request, MeetingInput)
        actor = self._actor(request)
        meeting = commands.schedule_meeting(self.db, self.clock.now(), self.outbox.add, actor, code, body)
        return json_response(views.meeting_view(meeting), status=201)

    @http(
        "GET",
        "/beats/<code>/agenda",
        roles=STAFF,
        summary="A suggested agenda: the beat's open concerns ranked by support and age (its officers choose from it)",
        tags=["meetings"],
    )
    def suggested_agenda(self, request: Request, code: str) -> Response:
        actor = self._actor(request)
        agenda = commands.suggested_agenda(self.db, self.clock.now(), actor, code)
        # A meeting works the beat's open problems too (issue 26): they come with the suggestion.
        worked = problem_queries.beat_problems(self.db, actor, code, "open")
        return json_response({"beat_code": code, "agenda": agenda, "problems": worked})

    @http(
        "GET",
        "/beats/<code>/meetings",
        auth="none",
        summary="A beat's meetings (when=upcoming|past|all)",
        query_schema=MeetingsQuery,
        tags=["meetings"],
    )
    def beat_meetings(self, request: Request, code: str) -> Response:
        when = access.query_args(request, MeetingsQuery())["when"]
        return json_response({"meetings": queries.meetings(self.db, code, when, self.clock.now())})

    @http(
        "GET",
        "/meetings/<meeting_id>",
        auth="none",
        summary="A meeting with its agenda and actions",
        response_schema=MeetingOutput,
        tags=["meetings"],
    )
    def get_meeting(self, request: Request, meeting_id: str) -> Response:
        return json_response(queries.meeting(self.db, meeting_id))

    @http(
        "POST",
        "/meetings/<meeting_id>/agenda",
        roles=STAFF,
        summary="Regenerate a scheduled meeting's agenda from today's open concerns",
        tags=["meetings"],
        responses={"409": {"description": "the meeting is concluded: its agenda is part of its record"}},
    )
    def refresh_agenda(self, request: Request, meeting_id: str) -> Response:
        commands.refresh_agenda(self.db, self.clock.now(), self._actor(request), meeting_id)
        return json_response(queries.meeting(self.db, meeting_id))

    @http(
        "POST",
        "/meetings/<meeting_id>/conclusion",
        roles=STAFF,
        summary="Record what a meeting agreed: actions (owner, due date, concerns) and priorities",
        request_schema=ConclusionInput,
        response_schema=MeetingOutput,
        tags=["meetings"],
        responses={"409": {"description": "the meeting is already concluded or cancelled"}},
    )
    def conclude_meeting(self, request: Request, meeting_id: str) -> Response:
        body = read_json(request, ConclusionInput)
        actor = self._actor(request)
        commands.conclude_meeting(self.db, self.clock.now(), self.outbox.add, actor, meeting_id, body)
        return json_response(queries.meeting(self.db, meeting_id))

    @http(
        "GET",
        "/beats/<code>/actions",
        auth="none",
        summary="A beat's agreed actions (status=open|done)",
        query_schema=ActionsQuery,
        tags=["meetings"],
    )
    def beat_actions(self, request: Request, code: str) -> Response:
        status = access.query_args(request, ActionsQuery())["status"]
        return json_response({"actions": queries.actions(self.db, code, status)})

    @http(
        "PATCH",
        "/actions/<action_id>",
        roles=STAFF,
        summary="Mark an agreed action done (or open)",
        request_schema=ActionUpdateInput,
        tags=["meetings"],
    )
    def update_action(self, request: Request, action_id: str) -> Response:
        body = read_json(request, ActionUpdateInput)
        actor = self._actor(request)
        action = commands.update_action(self.db, self.clock.now(), actor, action_id, body["status"])
        return json_response(views.action_view(action))

    @http(
        "GET",
        "/beats/<code>/priorities",
        auth="none",
        summary="A beat's agreed priorities (period=2026-Q1, else this quarter)",
        query_schema=PrioritiesQuery,
        tags=["meetings"],
    )
    def beat_priorities(self, request: Request, code: str) -> Response:
        asked = access.query_args(request, PrioritiesQuery())["period"]
        period = asked or commands.current_period(self.clock.now().date())
        return json_response(queries.priorities(self.db, code, period))

    @http(
        "PUT",
        "/beats/<code>/priorities",
        roles=STAFF,
        summary="Set a beat's agreed priorities for a period",
        request_schema=PrioritiesInput,
        tags=["meetings"],
    )
    def put_priorities(self, request: Request, code: str) -> Response:
        body = read_json(request, PrioritiesInput)
        actor = self._actor(request)
        commands.set_beat_priorities(self.db, self.clock.now(), actor, code, body["period"], body["items"])
        return json_response(queries.priorities(self.db, code, body["period"]))
