"""The concerns service's resident and public entrypoints, an endpoint group of ConcernsService
(as PlatformEndpoints is): voicing a concern, following it by receipt, withdrawing it, "me too",
and the public list, map and detail. Parse, call a command or a query, answer."""

from __future__ import annotations

from functools import partial
from typing import Any

from werkzeug.wrappers import Request, Response

from beat_shared import idempotency
from beat_shared.auth import Principal
from beat_shared.errors import NotFound, PermissionDenied
from beat_shared.http import http, idempotent_create, json_response, page_request, read_json
from concerns import access, commands, queries, store
from concerns.beat_endpoints import geojson_response
from concerns.domain.workflow import Status
from concerns.endpoint_group import EndpointGroup
from concerns.models import IDEMPOTENCY_KEYS, Concern
from concerns.schemas import (
    ConcernInput,
    ConcernOutput,
    PublicListQuery,
    SimilarOutput,
    SimilarQuery,
    SubmittedOutput,
    SupportOutput,
    WithdrawInput,
)

resident_or_anyone = partial(http, auth="optional", tags=["concerns"])
public_read = partial(http, auth="none", tags=["public"])


def submission_from(body: dict[str, Any], principal: Principal | None) -> commands.Submission:
    """A checked `ConcernInput` as a submission; a resident's token links the concern to them."""
    contact = body["contact"] or {}
    return commands.Submission(
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


class IntakeEndpoints(EndpointGroup):
    """What residents and the public do: voice, follow, withdraw and support concerns; read them."""

    def _notice(self, body: dict[str, Any]) -> dict[str, Any]:
        return queries.with_notice(self.settings, body)

    def _resident_answer(self, concern: Concern) -> Response:
        body = queries.concern_answer(self.db, self.settings, self.reference, concern, "resident")
        return json_response(body, headers=access.etag(concern.version))

    @idempotent_create(resident_or_anyone, "/concerns", request_schema=ConcernInput, response_schema=SubmittedOutput)
    def submit_concern(self, request: Request) -> Response:
        """Voice a concern (anonymously, or with contact details)

        Anyone may submit; a resident token links the concern to the resident. The answer
        carries a receipt token (shown once) that reads and withdraws this one concern, and
        likely duplicates nearby that the resident may want to support instead. A retry with the
        same Idempotency-Key answers with the concern already made and a new receipt token (only
        token hashes are stored, so the first one cannot be shown again; it stops working)."""
        now = self.clock.now()
        principal = request.principal
        self.limiter.check(request.remote_addr, principal and f"subject:{principal.subject}", now)
        body = read_json(request, ConcernInput)
        submission = submission_from(body, principal)
        done = idempotency.once(
            self.db,
            IDEMPOTENCY_KEYS,
            request,
            body,
            now,
            make=lambda: commands.submit(self.db, self.settings, now, self.outbox.add, submission, self.reference),
            id_of=lambda made: made.concern.id,
        )
        if done.made is None:
            concern, token = commands.reissue_receipt(self.db, done.resource_id)
        else:
            concern, token = done.made.concern, done.made.receipt_token
        answer = queries.submission_answer(self.db, self.settings, self.reference, concern, token, done.made)
        headers = {**access.etag(concern.version), "Location": f"/concerns/{concern.id}", **done.headers}
        return json_response(answer, status=201, headers=headers)

    @http(
        "GET",
        "/concerns/similar",
        auth="none",
        query_schema=SimilarQuery,
        response_schema=SimilarOutput,
        tags=["concerns"],
    )
    def similar_concerns(self, request: Request) -> Response:
        """Likely duplicates of a concern about to be submitted"""
        args = access.query_args(request, SimilarQuery())
        found = queries.similar(self.db, self.settings, args["category"], args["lat"], args["long"], self.clock.now())
        return json_response(self._notice({"possible_duplicates": found}))

    @http("GET", "/receipts/<token>", auth="none", response_schema=ConcernOutput, tags=["concerns"])
    def get_receipt(self, request: Request, token: str) -> Response:
        """The one concern a receipt token belongs to"""
        concern = store.concern_by_receipt(self.db, token)
        if concern is None:
            raise NotFound("no concern has this receipt token")
        return self._resident_answer(concern)

    @http("GET", "/me/concerns", roles=("resident",), tags=["concerns"])
    def my_concerns(self, request: Request) -> Response:
        """My concerns and those I support"""
        page = page_request(request.args)
        return json_response(self._notice(queries.resident_list(self.db, request.principal.subject, page)))

    @http(
        "POST",
        "/concerns/<concern_id>/withdraw",
        auth="optional",
        request_schema=WithdrawInput,
        response_schema=ConcernOutput,
        tags=["workflow"],
        conflict="the concern can no longer be withdrawn, or the version is stale",
    )
    def withdraw_concern(self, request: Request, concern_id: str) -> Response:
        """Withdraw my concern (its reporter, by bearer token or X-Receipt-Token)"""
        body = read_json(request, WithdrawInput) if request.get_data(cache=True) else {"version": None}
        concern = store.concern(self.db, concern_id)
        actor = access.reporter_actor(concern, request.principal, access.receipt_token(request))
        # The reporter is the only writer besides staff; a missing version means "the current one".
        version = access.expected_version(request, body.get("version")) or concern.version
        change = commands.Change(Status.WITHDRAWN, version, public_note=body.get("public_note"))
        return self._resident_answer(
            commands.transition(self.db, self.clock.now(), self.outbox.add, concern_id, actor, change)
        )

    @resident_or_anyone(
        "POST",
        "/concerns/<concern_id>/support",
        response_schema=SupportOutput,
        responses={
            "409": {"description": "the concern is closed and no longer takes support"},
            "429": {"description": 'an anonymous "me too" without a token from this address was already counted'},
        },
    )
    def support_concern(self, request: Request, concern_id: str) -> Response:
        """Add my support, a "me too" (counted once per resident or token)

        Residents sign in or send a token in X-Receipt-Token (a receipt token, or the
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

    # --- the public ----------------------------------------------------------------------

    @public_read("GET", "/public/concerns", query_schema=PublicListQuery)
    def public_concerns(self, request: Request) -> Response:
        """Public list: no personal data, locations rounded to ~100 m, public notes only"""
        args = access.query_args(request, PublicListQuery())
        return json_response(self._notice(queries.public_list(self.db, args, page_request(request.args))))

    @public_read("GET", "/public/concerns.geojson", query_schema=PublicListQuery)
    def public_map(self, request: Request) -> Response:
        """Public map feed (GeoJSON points rounded to ~100 m)"""
        return geojson_response(queries.public_map(self.db, access.query_args(request, PublicListQuery())))

    @public_read("GET", "/public/concerns/<concern_id>", response_schema=ConcernOutput)
    def public_concern(self, request: Request, concern_id: str) -> Response:
        """One concern's public view and its public updates"""
        return json_response(self._notice(queries.public_concern(self.db, concern_id)))
