"""The settings the web service reads (container config, then environment, then default).

The web service owns no database; its settings (WEB_*, declared below and registered with the
platform in pyproject.toml's `beat.settings`) say where the four services' APIs are, the city's
time zone and the key that signs the session cookie.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from beat_shared.config import (
    DEFAULT_PORTS,
    SERVICE_NAMES,
    Setting,
    UnsafeConfiguration,
    declared,
    is_production,
    setting_from,
)

DEVELOPMENT_SECRET = "WEB_SESSION_SECRET"  # refused in production by from_config, with its own message

SETTINGS = (
    *(
        Setting(
            f"WEB_{service.upper()}_URL",
            f"http://127.0.0.1:{DEFAULT_PORTS[service]}",
            f"Base URL of the {service} API, as the web service calls it.",
        )
        for service in SERVICE_NAMES
    ),
    *declared("web"),  # web/settings.toml
)
DEFAULTS = {setting.name: setting.default for setting in SETTINGS}


class OidcMisconfigured(UnsafeConfiguration):
    """A provider is set but the web service could not sign anyone in with it as configured."""


@dataclass(frozen=True)
class Settings:
    concerns_url: str
    referrals_url: str
    notifications_url: str
    surveys_url: str
    surveys_public_url: str
    city_name: str  # BEAT_CITY_NAME: the pages' title, brand and maps
    timezone: ZoneInfo
    session_secret: bytes
    api_timeout: float
    production: bool
    jwt_algorithm: str
    jwt_secret: str
    jwt_issuer: str
    jwt_audience: str
    oidc_discovery_url: str
    oidc_client_id: str
    oidc_client_secret: str
    oidc_redirect_url: str
    oidc_scopes: str

    @property
    def oidc(self) -> bool:
        """People sign in with the city's OpenID Connect provider."""
        return bool(self.oidc_discovery_url)

    @property
    def development_sign_in(self) -> bool:
        """The demo people's sign-in page: development only, only with HS256 tokens we can mint, and
        never beside a provider (when one is configured it is the one way in)."""
        return not self.production and self.jwt_algorithm == "HS256" and not self.oidc

    @property
    def sign_in_offered(self) -> bool:
        return self.oidc or self.development_sign_in

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """Raises UnsafeConfiguration in production with the development session secret."""

        def get(name: str) -> str:
            return setting_from(config, name)

        production = is_production(config)
        if production and get(DEVELOPMENT_SECRET) == DEFAULTS[DEVELOPMENT_SECRET]:
            raise UnsafeConfiguration(f"BEAT_ENVIRONMENT=production but {DEVELOPMENT_SECRET} has its development value")
        settings = cls(
            concerns_url=get("WEB_CONCERNS_URL").rstrip("/"),
            referrals_url=get("WEB_REFERRALS_URL").rstrip("/"),
            notifications_url=get("WEB_NOTIFICATIONS_URL").rstrip("/"),
            surveys_url=get("WEB_SURVEYS_URL").rstrip("/"),
            surveys_public_url=get("WEB_SURVEYS_PUBLIC_URL").rstrip("/"),
            city_name=get("BEAT_CITY_NAME"),
            timezone=ZoneInfo(get("WEB_TIMEZONE")),
            session_secret=get(DEVELOPMENT_SECRET).encode(),
            api_timeout=float(get("WEB_API_TIMEOUT")),
            production=production,
            jwt_algorithm=setting_from(config, "BEAT_JWT_ALGORITHM"),
            jwt_secret=setting_from(config, "BEAT_JWT_SECRET"),
            jwt_issuer=setting_from(config, "BEAT_JWT_ISSUER"),
            jwt_audience=setting_from(config, "BEAT_JWT_AUDIENCE"),
            oidc_discovery_url=get("WEB_OIDC_DISCOVERY_URL").strip(),
            oidc_client_id=get("WEB_OIDC_CLIENT_ID").strip(),
            oidc_client_secret=get("WEB_OIDC_CLIENT_SECRET"),
            oidc_redirect_url=get("WEB_OIDC_REDIRECT_URL").strip(),
            oidc_scopes=get("WEB_OIDC_SCOPES"),
        )
        settings.check_oidc()
        return settings

    def check_oidc(self) -> None:
        """With a provider set: its tokens must be ones the services accept (RS256 through its JWKS),
        and in production the client must authenticate, talk to the provider over HTTPS and name its
        registered https callback."""
        if not self.oidc:
            return
        if not self.oidc_client_id:
            raise OidcMisconfigured("WEB_OIDC_DISCOVERY_URL is set but WEB_OIDC_CLIENT_ID is empty")
        if self.jwt_algorithm != "RS256":
            raise OidcMisconfigured(
                "WEB_OIDC_DISCOVERY_URL is set but BEAT_JWT_ALGORITHM is not RS256: the services would refuse "
                "the provider's tokens (set RS256 and BEAT_JWT_JWKS_URL to the provider's keys)"
            )
        if not self.production:
            return
        if not self.oidc_client_secret:
            raise OidcMisconfigured("BEAT_ENVIRONMENT=production but WEB_OIDC_CLIENT_SECRET is empty")
        for name, url in (
            ("WEB_OIDC_DISCOVERY_URL", self.oidc_discovery_url),
            ("WEB_OIDC_REDIRECT_URL", self.oidc_redirect_url),
        ):
            if not url.startswith("https://"):  # behind the ingress the browser's address is not ours to guess
                raise OidcMisconfigured(f"BEAT_ENVIRONMENT=production but {name} is not an https URL")

    def base_url(self, service: str) -> str:
        return {
            "concerns": self.concerns_url,
            "referrals": self.referrals_url,
            "notifications": self.notifications_url,
            "surveys": self.surveys_url,
        }[service]
