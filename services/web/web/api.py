"""Calls to the four services' public HTTP APIs, with the person's own credentials.

A page asks for everything it needs at once: `ApiClient.gather` runs the calls in green threads,
so a page waits as long as its slowest call, not the sum of them. Every authorization decision
stays with the owning service; this module only carries the person's bearer token or receipt
token to it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import eventlet
import requests

from beat_shared.settings_provider import SettingsProvider
from web.settings import Settings

log = logging.getLogger(__name__)

RECEIPT_HEADER = "X-Receipt-Token"


class ApiError(Exception):
    """A service answered with an error (4xx/5xx) in Beat's JSON error shape."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details


class ServiceUnavailable(ApiError):
    """A service could not be reached or timed out."""

    def __init__(self, service: str, reason: str) -> None:
        super().__init__(503, "service_unavailable", f"{service} cannot be reached just now", {"reason": reason})
        self.service = service


@dataclass(frozen=True)
class Call:
    """One API request: `Call("concerns", "GET", "/beats.geojson")`."""

    service: str
    method: str
    path: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Refused:
    """A service's 400 to what a form sent: `details` says which fields it refused (Beat's error
    details), for the form to show beside them."""

    details: Any


class ApiClient:
    """The API calls of one page, made with one person's credentials."""

    def __init__(
        self,
        settings: Settings,
        http: requests.Session,
        bearer: str | None = None,
        client_address: str | None = None,
        request_id: str | None = None,
    ) -> None:
        """`client_address`: the person's address, passed on in X-Forwarded-For so that a service
        which trusts the web service as a proxy (BEAT_TRUSTED_PROXIES) counts its rate limits per
        person, not for the whole city at once; `request_id` ties the services' log lines to the page's."""
        self.settings = settings
        self.http = http
        self.bearer = bearer
        self.client_address = client_address
        self.request_id = request_id

    def call(self, request: Call) -> Any:
        """The JSON answer of one call; raises ApiError or ServiceUnavailable."""
        headers = {"Accept": "application/json", **request.headers}
        if self.bearer:
            headers["Authorization"] = f"Bearer {self.bearer}"
        if self.client_address:
            headers["X-Forwarded-For"] = self.client_address
        if self.request_id:
            headers["X-Request-ID"] = self.request_id
        # Path values come from the page's own URL, decoded: quoted again, a "?" or "#" in one stays
        # part of its segment instead of starting a query the service would read.
        url = self.settings.base_url(request.service) + quote(request.path, safe="/")
        try:
            response = self.http.request(
                request.method,
                url,
                params=request.params,
                json=request.json,
                headers=headers,
                timeout=self.settings.api_timeout,
            )
        except requests.RequestException as error:
            log.warning("%s %s%s failed: %s", request.method, request.service, request.path, type(error).__name__)
            raise ServiceUnavailable(request.service, type(error).__name__) from error
        if response.status_code >= 400:
            raise _error_from(response)
        return response.json() if response.content else None

    def submit(
        self,
        request: Call,
        errors: dict[str, str] | None = None,
        read: Callable[[Any], dict[str, str]] | None = None,
        otherwise: str = "",
    ) -> Any:
        """What a form sends: the answer, or `Refused` when the service refused what was typed (a 400,
        shown beside the fields); any other error raises as in `call` (an error page). Given the form's
        `errors` and its reader of the details (`read`), the refused fields join `errors` by the form's
        own names, or `{otherwise: "invalid"}` when the details name none the form shows."""
        try:
            return self.call(request)
        except ApiError as error:
            if error.status != 400:
                raise
            if errors is not None and read is not None:
                errors.update(read(error.details) or ({otherwise: "invalid"} if otherwise else {}))
            return Refused(error.details)

    def gather(self, calls: Mapping[str, Call], optional: Collection[str] = ()) -> dict[str, Any]:
        """Every call's answer by name, made concurrently; raises the first ApiError of a call not
        named in `optional` (an optional call's ApiError comes back in place of its answer: the page
        shows what it has when that part is missing)."""
        outcomes = self.gather_outcomes(calls)
        for name, outcome in outcomes.items():
            if isinstance(outcome, ApiError) and name not in optional:
                raise outcome
        return outcomes

    def gather_outcomes(self, calls: Mapping[str, Call]) -> dict[str, Any]:
        """Like `gather`, but an ApiError comes back in place of its answer, for pages that
        show what they have when one part (a report card, say) is missing."""
        threads = {name: eventlet.spawn(self._outcome, request) for name, request in calls.items()}
        return {name: thread.wait() for name, thread in threads.items()}

    def _outcome(self, request: Call) -> Any:
        try:
            return self.call(request)
        except ApiError as error:
            return error


def _error_from(response: requests.Response) -> ApiError:
    try:
        error = response.json()["error"]
        return ApiError(response.status_code, str(error["code"]), str(error["message"]), error.get("details"))
    except (ValueError, KeyError, TypeError):
        return ApiError(response.status_code, "error", response.reason or "error")


class Apis(SettingsProvider[Settings]):
    """One pooled HTTP session for the container, beside the settings (read once); each worker builds
    its client per person."""

    def __init__(self) -> None:
        super().__init__(Settings)

    def setup(self) -> None:
        super().setup()
        self.http = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=8, pool_maxsize=32)
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)

    def stop(self) -> None:
        self.http.close()

    def get_dependency(self, worker_ctx: Any) -> Apis:
        return self

    def client(
        self, bearer: str | None = None, client_address: str | None = None, request_id: str | None = None
    ) -> ApiClient:
        return ApiClient(self.settings, self.http, bearer, client_address, request_id)
