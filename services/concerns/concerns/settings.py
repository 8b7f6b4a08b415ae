"""The settings the concerns service reads (container config, then environment, then default)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from concerns.domain.ratelimit import Rate

DEFAULTS: dict[str, tuple[str, str]] = {
    "CONCERNS_SERVICE_NOTICE": (
        "This is not an emergency line: if someone is in danger or a crime is happening now, call 911. "
        "An officer of your beat will acknowledge your concern within {hours} hours.",
        "Notice on every answer about a concern; {hours} becomes the category's time to acknowledge.",
    ),
    "CONCERNS_DEFAULT_ACK_HOURS": ("72", "Hours to acknowledge a concern when its category sets none."),
    "CONCERNS_DUPLICATE_METRES": ("250", "Distance within which a concern of the same category is a likely duplicate."),
    "CONCERNS_DUPLICATE_DAYS": ("30", "Days back to look for likely duplicates."),
    "CONCERNS_RATE_PER_ADDRESS": ("30/3600", "Submissions and 'me too's per client address: COUNT/SECONDS."),
    "CONCERNS_RATE_PER_TOKEN": ("10/3600", "Submissions and 'me too's per bearer subject, receipt token or API key."),
    "CONCERNS_OPEN311_API_KEYS": ("riverton-demo-key", "Comma-separated API keys accepted by Open311 POST."),
    "CONCERNS_OPEN311_JURISDICTION": ("riverton.example", "Open311 jurisdiction_id this endpoint serves."),
    "CONCERNS_PUBLIC_URL": ("http://127.0.0.1:8001", "Public base URL (Open311 discovery)."),
    "CONCERNS_AGENCY_NAME": ("Riverton Police Department", "Open311 agency_responsible."),
    "CONCERNS_CONTACT": (
        "Riverton Police Department, community policing unit: community@riverton.example, +1 555 0100",
        "Open311 discovery contact.",
    ),
    "CONCERNS_RECENT_DAYS": ("30", "Days a resolved concern counts as 'recently resolved' on the beat page."),
}


def setting(config: Mapping[str, Any], name: str) -> str:
    value = config.get(name)
    if value in (None, ""):
        value = os.environ.get(name) or DEFAULTS[name][0]
    return str(value)


@dataclass(frozen=True)
class Settings:
    service_notice: str
    default_ack_hours: int
    duplicate_metres: float
    duplicate_days: float
    rate_per_address: Rate
    rate_per_token: Rate
    open311_api_keys: frozenset[str]
    jurisdiction_id: str
    public_url: str
    agency_name: str
    contact: str
    recent_days: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        def get(name: str) -> str:
            return setting(config, name)

        return cls(
            service_notice=get("CONCERNS_SERVICE_NOTICE"),
            default_ack_hours=int(get("CONCERNS_DEFAULT_ACK_HOURS")),
            duplicate_metres=float(get("CONCERNS_DUPLICATE_METRES")),
            duplicate_days=float(get("CONCERNS_DUPLICATE_DAYS")),
            rate_per_address=Rate.parse(get("CONCERNS_RATE_PER_ADDRESS")),
            rate_per_token=Rate.parse(get("CONCERNS_RATE_PER_TOKEN")),
            open311_api_keys=frozenset(k.strip() for k in get("CONCERNS_OPEN311_API_KEYS").split(",") if k.strip()),
            jurisdiction_id=get("CONCERNS_OPEN311_JURISDICTION"),
            public_url=get("CONCERNS_PUBLIC_URL").rstrip("/"),
            agency_name=get("CONCERNS_AGENCY_NAME"),
            contact=get("CONCERNS_CONTACT"),
            recent_days=int(get("CONCERNS_RECENT_DAYS")),
        )

    def notice(self, hours: int | None = None) -> str:
        return self.service_notice.replace("{hours}", str(hours or self.default_ack_hours))
