"""HTTP for every service: one JSON error shape, auth, body limits, request ids, paging.

Every error a client can see looks like ``{"error": {"code", "message", "details"}}``,
including werkzeug's own 404/405/413, which would otherwise be HTML.
"""

from __future__ import annotations

import io
import json
import logging
import math
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any

import eventlet
import sqlalchemy.exc
from eventlet.event import Event
from marshmallow import Schema, ValidationError, fields
from nameko.containers import WorkerContext
from nameko.rpc import Rpc
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException, UnsupportedMediaType
from werkzeug.routing import IntegerConverter, Map
from werkzeug.wrappers import Request, Response

from beat_shared import idempotency
from beat_shared.auth import Principal, TokenVerifier, bearer_token, require_role
from beat_shared.clock import utc_iso
from beat_shared.config import setting_from
from beat_shared.db import ExcInfo, settle_unit_of_work
from beat_shared.errors import (
    BeatError,
    Conflict,
    ContractViolation,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
    Unprocessable,
)
from beat_shared.fields import INT64_MAX, out_of_range_integers, schema_instance
from beat_shared.logs import redact_secrets, request_id_var
from beat_shared.metrics import HTTP_LATENCY, HTTP_REQUESTS
from beat_shared.proxies import Network, client_address, trusted_networks

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# A JSON string escape of NUL (an odd number of backslashes before u0000).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
MAX_PAGE = 100_000  # deeper pages are refused: their OFFSET would overflow the database's integers

# Domain errors to HTTP statuses: the one place this mapping lives.
ERROR_STATUS: dict[type[Exception], int] = {
    InvalidInput: 400,
    ContractViolation: 400,
    ValidationError: 400,
    Unauthenticated: 401,
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
    PayloadTooLarge: 413,
    Unprocessable: 422,
    RateLimited: 429,
}


def _json_default(value: Any) -> Any:
    """Datetimes as RFC 3339 in UTC, dates as ISO 8601, anything else as its text."""
    if isinstance(value, datetime):
        return utc_iso(value) if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def ndjson_response(items: Iterable[Any]) -> Response:
    """Newline-delimited JSON (application/x-ndjson): one object a line, e.g. a whole list unpaged."""
    body = "".join(json.dumps(item, default=_json_default) + "\n" for item in items)
    return Response(body, status=200, content_type="application/x-ndjson")


def json_response(payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        json.dumps(payload, default=_json_default),
        status=status,
        headers=dict(headers or {}),
        mimetype="application/json",
    )


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: Mapping[str, str] | None = None
) -> Response:
    return json_response({"error": {"code": code, "message": message, "details": details}}, status, headers)


def status_for(exc: BaseException) -> int | None:
    for cls in type(exc).__mro__:
        if cls in ERROR_STATUS:
            return ERROR_STATUS[cls]
    return None


# A lost or refused connection, a deadlock or serialisation failure, a full pool: the request may
# succeed if sent again (SQLAlchemy wraps the driver's OperationalError, which covers all of these).
DATABASE_UNAVAILABLE = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.TimeoutError)


def response_for_exception(exc: BaseException) -> Response:
    """The JSON error response for any exception; unknown ones are logged and hidden."""
    if isinstance(exc, HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or exc.name, headers=dict(exc.get_headers()))
    if isinstance(exc, DATABASE_UNAVAILABLE):
        log.warning("database unavailable while answering a request: %s", exc)
        return error_response(
            503,
            "database_unavailable",
            "the database cannot be reached just now; try again shortly",
            headers={"Retry-After": "1"},
        )
    status = status_for(exc)
    if status is None:
        log.error("unexpected error answering a request", exc_info=exc)
        return error_response(500, "internal_error", "something went wrong on our side; it has been logged")
    if isinstance(exc, ValidationError):
        return error_response(status, "invalid_input", "the request has invalid fields", exc.messages)
    assert isinstance(exc, BeatError)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return error_response(status, exc.code, exc.message, exc.details, headers)


def is_client_error(exc: BaseException) -> bool:
    """Whether the exception answers with a 4xx: the client's mistake, not ours."""
    if isinstance(exc, HTTPException):
        return (exc.code or 500) < 500
    status = status_for(exc)
    return status is not None and status < 500


