"""Pages rendered with Jinja2, one environment per language (gettext from the Babel catalogues).

The catalogues are the `.po` files under `translations/`, compiled in memory when the service
starts: a fresh clone needs no build step and no compiled file can drift from its source.
"""

from __future__ import annotations

import io
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, get_timezone_name
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from beat_shared.isotime import parse_iso
from web.domain.language import DEFAULT_LANGUAGE, LANGUAGE_NAMES, LANGUAGES

PACKAGE = Path(__file__).parent
TEMPLATES = PACKAGE / "templates"
TRANSLATIONS = PACKAGE / "translations"
DOMAIN = "messages"


def catalogue_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> NullTranslations:
    """The gettext translations of a language (English is the source language: no catalogue)."""
    if language == DEFAULT_LANGUAGE:
        return NullTranslations()
    with catalogue_path(language).open("rb") as source:
        catalogue = read_po(source, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


class Renderer:
    """Renders a template in a language, with dates in the city's time zone."""

    def __init__(self, timezone: ZoneInfo) -> None:
        self.timezone = timezone
        self.environments = {language: self._environment(language) for language in LANGUAGES}

    def _environment(self, language: str) -> Environment:
        environment = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        environment.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
        environment.filters["when"] = lambda value: self.when(value, language)
        environment.filters["day"] = lambda value: self.day(value, language)
        environment.globals["language_names"] = LANGUAGE_NAMES
        return environment

    def when(self, value: str | None, language: str) -> str:
        """An RFC 3339 time from an API as the city's local date and time, with the zone's name."""
        if not value:
            return ""
        moment = parse_iso(value).astimezone(self.timezone)
        zone = get_timezone_name(moment, width="short", locale=language)
        if not any(character.isalpha() for character in zone):  # no abbreviation in this language ("-0600")
            zone = get_timezone_name(moment, width="long", locale=language)
        return f"{format_datetime(moment, 'medium', locale=language)} {zone}"

    def day(self, value: str | None, language: str) -> str:
        if not value:
            return ""
        return format_date(datetime.fromisoformat(value[:10]).date(), "long", locale=language)

    def render(self, language: str, template: str, context: dict[str, Any]) -> str:
        return self.environments[language].get_template(template).render(**context)

    def gettext(self, language: str, message: str) -> str:
        return translations(language).gettext(message)
