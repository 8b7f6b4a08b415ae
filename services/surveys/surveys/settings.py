"""The settings the surveys service reads: their names, defaults and meanings (registered with the
platform in pyproject.toml's `beat.settings`), and the typed values a worker is given (container
config, then environment, then default).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from beat_shared.config import DEVELOPMENT_SECRET, setting_from, table
from surveys.domain.stats import suppression_threshold

SETTINGS = table(
    ("SURVEYS_MIN_CELL", "30", "Smallest number of respondents a published cell may have (never below 10)."),
    ("SURVEYS_PUBLIC_URL", "http://127.0.0.1:8004", "Base URL of survey links sent to residents."),
    (
        "SURVEYS_TOKEN_SECRET",
        "beat-surveys-development-token-secret",
        "Key that derives one-time survey tokens. Development only: set your own.",
        DEVELOPMENT_SECRET,
    ),
    ("SURVEYS_POST_CONTACT_DAYS", "28", "Days a post-contact survey invitation stays valid."),
    ("SURVEYS_RESULTS_EVENT_SECONDS", "60", "Seconds between announcements of changed results."),
)


@dataclass(frozen=True)
class SurveySettings:
    min_cell: int
    public_url: str
    token_secret: bytes
    post_contact_days: int
    city_name: str = ""  # BEAT_CITY_NAME: the dashboard's title (from_config reads it)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SurveySettings:
        """Raises ValueError when SURVEYS_MIN_CELL is below the floor of 10."""
        return cls(
            min_cell=suppression_threshold(setting_from(config, "SURVEYS_MIN_CELL")),
            public_url=setting_from(config, "SURVEYS_PUBLIC_URL").rstrip("/"),
            token_secret=setting_from(config, "SURVEYS_TOKEN_SECRET").encode(),
            post_contact_days=int(setting_from(config, "SURVEYS_POST_CONTACT_DAYS")),
            city_name=setting_from(config, "BEAT_CITY_NAME"),
        )
