"""A category's words in the person's language: which language to serve, and the category with a
city's translations laid over its English (anything not translated stays English)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

SOURCE_LANGUAGE = "en"


def served_language(available: Iterable[str], asked: str | None, accept_language: str | None) -> str:
    """`asked` (the `lang` parameter) if the category has it, else the first of Accept-Language's
    languages (by q) it has, else English. `es-MX` is served `es` when only `es` exists."""
    known = {SOURCE_LANGUAGE, *available}
    for candidate in ([asked] if asked else []) + _accepted(accept_language):
        for language in (candidate, candidate.split("-")[0]):
            if language in known:
                return language
    return SOURCE_LANGUAGE


def _accepted(header: str | None) -> list[str]:
    """Accept-Language's languages, best first (ties keep the header's order)."""
    ranked = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, parameters = part.strip().partition(";")
        if not tag or tag == "*":
            continue
        quality = 1.0
        if parameters.strip().startswith("q="):
            try:
                quality = float(parameters.strip()[2:])
            except ValueError:
                continue
        if quality > 0:
            ranked.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def translated(view: Mapping[str, Any], translations: Mapping[str, Any], language: str) -> dict[str, Any]:
    """The category view with `language`'s words laid over the English ones."""
    words = translations.get(language) or {}
    result = copy.deepcopy(dict(view))
    for key in ("name", "description", "group"):
        if words.get(key):
            result[key] = words[key]
    by_code = words.get("attributes") or {}
    for attribute in result.get("attributes", []):
        own = by_code.get(attribute["code"]) or {}
        for key in ("description", "datatype_description"):
            if own.get(key):
                attribute[key] = own[key]
        names = own.get("values") or {}
        for value in attribute.get("values") or []:
            value["name"] = names.get(value["key"], value["name"])
    result["language"] = language
    return result
