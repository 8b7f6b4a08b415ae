"""The API client: a page's calls run side by side, errors keep Beat's shape, and the person's
credentials go in headers, never in the URL."""

from __future__ import annotations

import json
import time

import eventlet
import pytest
import requests
from eventlet import wsgi

from beat_shared.testing import free_port
from web.api import ApiClient, ApiError, Call, Refused, ServiceUnavailable
from web.settings import Settings

DELAY = 0.4


@pytest.fixture
def slow_service():
    """A real HTTP server that answers every request after DELAY seconds and records what it got."""
    seen: list[dict] = []

    def app(environ, start_response):
        eventlet.sleep(DELAY)
        seen.append(
            {
                "path": environ["PATH_INFO"],
                "query": environ.get("QUERY_STRING", ""),
                "authorization": environ.get("HTTP_AUTHORIZATION"),
                "receipt": environ.get("HTTP_X_RECEIPT_TOKEN"),
            }
        )
        if environ["PATH_INFO"] == "/missing":
            body = {"error": {"code": "not_found", "message": "no such thing", "details": None}}
            start_response("404 Not Found", [("Content-Type", "application/json")])
        elif environ["PATH_INFO"].startswith("/refused"):  # /refused/<field>: a 400 naming that field
            field = environ["PATH_INFO"].split("/")[2]
            body = {"error": {"code": "invalid", "message": "refused", "details": {field: ["too long"]}}}
            start_response("400 Bad Request", [("Content-Type", "application/json")])
        else:
            body = {"path": environ["PATH_INFO"]}
            start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]

    port = free_port()
    listener = eventlet.listen(("127.0.0.1", port))
    server = eventlet.spawn(wsgi.server, listener, app, log_output=False)
    yield f"http://127.0.0.1:{port}", seen
    server.kill()
    listener.close()


def client(base: str, bearer: str | None = None) -> ApiClient:
    settings = Settings.from_config({"WEB_CONCERNS_URL": base, "WEB_SURVEYS_URL": base, "WEB_API_TIMEOUT": "5"})
    return ApiClient(settings, requests.Session(), bearer)


def test_a_pages_calls_run_side_by_side_not_one_after_another(slow_service):
    base, _ = slow_service
    started = time.monotonic()
    answers = client(base).gather({name: Call("concerns", "GET", f"/{name}") for name in ("a", "b", "c", "d")})
    elapsed = time.monotonic() - started
    assert answers == {name: {"path": f"/{name}"} for name in ("a", "b", "c", "d")}
    assert elapsed < 2 * DELAY, f"four calls of {DELAY}s took {elapsed:.2f}s: they ran in a chain"


def test_an_error_keeps_its_status_and_code_and_the_others_still_answer(slow_service):
    base, _ = slow_service
    outcomes = client(base).gather_outcomes(
        {"found": Call("concerns", "GET", "/here"), "missing": Call("surveys", "GET", "/missing")}
    )
    assert outcomes["found"] == {"path": "/here"}
    assert isinstance(outcomes["missing"], ApiError)
    assert (outcomes["missing"].status, outcomes["missing"].code) == (404, "not_found")
    with pytest.raises(ApiError, match="not_found"):
        client(base).gather({"missing": Call("concerns", "GET", "/missing")})


def test_a_call_a_page_can_do_without_comes_back_as_its_error_and_the_others_still_raise(slow_service):
    base, _ = slow_service
    calls = {"found": Call("concerns", "GET", "/here"), "missing": Call("surveys", "GET", "/missing")}
    outcomes = client(base).gather(calls, optional=("missing",))
    assert outcomes["found"] == {"path": "/here"}
    assert isinstance(outcomes["missing"], ApiError) and outcomes["missing"].status == 404
    with pytest.raises(ApiError, match="not_found"):
        client(base).gather(calls, optional=("found",))


def test_a_forms_400_is_refused_with_its_fields_beside_the_forms_own_and_other_errors_raise(slow_service):
    base, _ = slow_service
    api = client(base)
    assert api.submit(Call("concerns", "POST", "/made")) == {"path": "/made"}
    errors = {"title": "required"}
    refused = api.submit(
        Call("concerns", "POST", "/refused/summary"), errors, lambda details: dict.fromkeys(details, "x")
    )
    assert refused == Refused({"summary": ["too long"]})
    assert errors == {"title": "required", "summary": "x"}
    errors = {}
    api.submit(Call("concerns", "POST", "/refused/unshown"), errors, lambda details: {}, otherwise="title")
    assert errors == {"title": "invalid"}  # the details name no field the form shows
    with pytest.raises(ApiError, match="not_found"):
        api.submit(Call("concerns", "POST", "/missing"), {}, lambda details: {}, otherwise="title")


def test_credentials_travel_in_headers(slow_service):
    base, seen = slow_service
    client(base, bearer="person-token").call(Call("concerns", "GET", "/mine", headers={"X-Receipt-Token": "r3ce1pt"}))
    [request] = seen
    assert request["authorization"] == "Bearer person-token" and request["receipt"] == "r3ce1pt"
    assert "person-token" not in request["query"] and "r3ce1pt" not in request["path"] + request["query"]


def test_a_service_that_does_not_answer_is_unavailable_not_a_crash():
    with pytest.raises(ServiceUnavailable) as raised:
        client(f"http://127.0.0.1:{free_port()}").call(Call("concerns", "GET", "/beats"))
    assert raised.value.status == 503 and raised.value.service == "concerns"
