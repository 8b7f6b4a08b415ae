"""A small OpenID Connect provider for the tests: a stand-in for the city's identity provider.

Not a mock of any Beat component: it is the other party of the protocol, served over real HTTP
(werkzeug), doing what a provider must: a discovery document, its keys (JWKS), an authorization
endpoint that requires PKCE (S256) and a registered redirect URI, and a token endpoint that
authenticates the client, checks the code's redirect URI and the PKCE verifier, uses each code once,
and issues RS256 JWTs: an access token for the APIs (audience `beat`, with the person's `role` and
`agency_id` claims, as the services read them) and an ID token for the client (its nonce, `at_hash`).

Who "signs in" at the authorization endpoint is whoever the test set in `provider.account` (a real
provider would ask for a password; what happens there is the provider's business, not Beat's). PyPI's
`oidc-provider-mock` cannot stand in: 0.4 needs Python 3.12 and 0.3.4 issues opaque access tokens,
which the services cannot verify.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

CODE_SECONDS = 60


@dataclass(frozen=True)
class Account:
    subject: str
    name: str
    role: str | None = None  # None: someone the city knows who has no role in Beat
    agency_id: str | None = None


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    account: Account
    issued: float = field(default_factory=time.time)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TestProvider:
    """Serve it with `start()`; `issuer` is its URL. `refusals` lists why the token endpoint said no."""

    __test__ = False  # not a test class, whatever its name says

    def __init__(self, client_id: str, client_secret: str, redirect_uri: str, audience: str = "beat") -> None:
        self.clients = {client_id: (client_secret, redirect_uri)}
        self.audience = audience
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-provider-1"
        self.account: Account | None = None
        self.token_seconds = 600
        self.id_token_claims: dict[str, Any] = {}  # claims to put in (or over) the next ID tokens
        self.grants: dict[str, Grant] = {}
        self.refusals: list[str] = []
        self.issuer = ""
        self._server: Any = None

    # --- serving -----------------------------------------------------------------------------

    def start(self) -> TestProvider:
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/jwks.json"

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        routes = {
            ("GET", "/.well-known/openid-configuration"): self._discovery,
            ("GET", "/jwks.json"): self._jwks,
            ("GET", "/authorize"): self._authorize,
            ("POST", "/token"): self._token,
        }
        handler = routes.get((request.method, request.path))
        response = handler(request) if handler else Response("not found", status=404)
        return response(environ, start_response)

    # --- endpoints ---------------------------------------------------------------------------

    def _discovery(self, request: Request) -> Response:
        return _json(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": self.jwks_url,
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "scopes_supported": ["openid", "profile"],
            }
        )

    def _jwks(self, request: Request) -> Response:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return _json({"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]})

    def _authorize(self, request: Request) -> Response:
        args = request.args
        registered = self.clients.get(args.get("client_id", ""))
        if registered is None or args.get("redirect_uri") != registered[1]:
            # Never redirect to an address the client did not register (RFC 6749 §4.1.2.1).
            return Response("unknown client or redirect_uri", status=400)
        back = {"state": args["state"]} if "state" in args else {}
        problem = self._authorization_problem(args)
        if problem:
            return _redirect(args["redirect_uri"], {"error": problem, **back})
        code = secrets.token_urlsafe(32)
        self.grants[code] = Grant(
            args["client_id"], args["redirect_uri"], args["code_challenge"], args.get("nonce"), self.account
        )
        return _redirect(args["redirect_uri"], {"code": code, **back})

    def _authorization_problem(self, args: Any) -> str | None:
        if args.get("response_type") != "code" or "openid" not in args.get("scope", "").split():
            return "invalid_request"
        if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
            return "invalid_request"  # PKCE is required, and only with S256
        if self.account is None:
            return "access_denied"  # the person cancelled, or could not prove who they are
        return None

    def _token(self, request: Request) -> Response:
        client_id, secret = self._client_credentials(request)
        registered = self.clients.get(client_id or "")
        if registered is None or not secrets.compare_digest(registered[0], secret or ""):
            return self._refuse("invalid_client", "client authentication failed", status=401)
        form = request.form
        if form.get("grant_type") != "authorization_code":
            return self._refuse("unsupported_grant_type", "only the authorization code grant")
        grant = self.grants.pop(form.get("code", ""), None)  # a code is used once
        if grant is None or grant.client_id != client_id or time.time() - grant.issued > CODE_SECONDS:
            return self._refuse("invalid_grant", "unknown, used or expired code")
        if form.get("redirect_uri") != grant.redirect_uri:
            return self._refuse("invalid_grant", "redirect_uri differs from the authorization request's")
        verifier = form.get("code_verifier", "")
        if _b64(hashlib.sha256(verifier.encode()).digest()) != grant.challenge:
            return self._refuse("invalid_grant", "code_verifier does not match the code_challenge")
        return _json(self._tokens(grant), headers={"Cache-Control": "no-store"})

    def _client_credentials(self, request: Request) -> tuple[str | None, str | None]:
        if request.authorization and request.authorization.type == "basic":
            return request.authorization.username, request.authorization.password
        return request.form.get("client_id"), request.form.get("client_secret")

    def _refuse(self, error: str, description: str, status: int = 400) -> Response:
        self.refusals.append(description)
        return _json({"error": error, "error_description": description}, status=status)

    # --- tokens ------------------------------------------------------------------------------

    def access_token(self, account: Account, seconds: int | None = None) -> str:
        """An access token as this provider issues them (tests use it to call an API directly)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": account.subject,
            "name": account.name,
            "iat": now,
            "exp": now + (seconds or self.token_seconds),
            "scope": "openid profile",
        }
        if account.role:
            claims["role"] = account.role
        if account.agency_id:
            claims["agency_id"] = account.agency_id
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})

    def _tokens(self, grant: Grant) -> dict[str, Any]:
        access = self.access_token(grant.account)
        now = int(time.time())
        digest = hashlib.sha256(access.encode()).digest()
        id_claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": grant.client_id,
            "sub": grant.account.subject,
            "name": grant.account.name,
            "iat": now,
            "exp": now + self.token_seconds,
            "at_hash": _b64(digest[: len(digest) // 2]),
            **({"nonce": grant.nonce} if grant.nonce else {}),
            **self.id_token_claims,
        }
        id_token = jwt.encode(id_claims, self.key, algorithm="RS256", headers={"kid": self.kid})
        return {"access_token": access, "token_type": "Bearer", "expires_in": self.token_seconds, "id_token": id_token}


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json", headers=headers)


def _redirect(uri: str, params: dict[str, str]) -> Response:
    return Response("", status=302, headers={"Location": f"{uri}?{urlencode(params)}"})
