"""What the schema generators in this folder share: a CRD's JSON Schema made as strict as the API
server with field validation "Strict" (fixed apiVersion and kind, no undeclared fields)."""

from __future__ import annotations

from typing import Any


def strict(node: Any) -> Any:
    """Drop titles and defaults; an object that lists its properties accepts nothing else."""
    if isinstance(node, dict):
        node = {key: strict(value) for key, value in node.items() if key not in ("title", "default")}
        pattern = node.get("pattern")
        if isinstance(pattern, str) and pattern.startswith("^(?i)"):
            # Go's RE2 takes the flag after "^"; Python's re (jsonschema's) only at the start.
            node["pattern"] = "(?i)^" + pattern[len("^(?i)") :]
        if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        return node
    if isinstance(node, list):
        return [strict(item) for item in node]
    return node


def custom_resource_schema(model: Any, api_version: str, kind: str, comment: str) -> dict[str, Any]:
    """The strict JSON Schema (draft 2020-12) of a cloudcoil model of one custom resource."""
    schema = strict(model.model_json_schema(by_alias=True, mode="validation"))
    schema["properties"]["apiVersion"] = {"const": api_version}
    schema["properties"]["kind"] = {"const": kind}
    schema["required"] = ["apiVersion", "kind", "metadata", "spec"]
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$comment"] = comment
    return schema
