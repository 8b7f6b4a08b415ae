"""Regressions of the bugs schemathesis found: each request once answered 500, or answered
in a way its OpenAPI document did not describe. Each must now be a documented 4xx/2xx."""

from __future__ import annotations

from security_world import BEAT, bearer

ADMIN = bearer("admin", "admin-1")
SUPERVISOR = bearer("supervisor", "supervisor-1")
RESIDENT = bearer("resident", "resident-demo-2")

NUL_ALERT = {"title": "\u0000", "kind": "alert"}
BEYOND_64_BITS = 13848968913678185267200  # larger than SQLite's INTEGER and PostgreSQL's bigint
WAVE = {
    "survey_code": "safety",
    "name": "Spring",
    "period": "2026-Q2",
    "beat_codes": [BEAT],
    "opens_at": "2026-04-01T00:00:00Z",
    "closes_at": "2026-06-30T00:00:00Z",
}

# (service, method, path, request kwargs, expected status)
ONCE_500 = [
    # NUL characters reached PostgreSQL, which cannot store them (shared HTTP layer).
    ("concerns", "GET", "/concerns/similar?category=a%00b&lat=43.04&long=-108.38", {}, 400),
    ("concerns", "GET", "/public/concerns?category=a%00b", {}, 400),
    ("concerns", "GET", "/categories/a%00b", {}, 400),
    ("concerns", "POST", "/concerns", {"json": {"category": "noise", "description": "a\u0000b"}}, 400),
    ("concerns", "POST", "/open311/v2/requests.json", {"data": {"service_code": "noise", "description": "\x00"}}, 400),
    ("referrals", "GET", "/services?search=a%00b", {}, 400),
    ("referrals", "GET", "/services/a%00b", {}, 400),
    ("notifications", "POST", f"/broadcasts/{BEAT}", {"json": NUL_ALERT, "headers": SUPERVISOR}, 400),
    ("surveys", "GET", "/surveys/a%00b", {}, 400),
    # Page numbers whose OFFSET overflowed a bigint (shared page_request).
    ("notifications", "GET", "/inbox?page=576460752303423487", {"headers": RESIDENT}, 400),
    ("concerns", "GET", "/concerns?page=70368744177664", {"headers": SUPERVISOR}, 400),
    ("referrals", "GET", "/services?page=67494732957873464147968", {}, 400),
    # Offsets beyond PostgreSQL's ±15:59 (UtcDateTime); before year 1 in UTC is a 400.
    ("referrals", "GET", "/audit-log?since=0056-08-31T03%3A52%3A56.653-19%3A31", {"headers": ADMIN}, 200),
    ("referrals", "GET", "/reports/outcomes?since=0138-03-21T20%3A52%3A11%2B19%3A18", {"headers": ADMIN}, 200),
    ("referrals", "GET", "/services?modified_after=0229-02-09T01%3A38%3A45-17%3A22", {}, 200),
    ("referrals", "GET", "/audit-log?since=0001-01-01T00%3A00%3A00%2B05%3A00", {"headers": ADMIN}, 400),
    # Open311 date filters: offsets beyond ±15:59, and windows reaching past year 1 (hypothesis found both).
    ("concerns", "GET", "/open311/v2/requests.json?start_date=2026-01-01T00:00:00%2B20:00", {}, 200),
    ("concerns", "GET", "/open311/v2/requests.json?end_date=0001-01-02T00:00:00Z", {}, 200),
    ("concerns", "GET", "/open311/v2/servicerequestupdates.json?start_date=0001-01-01T00:00:00%2B05:00", {}, 400),
    # Integers beyond 64 bits, in a path or a body of any service (the shared int converter and body check).
    ("surveys", "GET", f"/surveys/safety/versions/{BEYOND_64_BITS}", {}, 404),
    ("surveys", "POST", "/waves", {"json": {**WAVE, "survey_version": BEYOND_64_BITS}, "headers": ADMIN}, 400),
    ("surveys", "POST", "/waves", {"json": {**WAVE, "survey_version": 1e30}, "headers": ADMIN}, 400),
    # Integers beyond the database's integer columns.
    ("surveys", "PUT", f"/populations/{BEAT}", {"json": {"population": 25254411803683824}, "headers": ADMIN}, 400),
    (
        "referrals",
        "POST",
        "/organizations",
        {"json": {"name": "Big Ext", "phones": [{"number": "555 0100", "extension": 43055087601}]}, "headers": ADMIN},
        400,
    ),
]


def test_requests_that_once_crashed_a_service_are_answered(world):
    wrong = []
    for service, method, path, kwargs, status in ONCE_500:
        response = world.call(service, method, path, **kwargs)
        body = response.json()
        if status == 400:  # an error in Open311's list shape, or in Beat's
            shaped = body[0]["code"] == 400 if isinstance(body, list) else body["error"]["code"] == "invalid_input"
        else:
            shaped = True
        if response.status_code != status or not shaped:
            wrong.append(f"{service} {method} {path}: {response.status_code} {response.text[:200]}")
    assert not wrong, "\n".join(wrong)


def test_documents_describe_what_the_services_answer(world):
    """Fields and statuses schemathesis found undocumented are in the documents now."""
    concerns = world.call("concerns", "GET", "/openapi.json").json()
    components = concerns["components"]["schemas"]
    assert {"acknowledged_at", "ended_at", "media_url", "reporter"} <= set(components["ConcernOutput"]["properties"])
    assert "concluded_at" in components["MeetingOutput"]["properties"]
    paths = concerns["paths"]
    assert "409" in paths["/meetings/{meeting_id}/agenda"]["post"]["responses"]
    assert "409" in paths["/meetings/{meeting_id}/conclusion"]["post"]["responses"]
    assert "204" in paths["/beats/{code}/officers/{subject}"]["delete"]["responses"]
    assert "text/xml" in paths["/open311/v2/services.{fmt}"]["get"]["responses"]["200"]["content"]
    notifications = world.call("notifications", "GET", "/openapi.json").json()["paths"]
    assert "401" in notifications["/sms/inbound"]["post"]["responses"]
    assert "200" in notifications["/me/subscriptions"]["post"]["responses"]
