"""One JSON error shape, body limits and bearer-token authentication over real HTTP."""

import base64
import json
import time

import jwt
import pytest

from beat_shared.auth import TokenVerifier, mint_token
from beat_shared.config import env
from beat_shared.errors import Unauthenticated

SECRET = env("BEAT_JWT_SECRET")


def token(role="officer", **kwargs):
    return mint_token(role, "someone", SECRET, **kwargs)


def bearer(value):
    return {"Authorization": f"Bearer {value}"}


def assert_error_shape(response, status, code):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert "details" in error


def test_valid_token_with_the_right_role_is_let_in(ledger, web_session):
    created = web_session.post("/entries", json={"subject": "x", "sequence": 1}).json()
    response = web_session.get(f"/entries/{created['id']}", headers=bearer(token("officer")))
    assert response.status_code == 200
    assert response.json()["reader"] == "someone"


def test_missing_token_is_401(ledger, web_session):
    assert_error_shape(web_session.get("/entries/1"), 401, "unauthenticated")


def test_wrong_role_is_403(ledger, web_session):
    assert_error_shape(web_session.get("/entries/1", headers=bearer(token("resident"))), 403, "forbidden")


def test_expired_token_is_401(ledger, web_session):
    expired = mint_token("officer", "someone", SECRET, ttl_seconds=-10)
    response = web_session.get("/entries/1", headers=bearer(expired))
    assert_error_shape(response, 401, "unauthenticated")
    assert "expired" in response.json()["error"]["message"]


def test_wrongly_signed_token_is_401(ledger, web_session):
    forged = mint_token("admin", "someone", "not-the-secret-but-thirty-two-bytes-long")
    assert_error_shape(web_session.get("/entries/1", headers=bearer(forged)), 401, "unauthenticated")


def _unsigned(claims):
    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def test_alg_none_token_is_401(ledger, web_session):
    now = int(time.time())
    claims = {"sub": "x", "role": "admin", "iat": now, "exp": now + 60, "iss": "beat", "aud": "beat"}
    assert_error_shape(web_session.get("/entries/1", headers=bearer(_unsigned(claims))), 401, "unauthenticated")


def test_token_with_unknown_role_is_401(ledger, web_session):
    now = int(time.time())
    claims = {"sub": "x", "role": "mayor", "iat": now, "exp": now + 60, "iss": "beat", "aud": "beat"}
    assert_error_shape(
        web_session.get("/entries/1", headers=bearer(jwt.encode(claims, SECRET))), 401, "unauthenticated"
    )


def test_malformed_authorization_header_is_401(ledger, web_session):
    response = web_session.get("/entries/1", headers={"Authorization": "Basic abc"})
    assert_error_shape(response, 401, "unauthenticated")


def test_optional_auth_accepts_anonymous_and_named_callers(ledger, web_session):
    assert web_session.post("/checked", json={"subject": "s", "sequence": 1}).json() == {"who": "anonymous"}
    named = web_session.post("/checked", json={"subject": "s", "sequence": 1}, headers=bearer(token("analyst")))
    assert named.json() == {"who": "analyst"}


def test_malformed_json_is_400(ledger, web_session):
    response = web_session.post("/entries", data=b'{"subject": ', headers={"Content-Type": "application/json"})
    assert_error_shape(response, 400, "invalid_input")


def test_wrong_field_types_name_the_field(ledger, ledger_db, web_session):
    response = web_session.post("/entries", json={"subject": "s", "sequence": "many"})
    assert_error_shape(response, 400, "invalid_input")
    assert "sequence" in response.json()["error"]["details"]


def test_domain_error_maps_to_400_with_details(ledger, web_session):
    response = web_session.post("/checked", json={"subject": "s", "sequence": -1})
    assert_error_shape(response, 400, "invalid_input")
    assert response.json()["error"]["details"] == {"sequence": ["must be >= 0"]}


def test_oversized_body_is_413(ledger, web_session):
    response = web_session.post("/entries", data=b"x" * (1024 * 1024 + 1), headers={"Content-Type": "application/json"})
    assert_error_shape(response, 413, "payload_too_large")


def test_oversized_chunked_body_is_413(ledger, web_session):
    def chunks():
        for _ in range(20):
            yield b"x" * 65536

    response = web_session.post("/entries", data=chunks(), headers={"Content-Type": "application/json"})
    assert_error_shape(response, 413, "payload_too_large")


def test_small_chunked_body_is_read(ledger, web_session):
    def chunks():
        yield b'{"subject": "chunked", '
        yield b'"sequence": 4}'

    response = web_session.post("/entries", data=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 201


def test_unknown_route_and_wrong_method_use_the_json_shape(ledger, web_session):
    assert_error_shape(web_session.get("/no/such/thing"), 404, "not_found")
    assert_error_shape(web_session.delete("/entries"), 405, "method_not_allowed")


def test_missing_entity_is_404(ledger, web_session):
    assert_error_shape(web_session.get("/entries/999", headers=bearer(token())), 404, "not_found")


def test_request_id_is_echoed_or_created(ledger, web_session):
    echoed = web_session.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"
    created = web_session.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert created.headers["X-Request-ID"] != "bad id with spaces" and len(created.headers["X-Request-ID"]) == 36


def test_health_readiness_and_metrics(ledger, web_session):
    assert web_session.get("/healthz").json() == {"status": "ok", "service": "ledger", "checks": {"broker": True}}
    ready = web_session.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": True}
    web_session.post("/entries", json={"subject": "m", "sequence": 1})
    metrics = web_session.get("/metrics").text
    assert 'beat_http_requests_total{method="POST",route="/entries",service="ledger",status="201"}' in metrics
    assert "beat_outbox_backlog" in metrics
    assert 'beat_broker_up{service="ledger"} 1.0' in metrics


def test_an_unreachable_broker_shows_in_health_and_metrics_but_keeps_the_service_ready(
    container_factory, beat_config, ledger_db, web_session
):
    """Writes go to the outbox and reads need no broker: a broker outage must not make the site answer 503."""
    from shared_sample import LedgerService

    config = beat_config("ledger", LEDGER_DATABASE_URL=ledger_db)
    container = container_factory(LedgerService, config)
    container.start()
    container.config["AMQP_URI"] = "amqp://guest:guest@127.0.0.1:1/"  # nothing listens on port 1
    ready = web_session.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"ready": True, "checks": {"database": True}}
    health = web_session.get("/healthz")
    assert health.status_code == 200 and health.json()["checks"] == {"broker": False}
    assert 'beat_broker_up{service="ledger"} 0.0' in web_session.get("/metrics").text


# --- the verifier alone -----------------------------------------------------------------


def test_rs256_verifier_refuses_an_hs256_token_signed_with_the_public_key():
    """Algorithm confusion: a verifier configured for RS256 accepts nothing else."""
    verifier = TokenVerifier.__new__(TokenVerifier)
    verifier.algorithm, verifier.issuer, verifier.audience = "RS256", "beat", "beat"
    verifier._jwks = None
    verifier.secret = "public-key-pem-used-as-the-hmac-secret"
    confused = mint_token("admin", "x", "public-key-pem-used-as-the-hmac-secret")
    with pytest.raises(Unauthenticated):
        verifier.verify(confused)


def test_agency_tokens_must_name_their_agency():
    verifier = TokenVerifier("HS256", SECRET)
    with pytest.raises(Unauthenticated):
        verifier.verify(token("agency"))
    assert verifier.verify(token("agency", agency_id="a-1")).agency_id == "a-1"


def test_verifier_refuses_unsupported_algorithms():
    with pytest.raises(ValueError):
        TokenVerifier("none")
