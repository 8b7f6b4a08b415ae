"""RS256 tokens verified against a JWKS served over real HTTP, as a city identity provider would."""

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from beat_shared.auth import TokenVerifier
from beat_shared.errors import Unauthenticated


@pytest.fixture(scope="module")
def identity_provider():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "city-1", "use": "sig", "alg": "RS256"}]}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield key, f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()


def claims(role="officer"):
    now = int(time.time())
    return {"sub": "o-1", "role": role, "iat": now, "exp": now + 300, "iss": "beat", "aud": "beat"}


def test_rs256_token_from_the_identity_provider_is_accepted(identity_provider):
    key, url = identity_provider
    token = jwt.encode(claims(), key, algorithm="RS256", headers={"kid": "city-1"})
    assert TokenVerifier("RS256", jwks_url=url).verify(token).role == "officer"


def test_hs256_token_signed_with_the_public_key_is_refused(identity_provider):
    """Algorithm confusion: the public key used as an HMAC secret must not verify."""
    key, url = identity_provider
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    forged = _hmac_token(claims("admin"), public_pem)  # PyJWT itself refuses to sign this way
    with pytest.raises(Unauthenticated):
        TokenVerifier("RS256", jwks_url=url).verify(forged)


def test_token_signed_by_another_key_is_refused(identity_provider):
    _, url = identity_provider
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(), stranger, algorithm="RS256", headers={"kid": "city-1"})
    with pytest.raises(Unauthenticated):
        TokenVerifier("RS256", jwks_url=url).verify(token)


def _hmac_token(payload, secret):
    def part(value):
        return base64.urlsafe_b64encode(value).rstrip(b"=")

    signing_input = (
        part(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "city-1"}).encode())
        + b"."
        + part(json.dumps(payload).encode())
    )
    signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + part(signature)).decode()
