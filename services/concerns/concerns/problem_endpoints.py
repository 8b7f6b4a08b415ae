"""The concerns service's problem-solving (SARA) and tips entrypoints, an endpoint group of
ConcernsService (as PlatformEndpoints is): parse, call the use case, answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from marshmallow import Schema
from werkzeug.wrappers import Request, Response

from beat_shared.contracts.envelope import CloudEvent
from beat_shared.db import Database
from beat_shared.entrypoints import timer
from beat_shared.http import http, json_response, read_json
from beat_shared.inbox import event_handler
from beat_shared.roles import OFFICERS, STAFF
from concerns import access, problem_commands, problem_queries, tip_commands, tip_queries
from concerns.domain.problems import Stage
from concerns.domain.workflow import Actor
from concerns.endpoint_group import EndpointGroup
from concerns.problem_schemas import (
    AssessmentInput,
    ProblemActionInput,
    ProblemConcernsInput,
    ProblemInput,
    ProblemListQuery,
    ProblemNoteInput,
    ProblemReferralInput,
    ReferralLinkInput,
    StageInput,
    TipInput,
    TipProblemInput,
)
from concerns.settings import Settings

PROBLEM_CONFLICTS = {"409": {"description": "the problem is closed, or not in a stage that allows this"}}
# Who may call each group and where the API reference lists it, said once.
problem_staff = partial(http, roles=STAFF, tags=["problems"])
problem_change = partial(problem_staff, responses=PROBLEM_CONFLICTS)
tip_readers = partial(http, roles=OFFICERS, tags=["tips"])


class ProblemEndpoints(EndpointGroup):
    """Problems worked with SARA (Scanning, Analysis, Response, Assessment) and tips."""

    # --- scanning and problems ----------------------------------------------------------------

    @problem_staff("GET", "/beats/<code>/problem-candidates")
    def problem_candidates(self, request: Request, code: str) -> Response:
        """Candidate problems: repeat places of one kind of concern, ranked by count, support, recency"""
        actor = self._actor(request)
        found = problem_queries.candidates(self.db, self.settings, self.clock.now(), actor, code)
        return json_response({"beat_code": code, "rules": _rules(self.settings), "candidates": found})

    @problem_staff("POST", "/problems", request_schema=ProblemInput, status=201)
    def open_problem(self, request: Request) -> Response:
        """Open a problem from a candidate (its open_with) or by hand, with its concerns"""
        body = read_json(request, ProblemInput)
        actor = self._actor(request)
        problem = problem_commands.open_problem(self.db, self.clock.now(), self.outbox.add, actor, body)
        view = problem_queries.workspace(self.db, self.settings, self.clock.now(), actor, problem.id)
        return json_response(view, status=201, headers={"Location": f"/problems/{problem.id}"})

    @problem_staff("GET", "/beats/<code>/problems", query_schema=ProblemListQuery)
    def beat_problems(self, request: Request, code: str) -> Response:
        """A beat's problems (stage=open, or one stage)"""
        args = access.query_args(request, ProblemListQuery())
        actor = self._actor(request)
        return json_response({"problems": problem_queries.beat_problems(self.db, actor, code, args["stage"])})

    @problem_staff("GET", "/problems/<problem_id>")
    def get_problem(self, request: Request, problem_id: str) -> Response:
        """A problem's workspace: evidence, linked concerns, analysis notes, response plan, assessment"""
        return self._workspace(request, problem_id)

    def _workspace(self, request: Request, problem_id: str, status: int = 200) -> Response:
        actor = self._actor(request)
        view = problem_queries.workspace(self.db, self.settings, self.clock.now(), actor, problem_id)
        return json_response(view, status=status)

    def _changed(
        self,
        request: Request,
        problem_id: str,
        schema: type[Schema],
        change: Callable[[Actor, dict[str, Any]], Any],
        status: int = 200,
    ) -> Response:
        """Read the body, make the change as the signed-in member of staff, answer the workspace."""
        body = read_json(request, schema)
        change(self._actor(request), body)
        return self._workspace(request, problem_id, status)

    def _added(
        self,
        request: Request,
        problem_id: str,
        schema: type[Schema],
        add: Callable[[Database, datetime, Actor, str, dict[str, Any]], Any],
        view: Callable[[Any], dict[str, Any]],
    ) -> Response:
        """Read the body, add it to the problem (a note, an action) and answer what was added (201)."""
        made = add(self.db, self.clock.now(), self._actor(request), problem_id, read_json(request, schema))
        return json_response(view(made), status=201)

    @problem_change("POST", "/problems/<problem_id>/concerns", request_schema=ProblemConcernsInput)
    def link_problem_concerns(self, request: Request, problem_id: str) -> Response:
        """Link concerns of the problem's beat to it"""

        def link(actor: Actor, body: dict[str, Any]) -> Any:
            ids, tell = body["concern_ids"], body["tell_reporters"]
            return problem_commands.link_concerns(
                self.db, self.clock.now(), self.outbox.add, actor, problem_id, ids, tell
            )

        return self._changed(request, problem_id, ProblemConcernsInput, link)

    @problem_change("POST", "/problems/<problem_id>/stage", request_schema=StageInput)
    def move_problem(self, request: Request, problem_id: str) -> Response:
        """Move a problem to another SARA stage (closing is the assessment's)"""

        def move(actor: Actor, body: dict[str, Any]) -> Any:
            stage = Stage(body["stage"])
            return problem_commands.move(self.db, self.clock.now(), self.outbox.add, actor, problem_id, stage)

        return self._changed(request, problem_id, StageInput, move)

    @problem_change("POST", "/problems/<problem_id>/notes", request_schema=ProblemNoteInput, status=201)
    def add_problem_note(self, request: Request, problem_id: str) -> Response:
        """Add an analysis note: place, offender, victim (the triangle) or other (who else is involved)"""
        return self._added(request, problem_id, ProblemNoteInput, problem_commands.add_note, problem_queries.note_view)

    @problem_change("POST", "/problems/<problem_id>/actions", request_schema=ProblemActionInput, status=201)
    def add_problem_action(self, request: Request, problem_id: str) -> Response:
        """Add an action to the response plan, or attach one a meeting agreed (agreed_action_id)"""
        add, view = problem_commands.add_action, problem_queries.action_view
        return self._added(request, problem_id, ProblemActionInput, add, view)

    @problem_change("POST", "/problems/<problem_id>/referrals", request_schema=ReferralLinkInput)
    def link_problem_referral(self, request: Request, problem_id: str) -> Response:
        """Link a referral made for the problem (its id in the referrals service)"""

        def link(actor: Actor, body: dict[str, Any]) -> Any:
            return problem_commands.link_referral(self.db, actor, problem_id, body["referral_id"])

        return self._changed(request, problem_id, ReferralLinkInput, link)

    @problem_change("POST", "/problems/<problem_id>/referral-requests", request_schema=ProblemReferralInput, status=201)
    def request_problem_referral(self, request: Request, problem_id: str) -> Response:
        """Ask referrals to find help for someone for the problem (consent recorded); the referral joins it"""

        def ask(actor: Actor, body: dict[str, Any]) -> Any:
            return problem_commands.request_referral(
                self.db, self.clock.now(), self.outbox.add, actor, problem_id, body
            )

        return self._changed(request, problem_id, ProblemReferralInput, ask, status=201)

    @event_handler("referrals", "beat.referral.created")
    def on_referral_created(self, event: CloudEvent) -> None:
        """A referral was drafted: one asked for a problem joins the problem (its request says which)."""
        problem_commands.referral_created(self.db, event.data.get("request_id"), event.data["referral_id"])

    @problem_staff(
        "GET",
        "/problems/<problem_id>/assessment",
        conflict="the response has not ended, or less than a week has passed since",
    )
    def preview_problem_assessment(self, request: Request, problem_id: str) -> Response:
        """Before/after figures and the significance test, as they stand today (nothing is kept)"""
        actor = self._actor(request)
        return json_response(
            problem_queries.preview_assessment(self.db, self.settings, self.clock.now(), actor, problem_id)
        )

    @problem_change("POST", "/problems/<problem_id>/assessment", request_schema=AssessmentInput)
    def assess_problem(self, request: Request, problem_id: str) -> Response:
        """Close a problem in assessment with its outcome; the figures are kept as its evidence"""

        def close(actor: Actor, body: dict[str, Any]) -> Any:
            now, outcome = self.clock.now(), body["outcome"]
            return problem_commands.close_with_assessment(
                self.db, self.settings, now, self.outbox.add, actor, problem_id, outcome
            )

        return self._changed(request, problem_id, AssessmentInput, close)

    @http("GET", "/public/problems/<problem_id>", auth="none", tags=["public"])
    def public_problem(self, request: Request, problem_id: str) -> Response:
        """A problem's public page: stage, area (rounded), plan, outcome and figures; no personal data"""
        return json_response(problem_queries.public_problem(self.db, problem_id))

    # --- tips ---------------------------------------------------------------------------------

    @http("GET", "/tips/notice", auth="none", tags=["tips"])
    def tip_notice(self, request: Request) -> Response:
        """The notice of the tip form (language=en|es)"""
        language = request.args.get("language") or "en"
        return json_response({"notice": self.settings.tip_notice(language)})

    @http(
        "POST",
        "/tips",
        auth="optional",
        request_schema=TipInput,
        status=201,
        responses={"429": {"description": "too many submissions from this address or person"}},
        tags=["tips"],
    )
    def give_tip(self, request: Request) -> Response:
        """Pass information to a beat's officers: never published; no address or device kept"""
        now = self.clock.now()
        principal = request.principal
        self.limiter.check(request.remote_addr, principal and f"subject:{principal.subject}", now)
        body = read_json(request, TipInput)
        tip = tip_commands.receive(self.db, self.settings, now, body)
        answer = {"received": True, "beat_code": tip.beat_code, "notice": self.settings.tip_notice(tip.language)}
        return json_response(answer, status=201)

    @tip_readers("GET", "/beats/<code>/tips")
    def beat_tips(self, request: Request, code: str) -> Response:
        """A beat's tips, newest first (its officers and supervisors; every read is logged)"""
        actor = self._actor(request)
        return json_response({"tips": tip_queries.beat_tips(self.db, self.clock.now(), actor, code)})

    @tip_readers("GET", "/tips/<tip_id>")
    def get_tip(self, request: Request, tip_id: str) -> Response:
        """One tip (its beat's officers and supervisors; the read is logged)"""
        actor = self._actor(request)
        return json_response(tip_queries.read(self.db, self.clock.now(), actor, tip_id))

    @tip_readers("PUT", "/tips/<tip_id>/problem", request_schema=TipProblemInput)
    def link_tip(self, request: Request, tip_id: str) -> Response:
        """Link a tip to a problem of its beat (problem_id null unlinks)"""
        body = read_json(request, TipProblemInput)
        actor = self._actor(request)
        return json_response(tip_commands.link_problem(self.db, self.clock.now(), actor, tip_id, body["problem_id"]))

    @http("GET", "/tips/<tip_id>/reads", roles=("supervisor",), tags=["tips"])
    def tip_reads(self, request: Request, tip_id: str) -> Response:
        """Who read a tip and when (supervisors; kept after the tip is erased)"""
        actor = self._actor(request)
        return json_response({"tip_id": tip_id, "reads": tip_queries.reads(self.db, actor, tip_id)})

    @timer(interval=3600)
    def erase_expired_tips(self) -> int:
        """Erase tips past CONCERNS_TIP_RETENTION_DAYS (hourly)."""
        return tip_commands.erase_expired(self.db, self.clock.now())


def _rules(settings: Settings) -> dict[str, Any]:
    rules = settings.scan_rules
    return {"metres": rules.metres, "days": rules.days, "min_concerns": rules.min_concerns}
