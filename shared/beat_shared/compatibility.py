"""Is a new event schema still compatible with the published one? (docs/decisions/0004)

Consumers validate what they receive, and events already in queues were written to the old
schema, so a change is incompatible when it removes or retypes a field, makes a field required
or optional, or narrows what a field may hold. Adding optional fields or relaxing limits is fine.
"""

from __future__ import annotations

from typing import Any

NARROWING = {"maxLength": max, "maximum": max, "maxItems": max, "minLength": min, "minimum": min, "minItems": min}


def _types(schema: dict[str, Any]) -> set[str]:
    declared = schema.get("type", [])
    return set(declared if isinstance(declared, list) else [declared])


def incompatibilities(published: dict[str, Any], current: dict[str, Any], path: str = "data") -> list[str]:
    """Every way `current` breaks a consumer of `published` (both JSON Schemas of event data)."""
    problems = []
    if not _types(published) <= _types(current):
        problems.append(f"{path}: type {sorted(_types(published))} became {sorted(_types(current))}")
    for keyword, wider in NARROWING.items():
        if keyword in current and (
            keyword not in published or wider(published[keyword], current[keyword]) != current[keyword]
        ):
            problems.append(f"{path}: {keyword} narrowed to {current[keyword]}")
    if "enum" in current and not set(published.get("enum", current["enum"])) <= set(current["enum"]):
        problems.append(f"{path}: allowed values narrowed to {current['enum']}")
    if "const" in published and published["const"] != current.get("const"):
        problems.append(f"{path}: constant changed")
    was, now = set(published.get("required", [])), set(current.get("required", []))
    problems += [f"{path}.{name}: became required" for name in sorted(now - was)]  # breaks events in flight
    problems += [f"{path}.{name}: no longer required" for name in sorted(was - now)]  # breaks consumers
    current_properties = current.get("properties", {})
    for name, schema in published.get("properties", {}).items():
        if name not in current_properties:
            problems.append(f"{path}.{name}: removed")
        else:
            problems += incompatibilities(schema, current_properties[name], f"{path}.{name}")
    if "items" in published and "items" in current:
        problems += incompatibilities(published["items"], current["items"], f"{path}[]")
    return problems
