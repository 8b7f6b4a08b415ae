"""Bearer JWT authentication and role checks.

Tokens are verified with exactly one configured algorithm (HS256 with a shared
secret for development, RS256 with the city identity provider's JWKS), so
``alg: none`` and algorithm-confusion tokens are refused by construction.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

from beat_shared.config import setting_from
from beat_shared.errors import PermissionDenied, Unauthenticated
from beat_shared.roles import ROLES

SUPPORTED_ALGORITHMS = ("HS256", "RS256")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject and role (and agency, for agency users)."""

    subject: str
    role: str
    agency_id: str | None = None
    name: str | None = None
    claims: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def has_role(self, *roles: str) -> bool:
        return self.role in roles


class TokenVerifier:
    def __init__(
        self,
        algorithm: str,
        secret: str = "",
        jwks_url: str = "",
        issuer: str = "beat",
        audience: str = "beat",
    ) -> None:
        if algorithm not in SUPPORTED_ALGORITHMS:
            raise ValueError(f"BEAT_JWT_ALGORITHM must be one of {SUPPORTED_ALGORITHMS}")
        if algorithm == "RS256" and not jwks_url:
            raise ValueError("RS256 needs BEAT_JWT_JWKS_URL")
        self.algorithm = algorithm
        self.secret = secret
        self.issuer = issuer
        self.audience = audience
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True) if algorithm == "RS256" else None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TokenVerifier:
        return cls(
            algorithm=setting_from(config, "BEAT_JWT_ALGORITHM"),
            secret=setting_from(config, "BEAT_JWT_SECRET"),
            jwks_url=config.get("BEAT_JWT_JWKS_URL") or "",
            issuer=setting_from(config, "BEAT_JWT_ISSUER"),
            audience=setting_from(config, "BEAT_JWT_AUDIENCE"),
        )

    def _key(self, token: str) -> Any:
        if self._jwks is None:
            return self.secret
        try:
            return self._jwks.get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientError as error:
            raise Unauthenticated("token signing key is unknown") from error

    def verify(self, token: str) -> Principal:
        """The principal a token names; raises Unauthenticated for any invalid token."""
        try:
            claims = jwt.decode(
                token,
                self._key(token),
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise Unauthenticated("token has expired") from error
        except jwt.InvalidTokenError as error:
            raise Unauthenticated(f"token is invalid: {error}") from error
        role = claims.get("role")
        if role not in ROLES:
            raise Unauthenticated("token names no known role")
        agency_id = claims.get("agency_id")
        if role == "agency" and not agency_id:
            raise Unauthenticated("agency tokens must name their agency_id")
        return Principal(
            subject=str(claims["sub"]), role=role, agency_id=agency_id, name=claims.get("name"), claims=claims
        )


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization must be 'Bearer <token>'")
    return token.strip()


def require_role(principal: Principal | None, roles: Iterable[str]) -> Principal:
    """401 without a principal, 403 with one whose role is not among `roles`."""
    if principal is None:
        raise Unauthenticated("this endpoint needs a bearer token")
    allowed = tuple(roles)
    if allowed and principal.role not in allowed:
        raise PermissionDenied(f"role {principal.role!r} may not do this")
    return principal


def mint_token(
    role: str,
    subject: str | None = None,
    secret: str = "",
    *,
    agency_id: str | None = None,
    name: str | None = None,
    ttl_seconds: int = 3600,
    issuer: str = "beat",
    audience: str = "beat",
    extra: Mapping[str, Any] | None = None,
) -> str:
    """An HS256 token for development and tests (the city identity provider issues real ones)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject or f"{role}-{uuid.uuid4().hex[:8]}",
        "role": role,
        "iat": now,
        "exp": now + ttl_seconds,
        "iss": issuer,
        "aud": audience,
        **(extra or {}),
    }
    if agency_id:
        claims["agency_id"] = agency_id
    if name:
        claims["name"] = name
    return jwt.encode(claims, secret, algorithm="HS256")
