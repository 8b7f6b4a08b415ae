"""The settings the web service reads (container config, then environment, then default).

The web service owns no database, so its settings are its own: where the four services' APIs
are, the city's time zone and the key that signs the session cookie. They are registered here
rather than in `beat_shared.config.SETTINGS` until the deployment manifests carry the web service
(the deploy tests require every registered setting to be provided there).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from beat_shared.config import Setting, UnsafeConfiguration, is_production, setting_from

WEB_SETTINGS: dict[str, Setting] = {
    entry.name: entry
    for entry in (
        Setting("WEB_HTTP_ADDRESS", "0.0.0.0:8000", "Address the web pages listen on."),
        Setting(
            "WEB_CONCERNS_URL", "http://127.0.0.1:8001", "Base URL of the concerns API, as the web service calls it."
        ),
        Setting(
            "WEB_REFERRALS_URL", "http://127.0.0.1:8002", "Base URL of the referrals API, as the web service calls it."
        ),
        Setting(
            "WEB_NOTIFICATIONS_URL",
            "http://127.0.0.1:8003",
            "Base URL of the notifications API, as the web service calls it.",
        ),
        Setting(
            "WEB_SURVEYS_URL", "http://127.0.0.1:8004", "Base URL of the surveys API, as the web service calls it."
        ),
        Setting(
            "WEB_SURVEYS_PUBLIC_URL",
            "http://127.0.0.1:8004",
            "Base URL of the surveys pages (dashboard) as a person's browser reaches them.",
        ),
        Setting(
            "WEB_TIMEZONE", "America/Chicago", "The city's time zone: every date and time on a page is shown in it."
        ),
        Setting(
            "WEB_SESSION_SECRET",
            "beat-web-development-session-secret",
            "Signs the session cookie (CSRF token, language, receipts being followed). Set your own.",
            secret=True,
        ),
        Setting("WEB_API_TIMEOUT", "10", "Seconds a page waits for a service's API answer."),
    )
}
DEVELOPMENT_SECRET = "WEB_SESSION_SECRET"


def web_setting(config: Mapping[str, Any], name: str) -> str:
    value = config.get(name)
    if value not in (None, ""):
        return str(value)
    return os.environ.get(name) or WEB_SETTINGS[name].default


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
            return web_setting(config, name)

        production = is_production(config)
        if production and get(DEVELOPMENT_SECRET) == WEB_SETTINGS[DEVELOPMENT_SECRET].default:
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
