"""SQL injection in every filter of every list endpoint is harmless.

For each query parameter of each list (those the OpenAPI documents declare, and the
filters some endpoints read without declaring them), each payload is sent next to a benign
value that matches nothing. The payload must get the same status as the benign value or a 400
when the parameter's validation refuses it),
never a 5xx, never more rows than the benign value, never the reporter's contact details,
and never a delay (pg_sleep). Afterwards every table of every database is still there with
no fewer rows than before.
"""

from __future__ import annotations

import time
from typing import Any

from security_scenario import RESIDENT_EMAIL, RESIDENT_PHONE, Scenario
from security_world import BEAT, SERVICES, bearer
from sqlalchemy import inspect, text

from beat_shared.db import make_engine

# Long enough that only an executed pg_sleep explains the delay: the suite runs in parallel lanes
# on a busy machine, where an ordinary request can now and then take a few seconds.
SLEEP_SECONDS = 10
PAYLOADS = [
    "' OR '1'='1",
    "' OR 1=1 --",
    "1; DROP TABLE concerns; --",
    "'; DELETE FROM referrals; --",
    '" OR ""="',
    "%' OR '%'='",
    "' UNION SELECT reporter_email, reporter_phone FROM concerns --",
    f"{BEAT}' --",
    f"1); SELECT pg_sleep({SLEEP_SECONDS}); --",
    "') OR ('a'='a",
]
BENIGN = "zzzz-matches-nothing"

# Filters read from the query string but not declared in the OpenAPI documents.
UNDECLARED = {
    "concerns": {
        f"/beats/{BEAT}/meetings": ["when"],
        f"/beats/{BEAT}/actions": ["status"],
        f"/beats/{BEAT}/priorities": ["period"],
        "/open311/v2/requests.json": ["service_code", "status", "service_request_id", "start_date", "jurisdiction_id"],
        "/open311/v2/servicerequestupdates.json": ["start_date", "end_date"],
        "/open311/v2/services.json": ["jurisdiction_id"],
    },
    "referrals": {"/taxonomy_terms": ["taxonomy_id", "search"], "/service_at_locations": ["search", "service_id"]},
    "notifications": {},
    "surveys": {},
}
ROLE_FOR = {"admin": "admin-1", "supervisor": "supervisor-1", "officer": "officer-rv02", "resident": "resident-ana"}


def list_filters(world: Any, service: str) -> dict[str, tuple[list[str], dict[str, str]]]:
    """path → (filter names, headers of a caller the endpoint lets in)."""
    document = world.call(service, "GET", "/openapi.json").json()
    found: dict[str, tuple[list[str], dict[str, str]]] = {}
    for path, verbs in document["paths"].items():
        operation = verbs.get("get")
        names = [p["name"] for p in (operation or {}).get("parameters", []) if p["in"] == "query"]
        if not names or "{" in path:
            continue
        roles = operation.get("x-roles") or []
        role = "admin" if "admin" in roles or not roles else roles[0]
        found[path] = (names, bearer(role, ROLE_FOR.get(role, f"{role}-1")))
    for path, names in UNDECLARED[service].items():
        found[path] = (names, bearer("admin", "admin-1"))
    return found


def rows_in(body: Any) -> int:
    if isinstance(body, list):
        return len(body)
    if isinstance(body, dict):
        if "total_items" in body:
            return int(body["total_items"])
        return sum(rows_in(value) for value in body.values() if isinstance(value, list | dict))
    return 0


def payload_body(response: Any) -> Any:
    return response.json() if "json" in response.headers.get("Content-Type", "") else None


def table_counts(url: str) -> dict[str, int]:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            names = inspect(connection).get_table_names()
            return {name: connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one() for name in names}
    finally:
        engine.dispose()


def test_injection_in_every_list_filter_is_harmless(world):
    Scenario.build(world)  # a concern with contact details, referrals with a client
    before = {service: table_counts(world.databases[service]) for service in SERVICES}
    problems, sent = [], 0
    for service in SERVICES:
        for path, (names, headers) in list_filters(world, service).items():
            for name in names:
                benign = world.call(service, "GET", path, params={name: BENIGN}, headers=headers)
                for payload in PAYLOADS:
                    started = time.monotonic()
                    response = world.call(service, "GET", path, params={name: payload}, headers=headers)
                    elapsed, sent = time.monotonic() - started, sent + 1
                    where = f"{service} GET {path}?{name}={payload!r}"
                    refused = response.status_code == 400  # the filter's validation refused the payload
                    if response.status_code >= 500 or (response.status_code != benign.status_code and not refused):
                        problems.append(f"{where}: {response.status_code} (benign: {benign.status_code})")
                    elif response.status_code == 200 and rows_in(payload_body(response)) > rows_in(
                        payload_body(benign)
                    ):
                        problems.append(f"{where}: more rows than a value that matches nothing")
                    if RESIDENT_EMAIL in response.text or RESIDENT_PHONE in response.text:
                        problems.append(f"{where}: the reporter's contact details in the answer")
                    if "pg_sleep" in payload and elapsed > SLEEP_SECONDS * 0.8:
                        problems.append(f"{where}: took {elapsed:.1f}s")
    after = {service: table_counts(world.databases[service]) for service in SERVICES}
    for service in SERVICES:
        assert set(after[service]) == set(before[service]), f"{service} lost tables"
        shrunk = {
            t: (before[service][t], after[service][t])
            for t in before[service]
            if after[service][t] < before[service][t]
        }
        assert not shrunk, f"{service} tables lost rows: {shrunk}"
    print(f"\n{sent} injection attempts")
    assert sent > 300
    assert not problems, "\n".join(problems[:40])
