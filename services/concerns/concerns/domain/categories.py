"""Changing part of a category: JSON Merge Patch (RFC 7396) over its stored definition.

A form that edits a few fields must not drop the rest (translations, attribute definitions, keywords):
a full PUT built from such a form would. The patch is merged into what is stored and the result is
then checked like a PUT's body, so a patch can never store what a PUT could not."""

from __future__ import annotations

import copy
from typing import Any

# The fields a category's definition holds (`CategoryInput`'s), in the shape PUT takes them.
DEFINITION_FIELDS = (
    "code",
    "name",
    "description",
    "group",
    "keywords",
    "attributes",
    "acknowledge_hours",
    "active",
    "translations",
)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: objects merge key by key, `null` removes a key, anything else (lists included) replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def patched_definition(stored: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """The category's definition with `patch` merged in (to be validated as a PUT body is)."""
    return merge_patch({field: stored[field] for field in DEFINITION_FIELDS if field in stored}, patch)
