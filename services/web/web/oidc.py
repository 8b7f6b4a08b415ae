"""Signing in with the city's OpenID Connect provider: authorization code with PKCE (Authlib).

The web service is a confidential client. `begin` makes the provider's authorization URL and what
the browser's session must remember (state, nonce, PKCE verifier); `finish` checks the callback's
state, exchanges the code (with the verifier and the client secret), validates the ID token
(signature by the provider's JWKS, issuer, audience, nonce, expiry) and then checks the access
token exactly as the four services will: `beat_shared.auth.TokenVerifier` (RS256 through
BEAT_JWT_JWKS_URL), so the role and agency a person gets on the pages are the ones the APIs apply.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from beat_shared.auth import Principal, TokenVerifier
from beat_shared.errors import Unauthenticated

METADATA_SECONDS = 3600  # the discovery document and keys are fetched again after an hour
ID_TOKEN_LEEWAY = 60  # seconds of clock difference tolerated between the provider and us


class SignInFailed(Exception):
    """The sign-in could not be completed; `kind` names the page the person is shown.

    kinds: `sign_in_expired` (no sign-in under way, or another state), `sign_in_refused` (the
    provider said no, or refused the code or verifier, or its tokens did not validate),
    `sign_in_no_role` (the provider's token gives no role in Beat), `sign_in_unavailable`."""

    STATUS = {"sign_in_expired": 400, "sign_in_refused": 400, "sign_in_no_role": 403, "sign_in_unavailable": 503}

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason

    @property
    def status(self) -> int:
        return self.STATUS[self.kind]


@dataclass(frozen=True)
class Pending:
    """What the browser's session keeps between leaving for the provider and coming back."""

    state: str
    nonce: str
    verifier: str
    next: str

    def as_dict(self) -> dict[str, str]:
        return {"state": self.state, "nonce": self.nonce, "verifier": self.verifier, "next": self.next}

    @classmethod
    def from_session(cls, value: Any) -> Pending | None:
        if not isinstance(value, dict):
            return None
        try:
            return cls(str(value["state"]), str(value["nonce"]), str(value["verifier"]), str(value["next"]))
        except KeyError:
            return None


@dataclass(frozen=True)
class SignedIn:
    """A person signed in by the provider: who the services will see, and the token they accept."""

    principal: Principal
    access_token: str
    expires_at: int
    name: str


@dataclass
class OidcClient:
    """One client of one provider, shared by the container's workers (metadata cached)."""

    discovery_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scopes: str
    verifier: TokenVerifier
    timeout: float
    _metadata: dict[str, Any] | None = field(default=None, init=False, repr=False)
    _keys: KeySet | None = field(default=None, init=False, repr=False)
    _fetched_at: float = field(default=0.0, init=False, repr=False)

    # --- the provider's published configuration ----------------------------------------------

    def metadata(self) -> dict[str, Any]:
        if self._metadata is None or time.monotonic() - self._fetched_at > METADATA_SECONDS:
            self._metadata = self._get_json(self.discovery_url)
            self._keys = None
            self._fetched_at = time.monotonic()
        return self._metadata

    def _key_set(self, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            self._keys = KeySet.import_key_set(self._get_json(self.metadata()["jwks_uri"]))
        return self._keys

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = requests.get(url, timeout=self.timeout, headers={"Accept": "application/json"})
            response.raise_for_status()
            return response.json()
        except (requests.RequestException, ValueError) as error:
            raise SignInFailed("sign_in_unavailable", f"{type(error).__name__} from the provider") from error

    def _session(self, redirect_uri: str) -> OAuth2Session:
        return OAuth2Session(
            self.client_id,
            self.client_secret or None,
            scope=self.scopes,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic" if self.client_secret else "none",
        )

    # --- the two legs ----------------------------------------------------------------------

    def begin(self, redirect_uri: str, next_path: str, language: str) -> tuple[str, Pending]:
        """The provider's authorization URL, and what the session must remember until the callback."""
        pending = Pending(
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            verifier=secrets.token_urlsafe(48),  # 64 characters: RFC 7636 asks for 43 to 128
            next=next_path,
        )
        with self._session(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                self.metadata()["authorization_endpoint"],
                state=pending.state,
                code_verifier=pending.verifier,
                nonce=pending.nonce,
                ui_locales=language,
            )
        return url, pending

    def finish(self, redirect_uri: str, pending: Pending | None, answer: Mapping[str, str]) -> SignedIn:
        """The person the callback's answer signs in; raises SignInFailed."""
        if pending is None or not answer.get("state"):
            raise SignInFailed("sign_in_expired", "no sign-in under way in this browser")
        if not secrets.compare_digest(answer["state"], pending.state):
            raise SignInFailed("sign_in_expired", "the state is not this browser's")
        if answer.get("error") or not answer.get("code"):
            raise SignInFailed("sign_in_refused", f"the provider answered {answer.get('error') or 'without a code'}")
        token = self._exchange(redirect_uri, pending, answer["code"])
        id_claims = self._id_token_claims(token, pending.nonce)
        try:
            principal = self.verifier.verify(token["access_token"])
        except Unauthenticated as error:
            raise SignInFailed("sign_in_no_role", f"the access token is not one Beat accepts: {error}") from error
        if principal.subject != str(id_claims["sub"]):
            raise SignInFailed("sign_in_refused", "the access token and the ID token name different people")
        name = principal.name or id_claims.get("name") or id_claims.get("preferred_username") or principal.subject
        return SignedIn(principal, token["access_token"], int(principal.claims["exp"]), str(name))

    def _exchange(self, redirect_uri: str, pending: Pending, code: str) -> dict[str, Any]:
        with self._session(redirect_uri) as client:
            try:
                token = client.fetch_token(
                    self.metadata()["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=pending.verifier,
                    timeout=self.timeout,
                )
            except OAuthError as error:  # invalid_grant: a used, expired or stolen code, or another verifier
                raise SignInFailed("sign_in_refused", f"the token endpoint answered {error.error}") from error
            except requests.RequestException as error:
                raise SignInFailed("sign_in_unavailable", f"{type(error).__name__} from the provider") from error
        if not token.get("access_token") or not token.get("id_token"):
            raise SignInFailed("sign_in_refused", "the provider gave no access token or no ID token")
        return dict(token)

    def _id_token_claims(self, token: Mapping[str, Any], nonce: str) -> CodeIDToken:
        metadata = self.metadata()
        registry = JWSRegistry(algorithms=["RS256"])  # one algorithm, as the services accept
        try:
            try:
                decoded = jwt.decode(token["id_token"], self._key_set(), registry=registry)
            except JoseError:  # the provider may have rotated its keys since we fetched them
                decoded = jwt.decode(token["id_token"], self._key_set(refresh=True), registry=registry)
            options = {
                "iss": {"essential": True, "value": metadata["issuer"]},
                "aud": {"essential": True, "value": self.client_id},
            }
            params = {"nonce": nonce, "client_id": self.client_id, "access_token": token["access_token"]}
            claims = CodeIDToken(decoded.claims, decoded.header, options, params)
            claims.validate(now=int(time.time()), leeway=ID_TOKEN_LEEWAY)
        except (JoseError, ValueError, KeyError) as error:
            raise SignInFailed("sign_in_refused", f"the ID token did not validate: {error}") from error
        return claims
