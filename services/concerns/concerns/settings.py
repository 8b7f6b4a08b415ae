"""The settings the concerns service reads: their names, defaults and meanings (registered with the
platform in pyproject.toml's `beat.settings`), and the typed values a worker is given (container
config, then environment, then default)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from beat_shared.config import DEVELOPMENT_SECRET, setting_from, table
from concerns.domain.ratelimit import Rate
from concerns.domain.scanning import ScanRules

SETTINGS = table(
    (
        "CONCERNS_SERVICE_NOTICE",
        (
            "This is not an emergency line: if someone is in danger or a crime is happening now, call 911. An "
            "officer of your beat will acknowledge your concern within {hours} hours."
        ),
        "Notice on every answer about a concern; {hours} becomes the category's time to acknowledge.",
    ),
    (
        "CONCERNS_SERVICE_NOTICE_ES",
        (
            "Esta no es una línea de emergencias: si alguien está en peligro o se está cometiendo un delito, "
            "llame al 911. Un agente de su sector atenderá su inquietud en un plazo de {hours} horas."
        ),
        "CONCERNS_SERVICE_NOTICE for residents who write in Spanish.",
    ),
    (
        "CONCERNS_UNPLACED_NOTICE",
        (
            "This is not an emergency line: if someone is in danger or a crime is happening now, call 911. We "
            "could not place your concern in a beat from its location: a supervisor will pass it to the right "
            "officers, who will acknowledge it within {hours} hours."
        ),
        "Notice about a concern in no beat (given by address only, or outside every beat); {hours} as above.",
    ),
    (
        "CONCERNS_UNPLACED_NOTICE_ES",
        (
            "Esta no es una línea de emergencias: si alguien está en peligro o se está cometiendo un delito, "
            "llame al 911. No pudimos ubicar su inquietud en un sector por su ubicación: un supervisor la pasará "
            "a los agentes adecuados, que la atenderán en un plazo de {hours} horas."
        ),
        "CONCERNS_UNPLACED_NOTICE for residents who write in Spanish.",
    ),
    ("CONCERNS_DEFAULT_ACK_HOURS", "72", "Hours to acknowledge a concern when its category sets none."),
    ("CONCERNS_DUPLICATE_METRES", "250", "Distance within which a concern of the same category is a likely duplicate."),
    ("CONCERNS_DUPLICATE_DAYS", "30", "Days back to look for likely duplicates."),
    ("CONCERNS_RATE_PER_ADDRESS", "30/3600", "Submissions and 'me too's per client address: COUNT/SECONDS."),
    ("CONCERNS_RATE_PER_TOKEN", "10/3600", "Submissions and 'me too's per bearer subject, receipt token or API key."),
    (
        "CONCERNS_OPEN311_API_KEYS",
        "open311-development-key",
        "Comma-separated API keys accepted by Open311 POST (the default is for development: set your own).",
        DEVELOPMENT_SECRET,
    ),
    ("CONCERNS_OPEN311_JURISDICTION", "city.example", "Open311 jurisdiction_id this endpoint serves."),
    ("CONCERNS_PUBLIC_URL", "http://127.0.0.1:8001", "Public base URL (Open311 discovery)."),
    ("CONCERNS_AGENCY_NAME", "Police Department", "Open311 agency_responsible."),
    ("CONCERNS_CONTACT", "The police department's community policing unit", "Open311 discovery contact."),
    ("CONCERNS_RECENT_DAYS", "30", "Days a resolved concern counts as 'recently resolved' on the beat page."),
    (
        "CONCERNS_REFERENCE_MAX_AGE_SECONDS",
        "1",
        "Seconds another replica may serve a changed category or beat boundaries before it sees the change.",
    ),
    (
        "CONCERNS_PROBLEM_METRES",
        "150",
        "Scanning: the largest distance between two concerns of one candidate problem (a repeat place).",
    ),
    ("CONCERNS_PROBLEM_DAYS", "90", "Scanning: days back that concerns count towards candidate problems."),
    ("CONCERNS_PROBLEM_MIN_CONCERNS", "3", "Scanning: the fewest concerns that make a candidate problem."),
    (
        "CONCERNS_ASSESSMENT_DAYS",
        "56",
        "Assessment: days in each of the equal windows before a problem's response started and after it ended.",
    ),
    (
        "CONCERNS_TIMEZONE",
        "America/Chicago",
        "The city's time zone (IANA name): a problem's evidence counts times of day and days of the week in it.",
    ),
    ("CONCERNS_TIP_RETENTION_DAYS", "180", "Days a tip is kept; then it is erased (its read log stays)."),
    (
        "CONCERNS_TIP_NOTICE",
        (
            "This is not an emergency line: if someone is in danger or a crime is happening now, call 911. Your "
            "tip goes only to the officers and supervisors of the beat and is never published. We do not keep "
            "your internet address or device. It is not anonymous where the law requires us to disclose it. Leave"
            " a phone number or e-mail only if you want a call back."
        ),
        "Notice shown with the tip form and every answer about a tip.",
    ),
    (
        "CONCERNS_TIP_NOTICE_ES",
        (
            "Esta no es una línea de emergencias: si alguien está en peligro o se está cometiendo un delito, "
            "llame al 911. Su aviso llega solo a los agentes y supervisores del sector y nunca se publica. No "
            "guardamos su dirección de internet ni su dispositivo. No es anónimo cuando la ley nos obliga a "
            "revelarlo. Deje un teléfono o correo solo si quiere que le llamemos."
        ),
        "CONCERNS_TIP_NOTICE in Spanish.",
    ),
)


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