class ClientErrorsAreNotErrors(logging.Filter):
    """nameko logs every exception a worker raises, with its traceback, at ERROR (or WARNING when
    expected). A 4xx is the caller's mistake: an HTTP one is logged once, by the access-log line;
    an RPC one (asked for something missing) becomes one INFO line without a traceback. Event
    handlers and timers keep nameko's logging: a bad event is a fault between services, not a caller's."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not (isinstance(record.args, tuple) and len(record.args) == 2):
            return True
        worker_ctx, exc = record.args
        if not (isinstance(exc, BaseException) and is_client_error(exc)):
            return True
        entrypoint = getattr(worker_ctx, "entrypoint", None)
        if isinstance(entrypoint, HttpEndpoint):
            return False
        if isinstance(entrypoint, Rpc):
            record.msg, record.levelno, record.levelname = "client error in %s: %s", logging.INFO, "INFO"
            record.exc_info, record.exc_text = None, None
        return True


def quiet_client_errors() -> None:
    """Install ClientErrorsAreNotErrors on nameko's container logger (once per process)."""
    logger = logging.getLogger("nameko.containers")
    if not any(isinstance(existing, ClientErrorsAreNotErrors) for existing in logger.filters):
        logger.addFilter(ClientErrorsAreNotErrors())


class RedactedAccessLog(logging.LoggerAdapter):
    """eventlet's access log (one line a request, with its path and query), secrets redacted."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        return redact_secrets(str(msg)), kwargs


def request_id_from(request: Request) -> str:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    return incoming if _VALID_REQUEST_ID.match(incoming) else str(uuid.uuid4())


class BeatWsgiApp(WsgiApp):
    """Routes like nameko's, but unmatched routes answer in the JSON error shape."""

    def __init__(
        self, server: WebServer, service_name: str, max_body_bytes: int, trusted_proxies: tuple[Network, ...] = ()
    ) -> None:
        super().__init__(server)
        self.service_name = service_name
        self.max_body_bytes = max_body_bytes
        self.trusted_proxies = trusted_proxies

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.perf_counter()
        if self.trusted_proxies:  # every use of request.remote_addr then sees the client, not the ingress
            environ["REMOTE_ADDR"] = client_address(
                environ.get("REMOTE_ADDR", ""), environ.get("HTTP_X_FORWARDED_FOR"), self.trusted_proxies
            )
        request = Request(environ, shallow=True)
        request_id = request_id_from(request)
        request_id_var.set(request_id)
        request.request_id = request_id  # type: ignore[attr-defined]
        adapter = self.url_map.bind_to_environ(environ)
        route = "unmatched"
        try:
            if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
                _buffer_chunked_body(environ, self.max_body_bytes)
            rule, values = adapter.match(return_rule=True)
            route = rule.rule
            request.path_values = values  # type: ignore[attr-defined]
            response = rule.endpoint.handle_request(request)
        except (HTTPException, PayloadTooLarge) as exc:
            response = response_for_exception(exc)
        response.headers[REQUEST_ID_HEADER] = request_id
        HTTP_REQUESTS.labels(self.service_name, request.method, route, str(response.status_code)).inc()
        HTTP_LATENCY.labels(self.service_name, request.method, route).observe(time.perf_counter() - started)
        return response(environ, start_response)


class Int64Converter(IntegerConverter):
    """`<int:...>` path parameters a database column can hold: a larger number matches no route
    (404, the resource does not exist) instead of reaching the database (a 500)."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", INT64_MAX)
        super().__init__(url_map, *args, **kwargs)


class BeatWebServer(WebServer):
    def start(self) -> None:
        """nameko's start, listening without SO_REUSEPORT. eventlet sets it on a fixed port, and
        then a second process started on the same port does not fail: it silently takes half of
        the first one's requests (another service's 404s)."""
        if not self._starting:
            self._starting = True
            self._sock = eventlet.listen(self.bind_addr, reuse_port=False)
            self._sock.settimeout(None)  # as nameko does: https://github.com/celery/kombu/issues/838
            self._serv = self.get_wsgi_server(self._sock, self.get_wsgi_app())
            self._gt = self.container.spawn_managed_thread(self.run)

    def kill(self) -> None:
        """Close the listening socket, as the end of a killed process would. nameko's kill leaves
        it open, and without SO_REUSEPORT a service restarted in the same process (the crash
        tests) could not listen on its port again. The accepting thread goes first, as in `stop`:
        a socket closed under its accept raised IOClosed into the log."""
        self._is_accepting = False
        if self._gt is not None:
            self._gt.kill()
        if self._sock is not None:
            self._sock.close()

    def make_url_map(self) -> Map:
        """nameko's map, with `<int:...>` bounded to what a database column holds."""
        url_map = Map(converters={"int": Int64Converter})
        for provider in self._providers:
            rule = provider.get_url_rule()
            rule.endpoint = provider
            url_map.add(rule)
        return url_map

    def get_wsgi_app(self) -> BeatWsgiApp:
        max_body_bytes = int(setting_from(self.container.config, "BEAT_MAX_BODY_BYTES"))
        proxies = trusted_networks(setting_from(self.container.config, "BEAT_TRUSTED_PROXIES"))
        return BeatWsgiApp(self, self.container.service_name, max_body_bytes, proxies)

    def get_wsgi_server(self, sock: Any, wsgi_app: Any, protocol: Any = None, debug: bool = False) -> Any:
        server = super().get_wsgi_server(sock, wsgi_app, **({"protocol": protocol} if protocol else {}), debug=debug)
        server.log = RedactedAccessLog(logging.getLogger("nameko.web.server"), {})
        return server


