"""Settings the surveys service reads (environment variables or the container config).

Names, defaults and meanings are in the platform's one settings table (beat_shared.config).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from beat_shared.config import setting_from
from surveys.domain.stats import suppression_threshold


@dataclass(frozen=True)
class SurveySettings:
    min_cell: int
    public_url: str
    token_secret: bytes
    post_contact_days: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SurveySettings:
        """Raises ValueError when SURVEYS_MIN_CELL is below the floor of 10."""
        return cls(
            min_cell=suppression_threshold(setting_from(config, "SURVEYS_MIN_CELL")),
            public_url=setting_from(config, "SURVEYS_PUBLIC_URL").rstrip("/"),
            token_secret=setting_from(config, "SURVEYS_TOKEN_SECRET").encode(),
            post_contact_days=int(setting_from(config, "SURVEYS_POST_CONTACT_DAYS")),
        )
