"""Which language a page speaks: the person's own choice, else their browser's Accept-Language."""

from __future__ import annotations

LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"en": "English", "es": "Español"}  # each in its own language, for the switch


def _weighted(accept_language: str) -> list[tuple[float, int, str]]:
    ranked = []
    for index, item in enumerate(accept_language.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0  # a malformed weight counts as "not acceptable"
        if tag and quality > 0:
            ranked.append((-quality, index, tag.lower()))
    return sorted(ranked)


def negotiate(accept_language: str | None, chosen: str | None = None) -> str:
    """The page language: `chosen` (the switch) when it is one we have, else the first language of
    Accept-Language we have (by weight, then order; `es-MX` counts as `es`), else English."""
    if chosen in LANGUAGES:
        return chosen
    for _, _, tag in _weighted(accept_language or ""):
        primary = tag.split("-")[0]
        if primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE
