"""Category names in the page's language on concerns already voiced.

concerns names a concern's category in the city's own wording (English) wherever it serves a
concern; its `GET /categories?lang=` gives every category's name in a language (the city's
translation, English where it has none). A page that shows concerns asks for those names in the same
concurrent round as its other calls and puts them in place before rendering. When the names cannot
be had the concerns keep their English names: the page still works.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from web.api import ApiClient, ApiError, Call

NAMES = "category_names"  # the names' call among a page's calls


def names_call(language: str) -> Call:
    return Call("concerns", "GET", "/categories", params={"lang": language})


def names_from(found: Any) -> dict[str, str]:
    """Category names by code from a `GET /categories` answer; {} when it could not be had."""
    if isinstance(found, ApiError):
        return {}
    return {category["code"]: category["name"] for category in found["categories"]}


def in_language(concerns: Iterable[dict[str, Any]], names: Mapping[str, str]) -> list[dict[str, Any]]:
    """The concerns, each with its category's name from `names` where it has one (changed in place)."""
    shown = list(concerns)
    for concern in shown:
        name = names.get(concern.get("category") or "")
        if name:
            concern["category_name"] = name
    return shown


def gather(
    api: ApiClient, language: str, calls: Mapping[str, Call], optional: Collection[str] = ()
) -> tuple[dict[str, Any], dict[str, str]]:
    """The page's calls and the category names, all at once: (answers, names). Raises the first
    ApiError of the page's own calls not named in `optional`, as `ApiClient.gather` does; the names
    are never a reason to fail."""
    found = api.gather({**calls, NAMES: names_call(language)}, optional=(*optional, NAMES))
    return found, names_from(found.pop(NAMES))


def concern(api: ApiClient, language: str, request: Call) -> dict[str, Any]:
    """One concern (the answer of `request`) with its category named in `language`."""
    found, names = gather(api, language, {"concern": request})
    return in_language([found["concern"]], names)[0]
