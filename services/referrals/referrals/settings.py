"""The settings the referrals service reads: their names, defaults and meanings (registered with the
platform in pyproject.toml's `beat.settings`), and the typed values a worker is given; tests pass
their own in the config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from beat_shared.config import declared, setting_from

SETTINGS = declared("referrals")  # referrals/settings.toml: names, defaults, meanings


@dataclass(frozen=True)
class ReferralSettings:
    response_time: timedelta
    reminder_after: timedelta
    retention: timedelta
    public_url: str
    timezone: str
    secret_overlap: timedelta
    webhooks_allow_http: bool

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ReferralSettings:
        return cls(
            response_time=timedelta(hours=float(setting_from(config, "REFERRALS_RESPONSE_HOURS"))),
            reminder_after=timedelta(hours=float(setting_from(config, "REFERRALS_REMINDER_HOURS"))),
            retention=timedelta(days=float(setting_from(config, "REFERRALS_RETENTION_DAYS"))),
            public_url=setting_from(config, "REFERRALS_PUBLIC_URL").rstrip("/"),
            timezone=setting_from(config, "REFERRALS_TIMEZONE"),
            secret_overlap=timedelta(hours=float(setting_from(config, "REFERRALS_WEBHOOK_SECRET_OVERLAP_HOURS"))),
            webhooks_allow_http=setting_from(config, "REFERRALS_WEBHOOKS_ALLOW_HTTP").lower() in ("1", "true", "yes"),
        )
