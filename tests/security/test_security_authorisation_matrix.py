"""The authorisation matrix: every HTTP endpoint of every service x every kind of caller.

One table, one row per endpoint (discovered from the services' OpenAPI documents: an
endpoint without a row fails the test), one expected status per caller:

  none      no credentials               rsd  the resident who raised the concern
  oth       another resident             rct  the concern's receipt token (X-Receipt-Token)
  off       officer of the beat (RV-02)  oof  officer of another beat (RV-05)
  sup       supervisor                   agA  agency A (the referral's agency)   agB  agency B
  ana       analyst                      adm  admin

Requests that change something are shaped so that each cell sees the same state: a
transition with a stale version (allowed callers get 409, the others 401/403), a move on
a referral already declined, a withdrawal of a consent already withdrawn, or a body that
fails validation (400) where the endpoint has no per-record rule (role-only gates).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple

from security_scenario import ROLES, Scenario, consent_body
from security_world import AGENCY_A, BEAT, OTHER_BEAT, SERVICES


class Row(NamedTuple):
    expected: str  # one status per caller, in the order of ROLES
    path: str = ""  # the concrete path ({ids} filled from the scenario); default: the operation's own
    body: Any = None
    query: str = ""


STALE = {"status": "acknowledged", "version": 999}
MEETING = {
    "kind": "community_meeting",
    "title": "Matrix meeting",
    "venue": "Library",
    "starts_at": "2027-03-01T18:00:00Z",
    "ends_at": "2027-03-01T19:00:00Z",
}

#                                                      none rsd oth rct off oof sup agA agB ana adm
MATRIX: dict[str, dict[str, Row]] = {
    "concerns": {
        "GET /healthz": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /readyz": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /metrics": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /openapi.json": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /openapi.html": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "POST /concerns": Row(
            "201 201 201 201 201 201 201 201 201 201 201",
            body={"category": "noise", "description": "Matrix row.", "location": {"lat": 43.045, "long": -108.38}},
        ),
        "GET /concerns": Row("401 403 403 401 200 200 200 403 403 403 200"),
        "GET /concerns/similar": Row(
            "200 200 200 200 200 200 200 200 200 200 200", query="category=noise&lat=43.045&long=-108.38"
        ),
        "GET /concerns/{concern_id}": Row("401 200 403 200 200 403 200 403 403 403 200", "/concerns/{concern}"),
        "POST /concerns/{concern_id}/transitions": Row(
            "401 403 403 401 409 403 409 403 403 403 409", "/concerns/{concern}/transitions", STALE
        ),
        "POST /concerns/{concern_id}/notes": Row(
            "401 403 403 401 409 403 409 403 403 403 409",
            "/concerns/{concern}/notes",
            {"version": 999, "public_note": "Matrix row."},
        ),
        "POST /concerns/{concern_id}/withdraw": Row(
            "401 409 403 409 403 403 403 403 403 403 403", "/concerns/{concern}/withdraw", {"version": 999}
        ),
        "POST /concerns/{concern_id}/support": Row(
            "200 200 200 200 403 403 403 403 403 403 403", "/concerns/{concern}/support"
        ),
        "GET /receipts/{token}": Row("200 200 200 200 200 200 200 200 200 200 200", "/receipts/{receipt}"),
        "GET /me/concerns": Row("401 200 200 401 403 403 403 403 403 403 403"),
        "POST /referral-requests": Row("401 403 403 401 201 403 201 403 403 403 201", body="REFERRAL_REQUEST"),
        "GET /public/concerns": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /public/concerns.geojson": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /public/concerns/{concern_id}": Row(
            "200 200 200 200 200 200 200 200 200 200 200", "/public/concerns/{concern}"
        ),
        "GET /categories": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /categories/{code}": Row("200 200 200 200 200 200 200 200 200 200 200", "/categories/noise"),
        "PUT /categories/{code}": Row("401 403 403 401 403 403 403 403 403 403 400", "/categories/noise", {}),
        "PATCH /categories/{code}": Row(
            "401 403 403 401 403 403 403 403 403 403 400", "/categories/noise", {"acknowledge_hours": 0}
        ),
        "GET /beats": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /beats.geojson": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "POST /beats/import": Row("401 403 403 401 403 403 403 403 403 403 400", body={}),
        "GET /beats/{code}": Row("200 200 200 200 200 200 200 200 200 200 200", f"/beats/{BEAT}"),
        "PUT /officers/{subject}": Row("401 403 403 401 403 403 400 403 403 403 400", "/officers/officer-rv02", {}),
        "POST /beats/{code}/officers": Row(
            "401 403 403 401 403 403 400 403 403 403 400", f"/beats/{BEAT}/officers", {}
        ),
        "DELETE /beats/{code}/officers/{subject}": Row(
            "401 403 403 401 403 403 404 403 403 403 404", f"/beats/{BEAT}/officers/officer-nobody"
        ),
        "POST /beats/{code}/meetings": Row(
            "401 403 403 401 201 403 201 403 403 403 201", f"/beats/{BEAT}/meetings", MEETING
        ),
        "GET /beats/{code}/agenda": Row("401 403 403 401 200 403 200 403 403 403 200", f"/beats/{BEAT}/agenda"),
        "GET /me/beats": Row("401 403 403 401 200 200 200 403 403 403 200"),
        "GET /beats/{code}/meetings": Row("200 200 200 200 200 200 200 200 200 200 200", f"/beats/{BEAT}/meetings"),
        "GET /meetings/{meeting_id}": Row("200 200 200 200 200 200 200 200 200 200 200", "/meetings/{meeting}"),
        "POST /meetings/{meeting_id}/agenda": Row(
            "401 403 403 401 409 403 409 403 403 403 409", "/meetings/{meeting}/agenda"
        ),
        "POST /meetings/{meeting_id}/conclusion": Row(
            "401 403 403 401 409 403 409 403 403 403 409", "/meetings/{meeting}/conclusion", {"summary": "again"}
        ),
        "GET /beats/{code}/actions": Row("200 200 200 200 200 200 200 200 200 200 200", f"/beats/{BEAT}/actions"),
        "PATCH /actions/{action_id}": Row(
            "401 403 403 401 200 403 200 403 403 403 200", "/actions/{action}", {"status": "open"}
        ),
        "GET /beats/{code}/priorities": Row("200 200 200 200 200 200 200 200 200 200 200", f"/beats/{BEAT}/priorities"),
        "PUT /beats/{code}/priorities": Row(
            "401 403 403 401 200 403 200 403 403 403 200",
            f"/beats/{BEAT}/priorities",
            {"period": "2027-Q1", "items": [{"title": "Car park"}]},
        ),
        "GET /beats/{code}/problem-candidates": Row(
            "401 403 403 401 200 403 200 403 403 403 200", f"/beats/{BEAT}/problem-candidates"
        ),
        "POST /problems": Row(
            "401 403 403 401 201 403 201 403 403 403 201",
            body={"beat_code": BEAT, "title": "Matrix problem", "categories": ["noise"]},
        ),
        "GET /beats/{code}/problems": Row("401 403 403 401 200 403 200 403 403 403 200", f"/beats/{BEAT}/problems"),
        "GET /problems/{problem_id}": Row("401 403 403 401 200 403 200 403 403 403 200", "/problems/{problem}"),
        "POST /problems/{problem_id}/concerns": Row(
            "401 403 403 401 200 403 200 403 403 403 200", "/problems/{problem}/concerns", "PROBLEM_CONCERNS"
        ),
        "POST /problems/{problem_id}/stage": Row(
            "401 403 403 401 409 403 409 403 403 403 409", "/problems/{problem}/stage", {"stage": "response"}
        ),
        "POST /problems/{problem_id}/notes": Row(
            "401 403 403 401 201 403 201 403 403 403 201",
            "/problems/{problem}/notes",
            {"side": "place", "text": "Matrix row."},
        ),
        "POST /problems/{problem_id}/actions": Row(
            "401 403 403 401 400 403 400 403 403 403 400", "/problems/{problem}/actions", {"description": "Half"}
        ),
        "POST /problems/{problem_id}/referrals": Row(
            "401 403 403 401 200 403 200 403 403 403 200", "/problems/{problem}/referrals", {"referral_id": "matrix"}
        ),
        "POST /problems/{problem_id}/referral-requests": Row(
            "401 403 403 401 201 403 201 403 403 403 201", "/problems/{problem}/referral-requests", "PROBLEM_REFERRAL"
        ),
        "GET /problems/{problem_id}/assessment": Row(
            "401 403 403 401 409 403 409 403 403 403 409", "/problems/{problem}/assessment"
        ),
        "POST /problems/{problem_id}/assessment": Row(
            "401 403 403 401 409 403 409 403 403 403 409", "/problems/{problem}/assessment", {"outcome": "solved"}
        ),
        "GET /public/problems/{problem_id}": Row(
            "200 200 200 200 200 200 200 200 200 200 200", "/public/problems/{problem}"
        ),
        "GET /tips/notice": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "POST /tips": Row(
            "201 201 201 201 201 201 201 201 201 201 201", body={"beat_code": BEAT, "text": "Matrix tip."}
        ),
        # Tips: only the beat's officers and supervisors (not admins); supervisors alone see who read one.
        "GET /beats/{code}/tips": Row("401 403 403 401 200 403 200 403 403 403 403", f"/beats/{BEAT}/tips"),
        "GET /tips/{tip_id}": Row("401 403 403 401 200 403 200 403 403 403 403", "/tips/{tip}"),
        "PUT /tips/{tip_id}/problem": Row(
            "401 403 403 401 200 403 200 403 403 403 403", "/tips/{tip}/problem", "TIP_PROBLEM"
        ),
        "GET /tips/{tip_id}/reads": Row("401 403 403 401 403 403 200 403 403 403 403", "/tips/{tip}/reads"),
        "GET /open311/v2/discovery.{fmt}": Row(
            "200 200 200 200 200 200 200 200 200 200 200", "/open311/v2/discovery.json"
        ),
        "GET /open311/v2/services.{fmt}": Row(
            "200 200 200 200 200 200 200 200 200 200 200", "/open311/v2/services.json"
        ),
        "GET /open311/v2/services/{code}.{fmt}": Row(
            "200 200 200 200 200 200 200 200 200 200 200", "/open311/v2/services/noise.json"
        ),
        "GET /open311/v2/service/{code}.{fmt}": Row(
            "200 200 200 200 200 200 200 200 200 200 200", "/open311/v2/service/noise.json"
        ),
        "POST /open311/v2/requests.{fmt}": Row(
            "200 200 200 200 200 200 200 200 200 200 200", "/open311/v2/requests.json", "OPEN311_FORM"
        ),
        "GET /open311/v2/requests.{fmt}": Row(
            "200 200 200 200 200 200 200 200 200 200 200", "/open311/v2/requests.json"
        ),
        "GET /open311/v2/requests/{request_id}.{fmt}": Row(
            "200 200 200 200 200 200 200 200 200 200 200", "/open311/v2/requests/{concern}.json"
        ),
        "GET /open311/v2/tokens/{token}.{fmt}": Row(
            "200 200 200 200 200 200 200 200 200 200 200", "/open311/v2/tokens/{receipt}.json"
        ),
        "GET /open311/v2/servicerequestupdates.{fmt}": Row(
            "200 200 200 200 200 200 200 200 200 200 200", "/open311/v2/servicerequestupdates.json"
        ),
        "GET /open311/v2/{rest}": Row("404 404 404 404 404 404 404 404 404 404 404", "/open311/v2/nothing-here"),
        "POST /open311/v2/{rest}": Row("404 404 404 404 404 404 404 404 404 404 404", "/open311/v2/nothing-here"),
    },
    "referrals": {
        "GET /healthz": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /readyz": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /metrics": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /openapi.json": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /openapi.html": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /services": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /services/{service_id}": Row("200 200 200 200 200 200 200 200 200 200 200", "/services/{pantry}"),
        "POST /services": Row("401 403 403 401 403 403 403 403 403 403 400", body={}),
        "PATCH /services/{service_id}": Row(
            "401 403 403 401 403 403 403 403 403 403 400", "/services/{pantry}", {"name": ""}
        ),
        "GET /organizations": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /organizations/{organization_id}": Row(
            "200 200 200 200 200 200 200 200 200 200 200", "/organizations/{organization}"
        ),
        "POST /organizations": Row("401 403 403 401 403 403 403 403 403 403 400", body={}),
        "PATCH /organizations/{organization_id}": Row(
            "401 403 403 401 403 403 403 403 403 403 400", "/organizations/{organization}", {"name": ""}
        ),
        "POST /locations": Row("401 403 403 401 403 403 403 403 403 403 201", body={"name": "Matrix annex"}),
        "PATCH /locations/{location_id}": Row(
            "401 403 403 401 403 403 403 403 403 403 404", "/locations/nowhere", {"name": ""}
        ),
        "GET /taxonomies": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /taxonomies/{taxonomy_id}": Row("200 200 200 200 200 200 200 200 200 200 200", "/taxonomies/{taxonomy}"),
        "POST /taxonomies": Row("401 403 403 401 403 403 403 403 403 403 400", body={}),
        "GET /taxonomy_terms": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /taxonomy_terms/{term_id}": Row("200 200 200 200 200 200 200 200 200 200 200", "/taxonomy_terms/{term}"),
        "POST /taxonomy_terms": Row("401 403 403 401 403 403 403 403 403 403 400", body={}),
        "PATCH /taxonomy_terms/{term_id}": Row(
            "401 403 403 401 403 403 403 403 403 403 400", "/taxonomy_terms/{term}", {"name": ""}
        ),
        "GET /service_at_locations": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /service_at_locations/{link_id}": Row(
            "200 200 200 200 200 200 200 200 200 200 200", "/service_at_locations/{link}"
        ),
        "GET /hsds/export": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "POST /hsds/import": Row("401 403 403 401 403 403 403 403 403 403 200", body={}),
        "GET /match": Row("401 403 403 401 200 200 200 403 403 403 200", query=f"need_category=food&beat_code={BEAT}"),
        "POST /referrals": Row("401 403 403 401 400 400 400 403 403 403 403", body={}),
        "GET /referrals": Row("401 403 403 401 200 200 200 200 200 403 200"),
        # Any officer may read a referral (referrals-consent-and-agency-access.md); agency B never sees A's.
        "GET /referrals/{referral_id}": Row("401 403 403 401 200 200 200 200 404 403 200", "/referrals/{referral}"),
        "PATCH /referrals/{referral_id}": Row(
            "401 403 403 401 409 409 409 403 403 403 403", "/referrals/{referral}", {"urgency": "urgent"}
        ),
        "POST /referrals/{referral_id}/consent": Row(
            "401 403 403 401 409 409 409 403 403 403 403", "/referrals/{declined_referral}/consent", "CONSENT"
        ),
        "POST /referrals/{referral_id}/send": Row(
            "401 403 403 401 409 409 409 403 403 403 403", "/referrals/{referral}/send"
        ),
        "POST /referrals/{referral_id}/cancel": Row(
            "401 403 403 401 409 409 409 403 403 403 403", "/referrals/{declined_referral}/cancel", {"reason": "other"}
        ),
        "POST /referrals/{referral_id}/accept": Row(
            "401 403 403 401 403 403 403 409 404 403 403", "/referrals/{declined_referral}/accept"
        ),
        "POST /referrals/{referral_id}/decline": Row(
            "401 403 403 401 403 403 403 409 404 403 403",
            "/referrals/{declined_referral}/decline",
            {"reason": "no_capacity"},
        ),
        "POST /referrals/{referral_id}/start": Row(
            "401 403 403 401 403 403 403 409 404 403 403", "/referrals/{declined_referral}/start"
        ),
        "POST /referrals/{referral_id}/outcome": Row(
            "401 403 403 401 403 403 403 409 404 403 403",
            "/referrals/{declined_referral}/outcome",
            {"outcome": "got_help"},
        ),
        "POST /referrals/{referral_id}/status": Row(
            "401 403 403 401 403 403 403 409 404 403 403",
            "/referrals/{declined_referral}/status",
            {"status": "accepted"},
        ),
        "GET /consents/{consent_id}": Row("401 403 403 401 200 200 200 403 403 403 200", "/consents/{consent}"),
        "POST /consents/{consent_id}/withdraw": Row(
            "401 403 403 401 409 409 409 403 403 403 409",
            "/consents/{withdrawn_consent}/withdraw",
            {"method": "verbal"},
        ),
        "POST /agencies/{agency_id}/webhooks": Row(
            "401 403 403 401 403 403 403 201 403 403 201",
            f"/agencies/{AGENCY_A}/webhooks",
            {"url": "https://93.184.216.34/matrix"},
        ),
        "GET /agencies/{agency_id}/webhooks": Row(
            "401 403 403 401 403 403 403 200 403 403 200", f"/agencies/{AGENCY_A}/webhooks"
        ),
        "GET /agencies/me/integration": Row("401 403 403 401 403 403 403 200 200 403 403"),
        "POST /agencies/{agency_id}/webhooks/{endpoint_id}/rotate": Row(
            "401 403 403 401 403 403 403 200 403 403 200", f"/agencies/{AGENCY_A}/webhooks/{{webhook}}/rotate"
        ),
        "DELETE /agencies/{agency_id}/webhooks/{endpoint_id}": Row(
            "401 403 403 401 403 403 403 200 403 403 200", f"/agencies/{AGENCY_A}/webhooks/{{webhook_to_delete}}"
        ),
        "GET /audit-log": Row("401 403 403 401 403 403 403 403 403 403 200"),
        "GET /reports/outcomes": Row("401 403 403 401 403 403 200 200 200 200 200"),
    },
    "notifications": {
        "GET /healthz": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /readyz": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /metrics": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /openapi.json": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /openapi.html": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /dev/outbox": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /me/contact": Row("401 200 200 401 200 200 200 403 403 403 403"),
        "PUT /me/contact": Row("401 200 200 401 200 200 200 403 403 403 403", body={"language": "en"}),
        "GET /me/preferences": Row("401 200 200 401 200 200 200 403 403 403 403"),
        "PUT /me/preferences": Row("401 400 400 401 400 400 400 403 403 403 403", body={}),
        "POST /me/opt-out": Row("401 200 200 401 200 200 200 403 403 403 403"),
        "DELETE /me/opt-out": Row("401 200 200 401 200 200 200 403 403 403 403"),
        "GET /me/subscriptions": Row("401 200 200 401 200 200 200 403 403 403 403"),
        "POST /me/subscriptions": Row("401 201 201 401 201 201 201 403 403 403 403", body={"beat_code": BEAT}),
        "DELETE /me/subscriptions/{beat_code}": Row(
            "401 404 404 401 404 404 404 403 403 403 403", f"/me/subscriptions/{OTHER_BEAT}"
        ),
        # Following a beat without an account: asking is open to all (and always answers 202); the rest
        # takes a subscriber's manage token in its own header, which no bearer token or receipt stands for.
        "POST /subscribers": Row(
            "202 202 202 202 202 202 202 202 202 202 202", body={"email": "matrix@example.org", "beat_code": BEAT}
        ),
        "POST /subscribers/confirm": Row("400 400 400 400 400 400 400 400 400 400 400", body={"token": "forged"}),
        "GET /subscribers/me": Row("401 401 401 401 401 401 401 401 401 401 401"),
        "PUT /subscribers/me/language": Row("401 401 401 401 401 401 401 401 401 401 401", body={"language": "es"}),
        "DELETE /subscribers/me/beats/{beat_code}": Row(
            "401 401 401 401 401 401 401 401 401 401 401", f"/subscribers/me/beats/{BEAT}"
        ),
        "DELETE /subscribers/me": Row("401 401 401 401 401 401 401 401 401 401 401"),
        "GET /inbox": Row("401 200 200 401 200 200 200 403 403 403 403"),
        "GET /inbox/unread-count": Row("401 200 200 401 200 200 200 403 403 403 403"),
        "POST /inbox/read-all": Row("401 200 200 401 200 200 200 403 403 403 403"),
        "POST /inbox/{item_id}/read": Row("401 404 404 401 404 404 404 403 403 403 403", "/inbox/999999/read"),
        # Officers of other beats could alert any beat's subscribers until this matrix found it.
        "POST /broadcasts/{beat_code}": Row(
            "401 403 403 401 201 403 201 403 403 403 403", f"/broadcasts/{BEAT}", {"kind": "alert", "title": "Matrix"}
        ),
        "POST /broadcasts/{beat_code}/preview": Row(
            "401 403 403 401 200 403 200 403 403 403 403",
            f"/broadcasts/{BEAT}/preview",
            {"kind": "alert", "title": "Matrix"},
        ),
        "GET /messages": Row("401 403 403 401 403 403 200 403 403 403 200"),
        "GET /messages/{message_id}": Row("401 403 403 401 403 403 404 403 403 403 404", "/messages/999999"),
        "POST /messages/{message_id}/retry": Row(
            "401 403 403 401 403 403 403 403 403 403 404", "/messages/999999/retry"
        ),
        "GET /notifications": Row("401 403 403 401 403 403 200 403 403 403 200"),
        "GET /templates": Row("401 403 403 401 403 403 403 403 403 403 200"),
        "POST /templates/{name}/preview": Row(
            "401 403 403 401 403 403 403 403 403 403 404", "/templates/nothing/preview", {}
        ),
        "POST /webhooks/validate-url": Row(
            "401 403 403 401 403 403 403 200 200 403 200", body={"url": "https://93.184.216.34/hook"}
        ),
        "POST /sms/inbound": Row(
            "401 401 401 401 401 401 401 401 401 401 401", body={"from": "+15550100", "text": "STOP"}
        ),
        "GET /unsubscribe/{token}": Row("400 400 400 400 400 400 400 400 400 400 400", "/unsubscribe/not-a-token"),
        "POST /unsubscribe/{token}": Row("400 400 400 400 400 400 400 400 400 400 400", "/unsubscribe/not-a-token"),
    },
    "surveys": {
        "GET /healthz": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /readyz": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /metrics": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /openapi.json": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /openapi.html": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /item-bank": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /surveys": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "POST /surveys": Row("401 403 403 401 403 403 403 403 403 400 400", body={}),
        "GET /surveys/{code}": Row("200 200 200 200 200 200 200 200 200 200 200", "/surveys/{survey}"),
        "GET /surveys/{code}/versions/{version}": Row(
            "200 200 200 200 200 200 200 200 200 200 200", "/surveys/{survey}/versions/1"
        ),
        "GET /waves": Row("401 403 403 401 403 403 200 403 403 200 200"),
        "POST /waves": Row("401 403 403 401 403 403 403 403 403 400 400", body={}),
        "GET /waves/{wave_id}": Row("401 403 403 401 403 403 200 403 403 200 200", "/waves/{wave}"),
        "POST /waves/{wave_id}/invitations": Row(
            "401 403 403 401 403 403 403 403 403 201 201", "/waves/{wave}/invitations"
        ),
        "POST /invitations/survey": Row("400 400 400 400 400 400 400 400 400 400 400", body={}),
        "POST /responses": Row("400 400 400 400 400 400 400 400 400 400 400", body={}),
        "GET /open/{slug}": Row("404 404 404 404 404 404 404 404 404 404 404", "/open/no-such-link"),
        "POST /open/{slug}/responses": Row(
            "400 400 400 400 400 400 400 400 400 400 400", "/open/no-such-link/responses", {}
        ),
        "GET /respond": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /results": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /results.csv": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /report-cards": Row("200 200 200 200 200 200 200 200 200 200 200", query="period=2026-Q1"),
        "GET /report-cards/{beat_code}": Row(
            "200 200 200 200 200 200 200 200 200 200 200", f"/report-cards/{BEAT}", query="period=2026-Q1"
        ),
        "PUT /populations/{beat_code}": Row(
            "401 403 403 401 403 403 403 403 403 200 200", f"/populations/{BEAT}", {"population": 9000}
        ),
        "GET /dashboard": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /dashboard/app.js": Row("200 200 200 200 200 200 200 200 200 200 200"),
        "GET /dashboard/beats/{beat_code}": Row(
            "200 200 200 200 200 200 200 200 200 200 200", f"/dashboard/beats/{BEAT}"
        ),
    },
}


def extra_ids(scenario: Scenario) -> dict[str, str]:
    """Identifiers of demo rows the table names (directory entries, surveys, waves)."""
    call = scenario.call
    admin = scenario.headers["admin"]
    services = call("referrals", "GET", "/services?search=pantry").json()["contents"]
    links = call("referrals", "GET", "/service_at_locations").json()["contents"]
    return {
        "pantry": services[0]["id"],
        "organization": call("referrals", "GET", "/organizations").json()["contents"][0]["id"],
        "taxonomy": call("referrals", "GET", "/taxonomies").json()["contents"][0]["id"],
        "term": call("referrals", "GET", "/taxonomy_terms").json()["contents"][0]["id"],
        "link": links[0]["id"],
        "survey": call("surveys", "GET", "/surveys").json()["contents"][0]["code"],
        "wave": call("surveys", "GET", "/waves", headers=admin).json()["contents"][0]["id"],
    }


def named_bodies(scenario: Scenario) -> dict[str, Any]:
    """Bodies that need the scenario (or a form encoding) to be valid."""
    now = datetime.now(UTC)
    return {
        "CONSENT": consent_body(now),
        "REFERRAL_REQUEST": {
            "concern_id": scenario.ids["concern"],
            "beat_code": BEAT,
            "need_category": "food",
            "client": {"name": "Matrix Client", "phone": "+1 555 0100 000"},
            "consent": consent_body(now),
        },
        "PROBLEM_REFERRAL": {
            "need_category": "food",
            "client": {"name": "Matrix Client", "phone": "+1 555 0100 000"},
            "consent": consent_body(now),
        },
        "PROBLEM_CONCERNS": {"concern_ids": [scenario.ids["concern"]]},
        "TIP_PROBLEM": {"problem_id": scenario.ids["problem"]},
        "OPEN311_FORM": {
            "api_key": "open311-development-key",
            "service_code": "noise",
            "description": "Matrix row over Open311.",
            "lat": "43.045",
            "long": "-108.38",
        },
    }


def test_every_endpoint_answers_every_caller_as_the_matrix_says(world):
    scenario = Scenario.build(world)
    ids = {**scenario.ids, **extra_ids(scenario)}
    bodies = named_bodies(scenario)
    missing, wrong = [], []
    for service in SERVICES:
        document = world.call(service, "GET", "/openapi.json").json()
        operations = [f"{verb.upper()} {path}" for path, verbs in document["paths"].items() for verb in verbs]
        table = MATRIX[service]
        missing += [f"{service} {operation}" for operation in operations if operation not in table]
        for operation, row in table.items():
            method, template = operation.split(" ", 1)
            path = (row.path or template).format(**ids) + (f"?{row.query}" if row.query else "")
            body = bodies.get(row.body, row.body) if isinstance(row.body, str) else row.body
            statuses = []
            for role in ROLES:
                kwargs: dict[str, Any] = {"headers": scenario.headers[role]}
                if row.body == "OPEN311_FORM":
                    kwargs["data"] = body
                elif body is not None:
                    kwargs["json"] = body
                statuses.append(str(world.call(service, method, path, **kwargs).status_code))
            expected = row.expected.split()
            if expected != statuses:
                wrong.append(f"{service} {operation}: expected {row.expected}, got {' '.join(statuses)}")
    assert not missing, f"endpoints without a row in the matrix: {missing}"
    assert not wrong, "\n".join(wrong)
