"""Bearer tokens, body size, rate limits and webhook addresses, over real HTTP per service.

* forged tokens are refused by every service: `alg: none`, algorithm confusion (an RS256 or
  HS512 header over the shared secret), a wrong key, audience or issuer, an expired token;
* bodies over BEAT_MAX_BODY_BYTES are refused with 413 (with and without Content-Length);
* concerns' submission limits answer 429 with Retry-After (JSON API and Open311 share them);
* with BEAT_ENVIRONMENT=production, webhook endpoints on private, loopback, link-local or
  metadata addresses, and plain-http ones, are refused by referrals (registration) and by
  notifications (the URL check it applies before every delivery) - even if the development
  switches that allow them locally are left on.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from security_world import AGENCY_A, SECRET, SERVICES, bearer

from beat_shared.auth import mint_token
from beat_shared.config import UnsafeConfiguration

# One admin-only read per service: 200 with a good token, 401 with any forged one.
ADMIN_READS = {
    "concerns": "/concerns",
    "referrals": "/audit-log",
    "notifications": "/templates",
    "surveys": "/waves",
}
LIMIT = 20_000
# An endpoint per service that reads a JSON body (anyone may call them).
BODY_ENDPOINTS = {
    "concerns": "/concerns",
    "referrals": "/organizations",
    "notifications": "/sms/inbound",
    "surveys": "/responses",
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims() -> dict:
    now = int(time.time())
    return {"sub": "mallory", "role": "admin", "iat": now, "exp": now + 600, "iss": "beat", "aud": "beat"}


def _token(header: dict, claims: dict, key: bytes | None, digest=hashlib.sha256) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = _b64(hmac.new(key, signing_input.encode(), digest).digest()) if key else ""
    return f"{signing_input}.{signature}"


def forged_tokens() -> dict[str, str]:
    secret = SECRET.encode()
    return {
        "alg none": _token({"alg": "none", "typ": "JWT"}, _claims(), None),
        "alg None (case)": _token({"alg": "None", "typ": "JWT"}, _claims(), None),
        "RS256 header, HMAC with the secret": _token({"alg": "RS256", "typ": "JWT"}, _claims(), secret),
        "HS512 with the secret": _token({"alg": "HS512", "typ": "JWT"}, _claims(), secret, hashlib.sha512),
        "HS256 with another key": jwt.encode(_claims(), "another-key-that-is-32-bytes-long!", algorithm="HS256"),
        "wrong audience": mint_token("admin", "mallory", SECRET, audience="elsewhere"),
        "wrong issuer": mint_token("admin", "mallory", SECRET, issuer="elsewhere"),
        "expired": mint_token("admin", "mallory", SECRET, ttl_seconds=-60),
        "unknown role": _token({"alg": "HS256", "typ": "JWT"}, {**_claims(), "role": "root"}, secret),
        "no exp": _token({"alg": "HS256", "typ": "JWT"}, {k: v for k, v in _claims().items() if k != "exp"}, secret),
    }


def test_forged_tokens_oversized_bodies_and_submission_floods_are_refused(start_world):
    world = start_world(
        settings={
            **{service: {"BEAT_MAX_BODY_BYTES": str(LIMIT)} for service in SERVICES},
            "concerns": {
                "BEAT_MAX_BODY_BYTES": str(LIMIT),
                "CONCERNS_RATE_PER_ADDRESS": "4/3600",
                "CONCERNS_RATE_PER_TOKEN": "2/3600",
            },
        }
    )
    # --- tokens -----------------------------------------------------------------------------
    wrong = []
    for service, path in ADMIN_READS.items():
        assert world.call(service, "GET", path, headers=bearer("admin", "admin-1")).status_code == 200, service
        for name, token in forged_tokens().items():
            response = world.call(service, "GET", path, headers={"Authorization": f"Bearer {token}"})
            if response.status_code != 401 or response.json()["error"]["code"] != "unauthenticated":
                wrong.append(f"{service} accepted a token ({name}): {response.status_code}")
    assert not wrong, "\n".join(wrong)

    # --- body size --------------------------------------------------------------------------
    big = json.dumps({"description": "x" * (LIMIT + 10)}).encode()
    for service, path in BODY_ENDPOINTS.items():
        headers = {"Content-Type": "application/json", **bearer("admin", "admin-1")}
        sized = world.call(service, "POST", path, data=big, headers=headers)
        chunked = world.call(service, "POST", path, data=iter([big[:LIMIT], big[LIMIT:]]), headers=headers)
        for response in (sized, chunked):
            assert response.status_code == 413, (service, response.status_code, response.text[:200])
            assert response.json()["error"]["code"] == "payload_too_large"

    # --- submission rate limits (per client address, then per token) -------------------------
    body = {"category": "noise", "description": "Flood.", "location": {"lat": 43.045, "long": -108.38}}
    resident = bearer("resident", "resident-flood")
    statuses = [world.call("concerns", "POST", "/concerns", json=body, headers=resident).status_code for _ in range(3)]
    assert statuses == [201, 201, 429], statuses  # two per token
    statuses = [world.call("concerns", "POST", "/concerns", json=body).status_code for _ in range(3)]
    assert statuses == [201, 429, 429], statuses  # four per address in all
    refused = world.call("concerns", "POST", "/concerns", json=body)
    assert refused.json()["error"]["code"] == "rate_limited" and int(refused.headers["Retry-After"]) > 0
    form = {"api_key": "open311-development-key", "service_code": "noise", "description": "Flood.", "lat": "43.045"}
    over311 = world.call("concerns", "POST", "/open311/v2/requests.json", data={**form, "long": "-108.38"})
    assert over311.status_code == 429 and over311.json()[0]["code"] == 429 and "Retry-After" in over311.headers


PRIVATE_URLS = [
    "https://127.0.0.1/hook",
    "https://10.0.0.5/hook",
    "https://172.16.0.1/hook",
    "https://192.168.1.10/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://0.0.0.0/hook",
    "https://[::1]/hook",
    "https://[fd00::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "http://93.184.216.34/hook",  # public, but not https
]


def test_production_refuses_webhooks_to_private_addresses(start_world):
    secret = "production-jwt-secret-for-the-security-tests"
    production = {
        "BEAT_ENVIRONMENT": "production",
        "BEAT_JWT_SECRET": secret,
        "SURVEYS_TOKEN_SECRET": "production-surveys-secret-for-the-security-tests",
        "NOTIFICATIONS_SIGNING_SECRET": "production-signing-secret-for-the-security-tests",
    }
    # The switches that allow private and plain-http endpoints for local testing: production
    # refuses to start with any of them on (they once silently disabled the protection).
    for service, switch, value in (
        ("referrals", "REFERRALS_WEBHOOKS_ALLOW_HTTP", "true"),
        ("notifications", "NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("notifications", "NOTIFICATIONS_WEBHOOK_REQUIRE_HTTPS", "false"),
    ):
        with pytest.raises(UnsafeConfiguration, match=switch):
            start_world(services=(service,), settings={service: {**production, switch: value}})
    world = start_world(
        services=("referrals", "notifications"), settings={"referrals": production, "notifications": production}
    )
    admin = {"Authorization": f"Bearer {mint_token('admin', 'admin-1', secret)}"}
    accepted = []
    for url in PRIVATE_URLS:
        registered = world.call("referrals", "POST", f"/agencies/{AGENCY_A}/webhooks", json={"url": url}, headers=admin)
        checked = world.call("notifications", "POST", "/webhooks/validate-url", json={"url": url}, headers=admin)
        if registered.status_code != 400:
            accepted.append(f"referrals registered {url}: {registered.status_code}")
        if checked.status_code != 400:
            accepted.append(f"notifications would deliver to {url}: {checked.status_code}")
    public = "https://93.184.216.34/hook"
    registered = world.call("referrals", "POST", f"/agencies/{AGENCY_A}/webhooks", json={"url": public}, headers=admin)
    checked = world.call("notifications", "POST", "/webhooks/validate-url", json={"url": public}, headers=admin)
    assert (registered.status_code, checked.status_code) == (201, 200)
    assert not accepted, "\n".join(accepted)
