"""The concerns service's Open311 GeoReport v2 entrypoints, an endpoint group of ConcernsService
(as PlatformEndpoints is). The formats, parsing and errors are `concerns/open311.py`; these
parse, call a command or a query, answer."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from beat_shared import idempotency
from beat_shared.errors import InvalidInput, NotFound
from concerns import commands, open311, queries, store
from concerns.endpoint_group import EndpointGroup
from concerns.models import IDEMPOTENCY_KEYS, Category, Concern
from concerns.open311 import open311_resource


class Open311Endpoints(EndpointGroup):
    """The GeoReport v2 server at /open311/v2/ (each resource in .xml and .json)."""

    def _format_for(self, request: Request, fmt: str) -> str:
        """The answer's format, for a request of this city's jurisdiction (else the spec's errors)."""
        fmt = open311.served_format(request, fmt)
        open311.check_jurisdiction(request.args, self.settings)
        return fmt

    def _requests_answer(self, fmt: str, rows: list[Concern]) -> Response:
        return open311.render(fmt, "service_requests", queries.open311_requests(self.db, self.settings, rows))

    @open311_resource("GET", "/open311/v2/discovery.<fmt>", "Open311 service discovery")
    def open311_discovery(self, request: Request, fmt: str) -> Response:
        fmt = open311.served_format(request, fmt)
        return open311.render(fmt, "discovery", queries.open311_discovery(self.db, self.settings, self.clock.now()))

    @open311_resource("GET", "/open311/v2/services.<fmt>", "Open311 service list")
    def open311_services(self, request: Request, fmt: str) -> Response:
        fmt = self._format_for(request, fmt)
        rows = queries.active_categories(self.db, Category.code)
        return open311.render(fmt, "services", [queries.open311_service(row) for row in rows])

    @open311_resource("GET", "/open311/v2/services/<code>.<fmt>", "Open311 service definition")
    def open311_service_definition(self, request: Request, code: str, fmt: str) -> Response:
        fmt = self._format_for(request, fmt)
        category = queries.open311_active_service(self.db, code)
        return open311.render(fmt, "service_definition", queries.open311_definition(category))

    @open311_resource("GET", "/open311/v2/service/<code>.<fmt>", "Old clients' alias of services/{code}")
    def open311_service_alias(self, request: Request, code: str, fmt: str) -> Response:
        return self.open311_service_definition(request, code, fmt)

    @open311_resource(
        "POST",
        "/open311/v2/requests.<fmt>",
        "Open311 POST service request (form-encoded)",
        idempotent=True,
    )
    def open311_create(self, request: Request, fmt: str) -> Response:
        """A retry with the same Idempotency-Key answers with the same service_request_id."""
        fmt = open311.served_format(request, fmt)
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
        done = idempotency.once(
            self.db,
            IDEMPOTENCY_KEYS,
            request,
            sorted(form.items(multi=True)),
            now,
            make=lambda: commands.submit(self.db, self.settings, now, self.outbox.add, submission, self.reference),
            id_of=lambda made: made.concern.id,
        )
        concern = done.made.concern if done.made else store.concern(self.db, done.resource_id)
        answer = {
            "service_request_id": concern.id,
            "service_notice": queries.concern_notice(self.settings, concern, category),
            "account_id": submission.account_id,
        }
        return open311.render(fmt, "service_requests", [answer], headers=done.headers)

    @open311_resource("GET", "/open311/v2/requests.<fmt>", "Open311 GET service requests")
    def open311_requests(self, request: Request, fmt: str) -> Response:
        fmt = self._format_for(request, fmt)
        now, args = self.clock.now(), request.args
        ids = open311.comma_list(args, "service_request_id")
        if ids is not None:
            return self._requests_answer(fmt, queries.open311_search(self.db, ids, None, None, (now, now)))
        window = open311.date_window(args, now)
        codes, statuses = open311.comma_list(args, "service_code"), open311.status_filter(args)
        return self._requests_answer(fmt, queries.open311_search(self.db, None, codes, statuses, window))

    @open311_resource("GET", "/open311/v2/requests/<request_id>.<fmt>", "Open311 GET one service request")
    def open311_request(self, request: Request, request_id: str, fmt: str) -> Response:
        fmt, now = self._format_for(request, fmt), self.clock.now()
        rows = queries.open311_search(self.db, [request_id], None, None, (now, now))
        if not rows:
            raise NotFound(f"service_request_id {request_id} was not found")
        return self._requests_answer(fmt, rows)

    @open311_resource("GET", "/open311/v2/tokens/<token>.<fmt>", "Open311 service_request_id from a token")
    def open311_token(self, request: Request, token: str, fmt: str) -> Response:
        fmt = self._format_for(request, fmt)
        concern = store.concern_by_receipt(self.db, token)
        if concern is None:
            raise NotFound("token was not found")
        return open311.render(fmt, "service_requests", [{"service_request_id": concern.id, "token": token}])

    @open311_resource(
        "GET", "/open311/v2/servicerequestupdates.<fmt>", "Status updates feed (FixMyStreet's Open311 extension)"
    )
    def open311_updates(self, request: Request, fmt: str) -> Response:
        fmt = self._format_for(request, fmt)
        window = open311.date_window(request.args, self.clock.now())
        return open311.render(fmt, "service_request_updates", queries.open311_updates(self.db, window))

    @open311_resource("GET,POST", "/open311/v2/<path:rest>", "Unknown Open311 path")
    def open311_unknown(self, request: Request, rest: str) -> Response:
        raise NotFound(f"/open311/v2/{rest} is not a GeoReport v2 resource")
