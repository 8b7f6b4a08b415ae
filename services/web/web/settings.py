"""The settings the web service reads (container config, then environment, then default).

The web service owns no database; its settings (WEB_*, registered with every other setting in
`beat_shared.config.SETTINGS`) say where the four services' APIs are, the city's time zone and the
key that signs the session cookie.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from beat_shared.config import SETTINGS, UnsafeConfiguration, is_production, setting_from

DEVELOPMENT_SECRET = "WEB_SESSION_SECRET"


@dataclass(frozen=True)
class Settings:
    concerns_url: str
    referrals_url: str
    notifications_url: str
    surveys_url: str
    surveys_public_url: str
    timezone: ZoneInfo
    session_secret: bytes
    api_timeout: float
    production: bool
    jwt_algorithm: str
    jwt_secret: str
    jwt_issuer: str
    jwt_audience: str

    @property
    def development_sign_in(self) -> bool:
        """The demo people's sign-in page: development only, and only with HS256 tokens we can mint."""
        return not self.production and self.jwt_algorithm == "HS256"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """Raises UnsafeConfiguration in production with the development session secret."""

        def get(name: str) -> str:
            return setting_from(config, name)

        production = is_production(config)
        if production and get(DEVELOPMENT_SECRET) == SETTINGS[DEVELOPMENT_SECRET].default:
            raise UnsafeConfiguration(f"BEAT_ENVIRONMENT=production but {DEVELOPMENT_SECRET} has its development value")
        return cls(
            concerns_url=get("WEB_CONCERNS_URL").rstrip("/"),
            referrals_url=get("WEB_REFERRALS_URL").rstrip("/"),
            notifications_url=get("WEB_NOTIFICATIONS_URL").rstrip("/"),
            surveys_url=get("WEB_SURVEYS_URL").rstrip("/"),
            surveys_public_url=get("WEB_SURVEYS_PUBLIC_URL").rstrip("/"),
            timezone=ZoneInfo(get("WEB_TIMEZONE")),
            session_secret=get(DEVELOPMENT_SECRET).encode(),
            api_timeout=float(get("WEB_API_TIMEOUT")),
            production=production,
            jwt_algorithm=setting_from(config, "BEAT_JWT_ALGORITHM"),
            jwt_secret=setting_from(config, "BEAT_JWT_SECRET"),
            jwt_issuer=setting_from(config, "BEAT_JWT_ISSUER"),
            jwt_audience=setting_from(config, "BEAT_JWT_AUDIENCE"),
        )

    def base_url(self, service: str) -> str:
        return {
            "concerns": self.concerns_url,
            "referrals": self.referrals_url,
            "notifications": self.notifications_url,
            "surveys": self.surveys_url,
        }[service]
