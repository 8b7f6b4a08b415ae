"""The settings the concerns service reads (container config, then environment, then default)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from beat_shared.config import setting_from
from concerns.domain.ratelimit import Rate


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
    reference_max_age: float

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        def get(name: str) -> str:
            return setting_from(config, name)

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
            reference_max_age=float(get("CONCERNS_REFERENCE_MAX_AGE_SECONDS")),
        )

    def notice(self, hours: int | None = None) -> str:
        return self.service_notice.replace("{hours}", str(hours or self.default_ack_hours))
