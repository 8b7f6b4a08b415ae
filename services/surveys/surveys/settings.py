"""Settings the surveys service reads (environment variables or the container config).

The platform's shared registry of settings lives in beat_shared.config; these are
the surveys service's own, documented in its README.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from surveys.stats import suppression_threshold

DEFAULTS: dict[str, str] = {
    "SURVEYS_MIN_CELL": "30",
    "SURVEYS_PUBLIC_URL": "http://localhost:8004",
    "SURVEYS_TOKEN_SECRET": "beat-surveys-development-token-secret",
    "SURVEYS_POST_CONTACT_DAYS": "28",
    "SURVEYS_RESULTS_EVENT_SECONDS": "60",
}


def setting(config: Mapping[str, Any], name: str) -> str:
    value = config.get(name)
    if value in (None, ""):
        value = os.environ.get(name) or DEFAULTS[name]
    return str(value)


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
            min_cell=suppression_threshold(setting(config, "SURVEYS_MIN_CELL")),
            public_url=setting(config, "SURVEYS_PUBLIC_URL").rstrip("/"),
            token_secret=setting(config, "SURVEYS_TOKEN_SECRET").encode(),
            post_contact_days=int(setting(config, "SURVEYS_POST_CONTACT_DAYS")),
        )