def _buffer_chunked_body(environ: dict[str, Any], limit: int) -> None:
    """Read a chunked body (no Content-Length) up to `limit` bytes, or refuse it.

    werkzeug ignores such bodies unless told the input is terminated, and then
    silently truncates them at the limit; reading them here makes both explicit.
    """
    data = environ["wsgi.input"].read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    environ["wsgi.input"] = io.BytesIO(data)
    environ["CONTENT_LENGTH"] = str(len(data))
    environ.pop("HTTP_TRANSFER_ENCODING", None)


def refuse_nul_characters(request: Request) -> None:
    """PostgreSQL text cannot hold NUL (0x00): refuse it in the path, query or body with a 400
    here, rather than let the database driver fail deep inside a worker with a 500."""
    where = []
    if "\x00" in request.path:
        where.append("path")
    if any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)):
        where.append("query")
    mimetype = request.mimetype
    if mimetype == "multipart/form-data":
        if any("\x00" in key or "\x00" in value for key, value in request.form.items(multi=True)):
            where.append("body")
    elif request.content_length or request.headers.get("Transfer-Encoding"):
        data = request.get_data(cache=True)
        urlencoded = mimetype in ("application/x-www-form-urlencoded", "")
        if b"\x00" in data or _JSON_NUL.search(data) or (urlencoded and b"%00" in data):
            where.append("body")
    if where:
        details = {part: ["contains a NUL character"] for part in where}
        raise InvalidInput("text may not contain NUL characters", details)


AUTH_MODES = ("required", "optional", "none")


@dataclass(frozen=True)
class EndpointDoc:
    summary: str | None
    request_schema: type[Schema] | Schema | None
    response_schema: type[Schema] | Schema | None
    query_schema: type[Schema] | Schema | None
    status: int
    tags: tuple[str, ...]
    responses: dict[str, Any]
    headers: dict[str, str]  # request headers the endpoint reads: name -> description


def _documented_responses(conflict: str | None, idempotent: bool, responses: Mapping[str, Any]) -> dict[str, Any]:
    """The extra responses an endpoint documents; two reasons for one status are both named."""
    reasons: dict[str, list[str]] = {}
    if conflict:
        reasons["409"] = [conflict]
    for status, doc in (idempotency.RESPONSES_DOC if idempotent else {}).items():
        reasons.setdefault(status, []).append(doc["description"])
    documented: dict[str, Any] = {status: {"description": "; ".join(why)} for status, why in reasons.items()}
    return {**documented, **responses}


class HttpEndpoint(HttpRequestHandler):
    """An HTTP entrypoint. `roles` limits who may call it (401/403 before any work).

    The service method receives the werkzeug request with `request.principal`
    (None for anonymous callers) and returns a Response (see `json_response`).
    Its database session is committed before the response is sent.
    """

    server = BeatWebServer()

    def __init__(
        self,
        method: str,
        url: str,
        roles: Iterable[str] = (),
        auth: str = "required",
        *,
        summary: str | None = None,
        request_schema: type[Schema] | Schema | None = None,
        response_schema: type[Schema] | Schema | None = None,
        query_schema: type[Schema] | Schema | None = None,
        status: int = 200,
        tags: Iterable[str] = (),
        responses: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        conflict: str | None = None,
        idempotent: bool = False,
        **kwargs: Any,
    ) -> None:
        """`summary`, the schemas, `status`, `tags`, extra `responses` (`conflict`: when it answers
        409) and the request `headers` it reads describe the endpoint in the service's OpenAPI
        document (see beat_shared.openapi); `idempotent` documents the Idempotency-Key it honours
        (with beat_shared.idempotency.once)."""
        if auth not in AUTH_MODES:
            raise ValueError(f"auth must be one of {AUTH_MODES}")
        self.roles = tuple(roles)
        self.auth = auth
        self.doc = EndpointDoc(
            summary,
            request_schema,
            response_schema,
            query_schema,
            status,
            tuple(tags),
            _documented_responses(conflict, idempotent, responses or {}),
            {**(idempotency.HEADER_DOC if idempotent else {}), **(headers or {})},
        )
        super().__init__(method, url, **kwargs)

    def setup(self) -> None:
        super().setup()
        config = self.container.config
        self.verifier = TokenVerifier.from_config(config)
        self.max_body_bytes = int(setting_from(config, "BEAT_MAX_BODY_BYTES"))

    def authenticate(self, request: Request) -> Principal | None:
        if self.auth == "none":
            return None
        token = bearer_token(request.headers.get("Authorization"))
        principal = self.verifier.verify(token) if token else None
        if self.auth == "required" or principal is not None:
            require_role(principal, self.roles)
        return principal

    def handle_request(self, request: Request) -> Response:
        request.shallow = False
        request.max_content_length = self.max_body_bytes
        try:
            if (request.content_length or 0) > self.max_body_bytes:
                raise PayloadTooLarge(f"request body is larger than {self.max_body_bytes} bytes")
            request.principal = self.authenticate(request)  # type: ignore[attr-defined]
            refuse_nul_characters(request)
            context_data = {"request_id": getattr(request, "request_id", None)}
            args, kwargs = self.get_entrypoint_parameters(request)
            self.check_signature(args, kwargs)
            finished = Event()
            self.container.spawn_worker(
                self, args, kwargs, context_data=context_data, handle_result=partial(self._finish, finished)
            )
            return self.response_from_result(finished.wait())
        except Exception as exc:  # noqa: BLE001 - every failure becomes a JSON error response
            return response_for_exception(exc)

    def _finish(
        self, finished: Event, worker_ctx: WorkerContext, result: Any, exc_info: ExcInfo
    ) -> tuple[Any, ExcInfo]:
        exc_info = settle_unit_of_work(worker_ctx, exc_info)
        finished.send(result, exc_info)
        return result, exc_info


