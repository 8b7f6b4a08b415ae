"""The settings the concerns service reads: their names, defaults and meanings (registered with the
platform in pyproject.toml's `beat.settings`), and the typed values a worker is given (container
config, then environment, then default)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from beat_shared.config import declared, setting_from
from concerns.domain.ratelimit import Rate
from concerns.domain.scanning import ScanRules

SETTINGS = declared("concerns")  # concerns/settings.toml: names, defaults, meanings


@dataclass(frozen=True)
class Settings:
    service_notices: Mapping[str, str]  # language -> notice promising an officer of the beat
    unplaced_notices: Mapping[str, str]  # language -> notice for a concern in no beat (a supervisor places it)
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
    scan_rules: ScanRules
    assessment_days: float
    tip_retention_days: float
    tip_notices: Mapping[str, str]  # language -> the notice of the tip form
    timezone: ZoneInfo  # the city's clock: a problem's evidence counts hours and weekdays in it

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        def get(name: str) -> str:
            return setting_from(config, name)

        return cls(
            service_notices={"en": get("CONCERNS_SERVICE_NOTICE"), "es": get("CONCERNS_SERVICE_NOTICE_ES")},
            unplaced_notices={"en": get("CONCERNS_UNPLACED_NOTICE"), "es": get("CONCERNS_UNPLACED_NOTICE_ES")},
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
            scan_rules=ScanRules(
                metres=float(get("CONCERNS_PROBLEM_METRES")),
                days=float(get("CONCERNS_PROBLEM_DAYS")),
                min_concerns=int(get("CONCERNS_PROBLEM_MIN_CONCERNS")),
            ),
            assessment_days=float(get("CONCERNS_ASSESSMENT_DAYS")),
            tip_retention_days=float(get("CONCERNS_TIP_RETENTION_DAYS")),
            tip_notices={"en": get("CONCERNS_TIP_NOTICE"), "es": get("CONCERNS_TIP_NOTICE_ES")},
            timezone=city_zone(get("CONCERNS_TIMEZONE")),
        )

    def notice(self, hours: int | None = None, language: str = "en", placed: bool = True) -> str:
        """The notice in `language` (English when there is none); a concern in no beat (`placed`
        false) is promised a supervisor who will place it, not an officer of a beat it lacks."""
        notices = self.service_notices if placed else self.unplaced_notices
        text = notices.get(language) or notices["en"]
        return text.replace("{hours}", str(hours or self.default_ack_hours))

    def tip_notice(self, language: str = "en") -> str:
        return self.tip_notices.get(language) or self.tip_notices["en"]


def city_zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`; raises ValueError naming the setting, so the service refuses to
    start with a time zone it does not know rather than count the city's hours on another clock."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"CONCERNS_TIMEZONE={name!r} is not a known IANA time zone (e.g. America/Chicago, Europe/Madrid)"
        ) from None
