"""The settings the surveys service reads: their names, defaults and meanings (registered with the
platform in pyproject.toml's `beat.settings`), and the typed values a worker is given (container
config, then environment, then default).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from beat_shared.config import declared, setting_from
from surveys.domain.stats import suppression_threshold

SETTINGS = declared("surveys")  # surveys/settings.toml: names, defaults, meanings


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