http = HttpEndpoint.decorator


def idempotent_create(endpoint: Callable[..., Any], url: str, **documented: Any) -> Any:
    """`endpoint`'s decorator (`http`, or a group's partial of it) for a POST that makes one thing:
    201 with it, and a retry with the same Idempotency-Key answers with the one already made (the
    method calls beat_shared.idempotency.once). `documented`: the schemas and the rest `http` takes."""
    return endpoint("POST", url, status=201, idempotent=True, **documented)


# --- request bodies and query parameters ----------------------------------------------


def read_json(request: Request, schema_type: type[Schema], partial: bool = False) -> dict[str, Any]:
    """The request's JSON body loaded through the schema; InvalidInput names what is wrong."""
    body = schema_instance(schema_type, partial).load(read_json_object(request))
    refuse_out_of_range_integers(body)  # again: a JSON 1e30 becomes an int through an Integer field
    return body


def refuse_out_of_range_integers(body: Any) -> None:
    """No integer beyond 64 bits reaches a database column, whichever endpoint it is sent to."""
    beyond = out_of_range_integers(body)
    if beyond:
        raise ValidationError(beyond)


def refuse_non_json(request: Request) -> None:
    """A body declared as another media type (text/plain, a form) is refused with a 415 rather
    than parsed anyway. A request without Content-Type reaches us as text/plain (eventlet's WSGI
    server fills in HTTP's default), so it is refused too: clients say application/json."""
    mimetype = request.mimetype
    if mimetype and mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMediaType(f"send the body as application/json, not {mimetype}")


def read_json_object(request: Request) -> dict[str, Any]:
    """The request's body as a JSON object, not yet validated; InvalidInput when it is not one,
    415 when it is declared as something other than JSON."""
    refuse_non_json(request)
    raw = request.get_data(cache=True)
    if not raw:
        raise InvalidInput("a JSON body is required")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput("the body is not valid JSON", {"body": str(error)}) from error
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object")
    refuse_out_of_range_integers(body)
    return body


@dataclass(frozen=True)
class PageRequest:
    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def page_request(args: Mapping[str, str], default_size: int = 20, max_size: int = 100) -> PageRequest:
    """`page` (1-based) and `per_page` from the query string."""
    try:
        number = int(args.get("page") or 1)
        size = int(args.get("per_page") or default_size)
    except ValueError as error:
        raise InvalidInput("page and per_page must be whole numbers") from error
    if not 1 <= number <= MAX_PAGE or not 1 <= size <= max_size:
        raise InvalidInput(f"page must be between 1 and {MAX_PAGE} and per_page between 1 and {max_size}")
    return PageRequest(number, size)


class PageFields(Schema):
    """The paging fields of every list (for response schemas: subclass it and add `contents`)."""

    total_items = fields.Integer()
    total_pages = fields.Integer()
    page_number = fields.Integer()
    size = fields.Integer()
    first_page = fields.Boolean()
    last_page = fields.Boolean()
    empty = fields.Boolean()


def page_body(contents: list[Any], total_items: int, page: PageRequest) -> dict[str, Any]:
    """One paging shape for every list Beat serves (the HSDS API's fields)."""
    total_pages = max(1, math.ceil(total_items / page.size))
    return {
        "total_items": total_items,
        "total_pages": total_pages,
        "page_number": page.number,
        "size": len(contents),
        "first_page": page.number == 1,
        "last_page": page.number >= total_pages,
        "empty": not contents,
        "contents": contents,
    }
