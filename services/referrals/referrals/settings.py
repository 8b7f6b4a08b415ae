"""Settings the referrals service reads, with their defaults.

They are not (yet) in the shared settings table, so they are read here: from the
nameko config first (tests pass their own), then the environment, then the default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

DEFAULTS: dict[str, tuple[str, str]] = {
    "REFERRALS_RESPONSE_HOURS": ("48", "Hours an agency has to accept or decline a sent referral before it expires."),
    "REFERRALS_REMINDER_HOURS": ("24", "Hours after sending when an unanswered referral gets a reminder."),
    "REFERRALS_RETENTION_DAYS": ("365", "Days after a referral closes before its personal data is erased."),
    "REFERRALS_PUBLIC_URL": ("http://127.0.0.1:8002", "Base URL agencies use to fetch referral details."),
    "REFERRALS_TIMEZONE": ("America/Chicago", "Local time zone of the directory's opening hours."),
    "REFERRALS_WEBHOOK_SECRET_OVERLAP_HOURS": ("24", "Hours a rotated-out webhook secret keeps signing."),
    "REFERRALS_WEBHOOKS_ALLOW_HTTP": ("false", "Allow http:// webhook URLs (local testing only)."),
}


def setting(config: Mapping[str, Any], name: str) -> str:
    value = config.get(name)
    if value in (None, ""):
        value = os.environ.get(name) or DEFAULTS[name][0]
    return str(value)


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
            response_time=timedelta(hours=float(setting(config, "REFERRALS_RESPONSE_HOURS"))),
            reminder_after=timedelta(hours=float(setting(config, "REFERRALS_REMINDER_HOURS"))),
            retention=timedelta(days=float(setting(config, "REFERRALS_RETENTION_DAYS"))),
            public_url=setting(config, "REFERRALS_PUBLIC_URL").rstrip("/"),
            timezone=setting(config, "REFERRALS_TIMEZONE"),
            secret_overlap=timedelta(hours=float(setting(config, "REFERRALS_WEBHOOK_SECRET_OVERLAP_HOURS"))),
            webhooks_allow_http=setting(config, "REFERRALS_WEBHOOKS_ALLOW_HTTP").lower() in ("1", "true", "yes"),
        )
