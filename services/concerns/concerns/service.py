"""The concerns service's entrypoints (thin: parse, call the domain, answer)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from werkzeug.wrappers import Request, Response

from beat_shared import idempotency
from beat_shared.clock import ClockProvider, utc_iso
from beat_shared.contracts.envelope import CloudEvent
from beat_shared.db import Database
from beat_shared.entrypoints import rpc, timer
from beat_shared.errors import InvalidInput, NotFound, PermissionDenied
from beat_shared.fields import schema_instance
from beat_shared.http import http, json_response, page_request, read_json, read_json_object
from beat_shared.inbox import event_handler
from beat_shared.metrics import exposition
from beat_shared.outbox import Outbox
from beat_shared.platform import PlatformEndpoints
from beat_shared.roles import ADMINS, MANAGERS, STAFF
from concerns import access, commands, open311, problems, queries, store, views
from concerns import metrics as service_metrics
from concerns.dependencies import ConcernsSettings, RateLimiter, ReferenceData
from concerns.domain.categories import patched_definition
from concerns.domain.translations import served_language
from concerns.domain.workflow import Status
from concerns.models import IDEMPOTENCY_KEYS, Base, Beat, Category, Concern, ConcernUpdate, Officer, ReferralRequest
from concerns.open311 import open311_http
from concerns.problem_endpoints import ProblemEndpoints
from concerns.schemas import (
    ActionUpdateInput,
    AssignmentInput,
    BeatPageOutput,
    CategoryInput,
    CategoryOutput,
    CategoryQuery,
    ConcernInput,
    ConcernListQuery,
    ConcernOutput,
    ConclusionInput,
    MeetingInput,
    MeetingOutput,
    NoteInput,
    OfficerInput,
    OfficerOutput,
    PrioritiesInput,
    PublicListQuery,
    ReferralRequestInput,
    ReferralRequestOutput,
    SimilarOutput,
    SimilarQuery,
    SubmittedOutput,
    SupportOutput,
    TransitionInput,
    WithdrawInput,
)


class ConcernsService(ProblemEndpoints, PlatformEndpoints):
    """Residents voice neighbourhood concerns, officers respond and report back, and both meet
    to agree on priorities. Also an Open311 GeoReport v2 server at /open311/v2/."""

    name = "concerns"
    # The HTTP API's version (semantic): 1.1 documents the public view of each possible duplicate.
    api_version = "1.1.0"

    db = Database(Base.metadata)
    outbox = Outbox()
    clock = ClockProvider()
    settings = ConcernsSettings()
    limiter = RateLimiter()
    reference = ReferenceData()

    # --- helpers (not entrypoints) -------------------------------------------------------

    def _category(self, code: str) -> Category:
        category = self.reference.any_category(self.db, code)
        assert category is not None
        return category

    def _view(self, concern: Concern, audience: str, history: list[ConcernUpdate] | None = None) -> dict[str, Any]:
        """The concern for its audience; `history` when the caller already has it (saves a query)."""
        category = self._category(concern.category_code)
        history = store.updates(self.db, concern.id) if history is None else history
        render = views.concern_staff if audience == "staff" else views.concern_resident
        body = {
            **render(concern, category, history),
            "service_notice": self._concern_notice(concern, category),
        }
        if audience == "staff":
            requests = store.referral_requests_of(self.db, concern.id)
            body["referral_requests"] = [views.referral_request_view(made) for made in requests]
        return body

    def _concern_notice(self, concern: Concern, category: Category) -> str:
        """The notice in the reporter's language; a concern in no beat is promised a supervisor."""
        return self.settings.notice(category.acknowledge_hours, concern.language, concern.beat_code is not None)

    def _notice(self, body: dict[str, Any]) -> dict[str, Any]:
        return {**body, "service_notice": self.settings.notice()}

    # --- submitting ----------------------------------------------------------------------

    @http(
        "POST",
        "/concerns",
        auth="optional",
        summary="Voice a concern (anonymously, or with contact details)",
        request_schema=ConcernInput,
        response_schema=SubmittedOutput,
        status=201,
        tags=["concerns"],
        headers=idempotency.HEADER_DOC,
        responses=idempotency.RESPONSES_DOC,
    )
    def submit_concern(self, request: Request) -> Response:
        """Anyone may submit; a resident token links the concern to the resident. The answer
        carries a receipt token (shown once) that reads and withdraws this one concern, and
        likely duplicates nearby that the resident may want to support instead."""
        now = self.clock.now()
        principal = request.principal
        self.limiter.check(request.remote_addr, principal and f"subject:{principal.subject}", now)
        body = read_json(request, ConcernInput)
        contact = body["contact"] or {}
        submission = commands.Submission(
            category=body["category"],
            description=body["description"],
            lat=body["location"]["lat"],
            long=body["location"]["long"],
            address=body["location"]["address"],
            media_url=body["media_url"],
            attributes=body["attributes"],
            language=body["language"],
            name=contact.get("name"),
            email=contact.get("email"),
            phone=contact.get("phone"),
            contact_preference=contact.get("preference"),
            reporter_subject=principal.subject if principal and principal.role == "resident" else None,
        )
        claimed = idempotency.claim_request(self.db, IDEMPOTENCY_KEYS, request, body, now)
        if claimed is not None and claimed.resource_id is not None:
            return self._replayed_submission(claimed.resource_id)
        result = commands.submit(self.db, self.settings, now, self.outbox.add, submission, self.reference)
        if claimed is not None:
            idempotency.remember(self.db, IDEMPOTENCY_KEYS, claimed, result.concern.id)
        notice = self._concern_notice(result.concern, result.category)
        return json_response(
            {
                "concern": self._view(result.concern, "resident", result.history),
                "receipt_token": result.receipt_token,
                "possible_duplicates": queries.suggestions_view(self.db, result.duplicates, result.duplicate_concerns),
                "problems": result.joined_problems,
                "service_notice": notice,
            },
            status=201,
            headers={**access.etag(result.concern.version), "Location": f"/concerns/{result.concern.id}"},
        )

    def _replayed_submission(self, concern_id: str) -> Response:
        """The answer to a retried submission: its concern as it is now, with a new receipt token
        (only token hashes are stored, so the first one cannot be shown again; it stops working)."""
        concern, token = commands.reissue_receipt(self.db, concern_id)
        category = self._category(concern.category_code)
        return json_response(
            {
                "concern": self._view(concern, "resident"),
                "receipt_token": token,
                "possible_duplicates": [],
                "problems": [],
                "service_notice": self._concern_notice(concern, category),
            },
            status=201,
            headers={
                **access.etag(concern.version),
                "Location": f"/concerns/{concern.id}",
                idempotency.REPLAYED_HEADER: "true",
            },
        )

    @http(
        "GET",
        "/concerns/similar",
        auth="none",
        summary="Likely duplicates of a concern about to be submitted",
        query_schema=SimilarQuery,
        response_schema=SimilarOutput,
        tags=["concerns"],
    )
    def similar_concerns(self, request: Request) -> Response:
        args = access.query_args(request, SimilarQuery())
        found = queries.similar(self.db, self.settings, args["category"], args["lat"], args["long"], self.clock.now())
        return json_response(self._notice({"possible_duplicates": found}))

    # --- reading concerns ----------------------------------------------------------------

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
        actor = access.actor_for(self.db, request.principal)
        page = page_request(request.args)
        return json_response(self._notice(queries.staff_list(self.db, actor, args, page)))

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
        return json_response(self._view(concern, audience), headers=access.etag(concern.version))

    @http(
        "GET",
        "/receipts/<token>",
        auth="none",
        summary="The one concern a receipt token belongs to",
        response_schema=ConcernOutput,
        tags=["concerns"],
    )
    def get_receipt(self, request: Request, token: str) -> Response:
        concern = store.concern_by_receipt(self.db, token)
        if concern is None:
            raise NotFound("no concern has this receipt token")
        return json_response(self._view(concern, "resident"), headers=access.etag(concern.version))

    @http("GET", "/me/concerns", roles=("resident",), summary="My concerns and those I support", tags=["concerns"])
    def my_concerns(self, request: Request) -> Response:
        page = page_request(request.args)
        return json_response(self._notice(queries.resident_list(self.db, request.principal.subject, page)))

    # --- the workflow --------------------------------------------------------------------

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
        actor = access.actor_for(self.db, request.principal)
        concern = commands.transition(self.db, self.clock.now(), self.outbox.add, concern_id, actor, change)
        return json_response(self._view(concern, "staff"), headers=access.etag(concern.version))

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
        actor = access.actor_for(self.db, request.principal)
        concern = commands.add_note(self.db, self.clock.now(), self.outbox.add, concern_id, actor, note)
        return json_response(self._view(concern, "staff"), headers=access.etag(concern.version))

    @http(
        "POST",
        "/concerns/<concern_id>/withdraw",
        auth="optional",
        summary="Withdraw my concern (its reporter, by bearer token or X-Receipt-Token)",
        request_schema=WithdrawInput,
        response_schema=ConcernOutput,
        tags=["workflow"],
        responses={"409": {"description": "the concern can no longer be withdrawn, or the version is stale"}},
    )
    def withdraw_concern(self, request: Request, concern_id: str) -> Response:
        body = read_json(request, WithdrawInput) if request.get_data(cache=True) else {"version": None}
        concern = store.concern(self.db, concern_id)
        actor = access.reporter_actor(concern, request.principal, access.receipt_token(request))
        # The reporter is the only writer besides staff; a missing version means "the current one".
        version = access.expected_version(request, body.get("version")) or concern.version
        change = commands.Change(Status.WITHDRAWN, version, public_note=body.get("public_note"))
        concern = commands.transition(self.db, self.clock.now(), self.outbox.add, concern_id, actor, change)
        return json_response(self._view(concern, "resident"), headers=access.etag(concern.version))

    @http(
        "POST",
        "/concerns/<concern_id>/support",
        auth="optional",
        summary='"Me too": add my support (counted once per resident or token)',
        response_schema=SupportOutput,
        tags=["concerns"],
        responses={
            "409": {"description": "the concern is closed and no longer takes support"},
            "429": {"description": 'an anonymous "me too" without a token from this address was already counted'},
        },
    )
    def support_concern(self, request: Request, concern_id: str) -> Response:
        """Residents sign in or send a token in X-Receipt-Token (a receipt token, or the
        supporter token an earlier anonymous "me too" returned); without either, a new
        supporter token is issued so the same person is counted once next time."""
        principal, token = request.principal, access.receipt_token(request)
        if principal is not None and principal.role != "resident":
            raise PermissionDenied('"me too" is for residents')
        issued = None
        if principal is not None:
            key = f"subject:{principal.subject}"
        elif token is not None:
            if not access.known_token(self.db, token):
                raise PermissionDenied("this token is not one we issued")
            key = f"token:{store.token_hash(token)}"
        else:
            issued = commands.new_token()
            key = f"token:{store.token_hash(issued)}"
        now = self.clock.now()
        self.limiter.check(request.remote_addr, key, now)
        if issued is not None:
            self.limiter.check_anonymous_support(request.remote_addr, concern_id, now)
        concern, counted = commands.support(self.db, now, self.outbox.add, concern_id, key)
        body = {"concern_id": concern.id, "supporters": concern.supporters, "counted": counted}
        return json_response(self._notice({**body, "supporter_token": issued if counted else None}))

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
        actor = access.actor_for(self.db, request.principal)
        made = commands.request_referral(self.db, self.clock.now(), self.outbox.add, actor, ask)
        return json_response(
            {
                "request_id": made.id,
                "concern_id": made.concern_id,
                "beat_code": made.beat_code,
                "need_category": made.need_category,
                "urgency": made.urgency,
                "created_at": utc_iso(made.created_at),
            },
            status=201,
        )

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

    # --- the public ----------------------------------------------------------------------

    @http(
        "GET",
        "/public/concerns",
        auth="none",
        summary="Public list: no personal data, locations rounded to ~100 m, public notes only",
        query_schema=PublicListQuery,
        tags=["public"],
    )
    def public_concerns(self, request: Request) -> Response:
        args = access.query_args(request, PublicListQuery())
        return json_response(self._notice(queries.public_list(self.db, args, page_request(request.args))))

    @http(
        "GET",
        "/public/concerns.geojson",
        auth="none",
        summary="Public map feed (GeoJSON points rounded to ~100 m)",
        query_schema=PublicListQuery,
        tags=["public"],
    )
    def public_map(self, request: Request) -> Response:
        args = access.query_args(request, PublicListQuery())
        body = json_response(queries.public_map(self.db, args))
        body.mimetype = "application/geo+json"
        return body

    @http(
        "GET",
        "/public/concerns/<concern_id>",
        auth="none",
        summary="One concern's public view and its public updates",
        response_schema=ConcernOutput,
        tags=["public"],
    )
    def public_concern(self, request: Request, concern_id: str) -> Response:
        return json_response(self._notice(queries.public_concern(self.db, concern_id)))

    # --- categories ----------------------------------------------------------------------

    @http(
        "GET",
        "/categories",
        auth="none",
        summary="The categories of concern, in the language asked for (lang, else Accept-Language)",
        query_schema=CategoryQuery,
        tags=["categories"],
    )
    def list_categories(self, request: Request) -> Response:
        rows = self.db.scalars(
            select(Category).where(Category.active.is_(True)).order_by(Category.group, Category.name)
        )
        return json_response({"categories": [self._category_in_language(request, row) for row in rows]})

    @http(
        "GET",
        "/categories/<code>",
        auth="none",
        summary="One category with its attributes, in the language asked for (lang, else Accept-Language)",
        query_schema=CategoryQuery,
        response_schema=CategoryOutput,
        tags=["categories"],
    )
    def get_category(self, request: Request, code: str) -> Response:
        category = self.db.get(Category, code)
        if category is None:
            raise NotFound(f"category {code} does not exist")
        return json_response(self._category_in_language(request, category))

    def _category_in_language(self, request: Request, category: Category) -> dict[str, Any]:
        asked = access.query_args(request, CategoryQuery())["lang"]
        language = served_language(category.translations or {}, asked, request.headers.get("Accept-Language"))
        return views.category_view(category, language)

    @http(
        "PUT",
        "/categories/<code>",
        roles=ADMINS,
        summary="Create or replace a category (Open311 service definition)",
        request_schema=CategoryInput,
        response_schema=CategoryOutput,
        tags=["categories"],
    )
    def put_category(self, request: Request, code: str) -> Response:
        raw = read_json_object(request)
        if raw.setdefault("code", code) != code:
            raise InvalidInput("the body's code differs from the path's", {"code": ["must match the path"]})
        body = schema_instance(CategoryInput).load(raw)
        return json_response(views.category_view(commands.save_category(self.db, self.clock.now(), body)))

    @http(
        "PATCH",
        "/categories/<code>",
        roles=ADMINS,
        summary="Change part of a category: a JSON Merge Patch (RFC 7396) of its definition; null removes a field",
        request_schema=CategoryInput,
        response_schema=CategoryOutput,
        tags=["categories"],
    )
    def patch_category(self, request: Request, code: str) -> Response:
        patch = read_json_object(request)
        if patch.get("code", code) != code:
            raise InvalidInput("the body's code differs from the path's", {"code": ["must match the path"]})
        category = self.db.get(Category, code)
        if category is None:
            raise NotFound(f"category {code} does not exist")
        merged = patched_definition(views.category_view(category), patch)
        body = schema_instance(CategoryInput).load({**merged, "code": code})  # checked as a PUT's body is
        return json_response(views.category_view(commands.save_category(self.db, self.clock.now(), body)))

    # --- beats and officers --------------------------------------------------------------

    @http("GET", "/beats", auth="none", summary="The beats", tags=["beats"])
    def list_beats(self, request: Request) -> Response:
        return json_response({"beats": [views.beat_view(beat) for beat in queries.beats(self.db)]})

    @http("GET", "/beats.geojson", auth="none", summary="Beat boundaries as GeoJSON", tags=["beats"])
    def beats_geojson(self, request: Request) -> Response:
        features = [views.beat_feature(beat) for beat in queries.beats(self.db)]
        body = json_response({"type": "FeatureCollection", "features": features})
        body.mimetype = "application/geo+json"
        return body

    @http(
        "POST",
        "/beats/import",
        roles=ADMINS,
        summary="Import beat boundaries from a GeoJSON FeatureCollection (properties code, name)",
        tags=["beats"],
        responses={"415": {"description": "the body is not declared as JSON (send Content-Type: application/json)"}},
    )
    def import_beats(self, request: Request) -> Response:
        return json_response(commands.import_beats(self.db, self.clock.now(), read_json_object(request)))

    @http(
        "GET",
        "/beats/<code>",
        auth="none",
        summary="The beat page: officers, upcoming meetings, top open concerns, recently resolved",
        response_schema=BeatPageOutput,
        tags=["beats"],
    )
    def beat_page(self, request: Request, code: str) -> Response:
        return json_response(queries.beat_page(self.db, self.settings, code, self.clock.now()))

    @http(
        "GET",
        "/me/beats",
        roles=STAFF,
        summary="The beats I work: an officer's assigned beats; every beat for supervisors and admins",
        tags=["beats"],
    )
    def my_beats(self, request: Request) -> Response:
        actor = access.actor_for(self.db, request.principal)
        mine = [views.beat_view(beat) for beat in queries.beats(self.db) if actor.may_manage(beat.code)]
        return json_response({"beats": mine})

    @http(
        "PUT",
        "/officers/<subject>",
        roles=MANAGERS,
        summary="Create or update an officer's public profile",
        request_schema=OfficerInput,
        response_schema=OfficerOutput,
        tags=["beats"],
    )
    def put_officer(self, request: Request, subject: str) -> Response:
        raw = read_json_object(request)
        if raw.setdefault("subject", subject) != subject:
            raise InvalidInput("the body's subject differs from the path's", {"subject": ["must match the path"]})
        officer = commands.save_officer(self.db, schema_instance(OfficerInput).load(raw))
        return json_response(views.officer_public(officer))

    @http(
        "POST",
        "/beats/<code>/officers",
        roles=MANAGERS,
        summary="Assign an officer (or supervisor) to a beat",
        request_schema=AssignmentInput,
        status=201,
        tags=["beats"],
    )
    def assign_officer(self, request: Request, code: str) -> Response:
        body = read_json(request, AssignmentInput)
        commands.assign(self.db, self.clock.now(), code, body["subject"])
        officers = [views.officer_public(officer) for officer in store.beat_officers(self.db, code)]
        return json_response({"beat_code": code, "officers": officers}, status=201)

    @http("DELETE", "/beats/<code>/officers/<subject>", roles=MANAGERS, summary="Unassign", status=204, tags=["beats"])
    def unassign_officer(self, request: Request, code: str, subject: str) -> Response:
        commands.unassign(self.db, code, subject)
        return Response(status=204)

    # --- meetings, actions, priorities ---------------------------------------------------

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
        actor = access.actor_for(self.db, request.principal)
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
        actor = access.actor_for(self.db, request.principal)
        agenda = commands.suggested_agenda(self.db, self.clock.now(), actor, code)
        # A meeting works the beat's open problems too (issue 26): they come with the suggestion.
        worked = problems.beat_problems(self.db, actor, code, "open")
        return json_response({"beat_code": code, "agenda": agenda, "problems": worked})

    @http(
        "GET",
        "/beats/<code>/meetings",
        auth="none",
        summary="A beat's meetings (when=upcoming|past|all)",
        tags=["meetings"],
    )
    def beat_meetings(self, request: Request, code: str) -> Response:
        when = request.args.get("when") or "upcoming"
        if when not in ("upcoming", "past", "all"):
            raise InvalidInput("when is upcoming, past or all", {"when": ["upcoming, past or all"]})
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
        actor = access.actor_for(self.db, request.principal)
        commands.refresh_agenda(self.db, self.clock.now(), actor, meeting_id)
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
        actor = access.actor_for(self.db, request.principal)
        commands.conclude_meeting(self.db, self.clock.now(), self.outbox.add, actor, meeting_id, body)
        return json_response(queries.meeting(self.db, meeting_id))

    @http(
        "GET",
        "/beats/<code>/actions",
        auth="none",
        summary="A beat's agreed actions (status=open|done)",
        tags=["meetings"],
    )
    def beat_actions(self, request: Request, code: str) -> Response:
        status = request.args.get("status") or None
        if status not in (None, "open", "done"):
            raise InvalidInput("status is open or done", {"status": ["open or done"]})
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
        actor = access.actor_for(self.db, request.principal)
        action = commands.update_action(self.db, self.clock.now(), actor, action_id, body["status"])
        return json_response(views.action_view(action))

    @http(
        "GET",
        "/beats/<code>/priorities",
        auth="none",
        summary="A beat's agreed priorities (period=2026-Q1)",
        tags=["meetings"],
    )
    def beat_priorities(self, request: Request, code: str) -> Response:
        period = request.args.get("period") or commands.current_period(self.clock.now().date())
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
        actor = access.actor_for(self.db, request.principal)
        if not actor.may_manage(code):
            raise PermissionDenied("only officers of this beat (or supervisors) may set its priorities")
        commands.set_priorities(self.db, self.clock.now(), code, body["period"], body["items"], None)
        return json_response(queries.priorities(self.db, code, body["period"]))

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
        return self.db.get(Beat, beat_code) is not None

    @rpc(read_only=True)
    def beat_contacts(self, beat_code: str) -> dict[str, list[dict[str, Any]]]:
        """The officers and supervisors assigned to a beat, with their work contact details."""
        people = store.beat_officers(self.db, beat_code)

        def card(officer: Officer) -> dict[str, Any]:
            return {"subject": officer.subject, "name": officer.name, "email": officer.email, "phone": officer.phone}

        return {
            "officers": [card(person) for person in people if person.role == "officer"],
            "supervisors": [card(person) for person in people if person.role == "supervisor"],
        }

    @rpc(read_only=True)
    def beat_map(self, known_version: int | None = None) -> dict[str, Any] | None:
        """Concerns is the single source of beats: `{version, beats: [{code, name, boundary}]}` for
        referrals' copy (it matches services by the same polygons), None when `known_version` is current."""
        return store.beat_map(self.db, known_version)

    @rpc(read_only=True)
    def referral_client(self, request_id: str) -> dict[str, Any] | None:
        """The client and consent of a referral request (referrals, after beat.referral.requested)."""
        found = self.db.get(ReferralRequest, request_id)
        if found is None:
            return None
        return {
            "request_id": found.id,
            "concern_id": found.concern_id,
            "name": found.client_name,
            "phone": found.client_phone,
            "email": found.client_email,
            "language": found.client_language,
            "notes": found.notes,
            "consent": {
                "given_by": found.consent_given_by,
                "given_at": utc_iso(found.consent_given_at),
                "method": found.consent_method,
                "scope": found.consent_scope,
                "valid_until": utc_iso(found.consent_valid_until) if found.consent_valid_until else None,
            },
        }

    # --- Open311 GeoReport v2 ------------------------------------------------------------

    def _fmt(self, request: Request, fmt: str) -> str:
        if fmt not in open311.FORMATS:
            raise NotFound(f"format {fmt!r} is not served; use .xml or .json")
        return open311.response_format(request, fmt)

    @open311_http(
        "GET", "/open311/v2/discovery.<fmt>", auth="none", summary="Open311 service discovery", tags=["open311"]
    )
    def open311_discovery(self, request: Request, fmt: str) -> Response:
        fmt = self._fmt(request, fmt)
        changed = max((c.updated_at for c in self.db.scalars(select(Category))), default=self.clock.now())
        endpoint = {
            "specification": open311.SPEC_URL,
            "url": f"{self.settings.public_url}/open311/v2",
            "changeset": utc_iso(changed),
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }
        body = {
            "changeset": utc_iso(changed),
            "contact": self.settings.contact,
            "key_service": f"Ask for an API key: {self.settings.contact}",
            "endpoints": [endpoint],
        }
        return open311.render(fmt, "discovery", body)

    @open311_http("GET", "/open311/v2/services.<fmt>", auth="none", summary="Open311 service list", tags=["open311"])
    def open311_services(self, request: Request, fmt: str) -> Response:
        fmt = self._fmt(request, fmt)
        open311.check_jurisdiction(request.args, self.settings)
        rows = self.db.scalars(select(Category).where(Category.active.is_(True)).order_by(Category.code))
        return open311.render(fmt, "services", [queries.open311_service(row) for row in rows])

    @open311_http(
        "GET", "/open311/v2/services/<code>.<fmt>", auth="none", summary="Open311 service definition", tags=["open311"]
    )
    def open311_service_definition(self, request: Request, code: str, fmt: str) -> Response:
        fmt = self._fmt(request, fmt)
        open311.check_jurisdiction(request.args, self.settings)
        category = self.db.get(Category, code)
        if category is None or not category.active:
            raise NotFound(f"service_code {code} was not found")
        return open311.render(fmt, "service_definition", queries.open311_definition(category))

    @open311_http(
        "GET",
        "/open311/v2/service/<code>.<fmt>",
        auth="none",
        summary="Old clients' alias of services/{code}",
        tags=["open311"],
    )
    def open311_service_alias(self, request: Request, code: str, fmt: str) -> Response:
        return self.open311_service_definition(request, code, fmt)

    @open311_http(
        "POST",
        "/open311/v2/requests.<fmt>",
        auth="none",
        summary="Open311 POST service request (form-encoded)",
        tags=["open311"],
        headers=idempotency.HEADER_DOC,
    )
    def open311_create(self, request: Request, fmt: str) -> Response:
        fmt = self._fmt(request, fmt)
        form = open311.read_form(request)
        open311.check_jurisdiction(form, self.settings)
        open311.check_api_key(form, self.settings)
        submission = open311.submission_from_form(form)
        now = self.clock.now()
        who = submission.account_id or submission.device_id or submission.email
        self.limiter.check(request.remote_addr, who and f"open311:{who}", now)
        try:
            category = self.reference.category(self.db, submission.category)
        except InvalidInput as unknown:
            raise NotFound(f"service_code {submission.category} was not found") from unknown
        claimed = idempotency.claim_request(self.db, IDEMPOTENCY_KEYS, request, sorted(form.items(multi=True)), now)
        headers: dict[str, str] | None = None
        if claimed is not None and claimed.resource_id is not None:
            concern_id = claimed.resource_id  # a retry: the same service request, no second concern
            headers = {idempotency.REPLAYED_HEADER: "true"}
        else:
            concern_id = commands.submit(
                self.db, self.settings, now, self.outbox.add, submission, self.reference
            ).concern.id
            if claimed is not None:
                idempotency.remember(self.db, IDEMPOTENCY_KEYS, claimed, concern_id)
        answer = {
            "service_request_id": concern_id,
            "service_notice": self._concern_notice(store.concern(self.db, concern_id), category),
            "account_id": submission.account_id,
        }
        return open311.render(fmt, "service_requests", [answer], headers=headers)

    @open311_http(
        "GET", "/open311/v2/requests.<fmt>", auth="none", summary="Open311 GET service requests", tags=["open311"]
    )
    def open311_requests(self, request: Request, fmt: str) -> Response:
        fmt = self._fmt(request, fmt)
        args = request.args
        open311.check_jurisdiction(args, self.settings)
        ids = open311.comma_list(args, "service_request_id")
        if ids is not None:
            rows = queries.open311_search(self.db, ids, None, None, (self.clock.now(), self.clock.now()))
        else:
            window = open311.date_window(args, self.clock.now())
            codes, statuses = open311.comma_list(args, "service_code"), open311.status_filter(args)
            rows = queries.open311_search(self.db, None, codes, statuses, window)
        return open311.render(fmt, "service_requests", queries.open311_requests(self.db, self.settings, rows))

    @open311_http(
        "GET",
        "/open311/v2/requests/<request_id>.<fmt>",
        auth="none",
        summary="Open311 GET one service request",
        tags=["open311"],
    )
    def open311_request(self, request: Request, request_id: str, fmt: str) -> Response:
        fmt = self._fmt(request, fmt)
        open311.check_jurisdiction(request.args, self.settings)
        rows = queries.open311_search(self.db, [request_id], None, None, (self.clock.now(), self.clock.now()))
        if not rows:
            raise NotFound(f"service_request_id {request_id} was not found")
        return open311.render(fmt, "service_requests", queries.open311_requests(self.db, self.settings, rows))

    @open311_http(
        "GET",
        "/open311/v2/tokens/<token>.<fmt>",
        auth="none",
        summary="Open311 service_request_id from a token",
        tags=["open311"],
    )
    def open311_token(self, request: Request, token: str, fmt: str) -> Response:
        fmt = self._fmt(request, fmt)
        open311.check_jurisdiction(request.args, self.settings)
        concern = store.concern_by_receipt(self.db, token)
        if concern is None:
            raise NotFound("token was not found")
        return open311.render(fmt, "service_requests", [{"service_request_id": concern.id, "token": token}])

    @open311_http(
        "GET",
        "/open311/v2/servicerequestupdates.<fmt>",
        auth="none",
        summary="Status updates feed (FixMyStreet's Open311 extension)",
        tags=["open311"],
    )
    def open311_updates(self, request: Request, fmt: str) -> Response:
        fmt = self._fmt(request, fmt)
        open311.check_jurisdiction(request.args, self.settings)
        window = open311.date_window(request.args, self.clock.now())
        return open311.render(fmt, "service_request_updates", queries.open311_updates(self.db, window))

    @open311_http("GET,POST", "/open311/v2/<path:rest>", auth="none", summary="Unknown Open311 path", tags=["open311"])
    def open311_unknown(self, request: Request, rest: str) -> Response:
        raise NotFound(f"/open311/v2/{rest} is not a GeoReport v2 resource")
