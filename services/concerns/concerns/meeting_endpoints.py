"""The concerns service's meeting entrypoints, an endpoint group of ConcernsService (as
PlatformEndpoints is): scheduling with a ranked agenda, concluding with agreed actions, and a
beat's actions and priorities. Parse, call a command or a query, answer."""

from __future__ import annotations

from functools import partial

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

staff_meeting = partial(http, roles=STAFF, tags=["meetings"])
public_meeting = partial(http, auth="none", tags=["meetings"])


class MeetingEndpoints(EndpointGroup):
    """Community meetings and activities, what they agree, and a beat's priorities."""

    @staff_meeting(
        "POST", "/beats/<code>/meetings", request_schema=MeetingInput, response_schema=MeetingOutput, status=201
    )
    def schedule_meeting(self, request: Request, code: str) -> Response:
        """Schedule a community meeting or activity (a community meeting gets a ranked agenda)"""
        body = read_json(request, MeetingInput)
        actor = self._actor(request)
        meeting = commands.schedule_meeting(self.db, self.clock.now(), self.outbox.add, actor, code, body)
        return json_response(views.meeting_view(meeting), status=201)

    @staff_meeting("GET", "/beats/<code>/agenda")
    def suggested_agenda(self, request: Request, code: str) -> Response:
        """A suggested agenda: the beat's open concerns ranked by support and age (its officers choose from it)"""
        actor = self._actor(request)
        agenda = commands.suggested_agenda(self.db, self.clock.now(), actor, code)
        # A meeting works the beat's open problems too (issue 26): they come with the suggestion.
        worked = problem_queries.beat_problems(self.db, actor, code, "open")
        return json_response({"beat_code": code, "agenda": agenda, "problems": worked})

    @public_meeting("GET", "/beats/<code>/meetings", query_schema=MeetingsQuery)
    def beat_meetings(self, request: Request, code: str) -> Response:
        """A beat's meetings (when=upcoming|past|all)"""
        when = access.query_args(request, MeetingsQuery())["when"]
        return json_response({"meetings": queries.meetings(self.db, code, when, self.clock.now())})

    @public_meeting("GET", "/meetings/<meeting_id>", response_schema=MeetingOutput)
    def get_meeting(self, request: Request, meeting_id: str) -> Response:
        """A meeting with its agenda and actions"""
        return json_response(queries.meeting(self.db, meeting_id))

    @staff_meeting(
        "POST", "/meetings/<meeting_id>/agenda", conflict="the meeting is concluded: its agenda is part of its record"
    )
    def refresh_agenda(self, request: Request, meeting_id: str) -> Response:
        """Regenerate a scheduled meeting's agenda from today's open concerns"""
        commands.refresh_agenda(self.db, self.clock.now(), self._actor(request), meeting_id)
        return json_response(queries.meeting(self.db, meeting_id))

    @staff_meeting(
        "POST",
        "/meetings/<meeting_id>/conclusion",
        request_schema=ConclusionInput,
        response_schema=MeetingOutput,
        conflict="the meeting is already concluded or cancelled",
    )
    def conclude_meeting(self, request: Request, meeting_id: str) -> Response:
        """Record what a meeting agreed: actions (owner, due date, concerns) and priorities"""
        body = read_json(request, ConclusionInput)
        actor = self._actor(request)
        commands.conclude_meeting(self.db, self.clock.now(), self.outbox.add, actor, meeting_id, body)
        return json_response(queries.meeting(self.db, meeting_id))

    @public_meeting("GET", "/beats/<code>/actions", query_schema=ActionsQuery)
    def beat_actions(self, request: Request, code: str) -> Response:
        """A beat's agreed actions (status=open|done)"""
        status = access.query_args(request, ActionsQuery())["status"]
        return json_response({"actions": queries.actions(self.db, code, status)})

    @staff_meeting("PATCH", "/actions/<action_id>", request_schema=ActionUpdateInput)
    def update_action(self, request: Request, action_id: str) -> Response:
        """Mark an agreed action done (or open)"""
        body = read_json(request, ActionUpdateInput)
        actor = self._actor(request)
        action = commands.update_action(self.db, self.clock.now(), actor, action_id, body["status"])
        return json_response(views.action_view(action))

    @public_meeting("GET", "/beats/<code>/priorities", query_schema=PrioritiesQuery)
    def beat_priorities(self, request: Request, code: str) -> Response:
        """A beat's agreed priorities (period=2026-Q1, else this quarter)"""
        asked = access.query_args(request, PrioritiesQuery())["period"]
        period = asked or commands.current_period(self.clock.now().date())
        return json_response(queries.priorities(self.db, code, period))

    @staff_meeting("PUT", "/beats/<code>/priorities", request_schema=PrioritiesInput)
    def put_priorities(self, request: Request, code: str) -> Response:
        """Set a beat's agreed priorities for a period"""
        body = read_json(request, PrioritiesInput)
        actor = self._actor(request)
        commands.set_beat_priorities(self.db, self.clock.now(), actor, code, body["period"], body["items"])
        return json_response(queries.priorities(self.db, code, body["period"]))
