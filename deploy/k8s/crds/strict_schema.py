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


# Kubernetes' OpenAPI extensions that JSON Schema has no word for: validation rules in CEL, list
# and map semantics for server-side apply. The API server checks them; a JSON Schema cannot.
_SERVER_ONLY = (
    "x-kubernetes-validations",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
    "x-kubernetes-embedded-resource",
    "x-kubernetes-int-or-string",  # the CRDs spell it out as anyOf integer/string as well
)


def from_openapi(node: Any) -> Any:
    """A CRD's openAPIV3Schema as a strict JSON Schema: `nullable` as a null type, objects closed
    unless they preserve unknown fields (x-kubernetes-preserve-unknown-fields), descriptions dropped."""
    if isinstance(node, list):
        return [from_openapi(item) for item in node]
    if not isinstance(node, dict):
        return node
    open_ended = node.get("x-kubernetes-preserve-unknown-fields") is True
    converted = {
        key: from_openapi(value)
        for key, value in node.items()
        if key not in ("description", "nullable", "x-kubernetes-preserve-unknown-fields", *_SERVER_ONLY)
    }
    if "properties" in node:  # property names are data, not schema keywords: convert each value only
        converted["properties"] = {name: from_openapi(value) for name, value in node["properties"].items()}
    if node.get("nullable") is True and "type" in converted:
        converted["type"] = [converted["type"], "null"]
    if open_ended:
        converted.pop("additionalProperties", None)
    node = strict(converted)
    if open_ended:
        node.pop("additionalProperties", None)
    return node


def from_crd(crd: dict[str, Any], version: str) -> dict[str, Any]:
    """The strict JSON Schema (draft 2020-12) of one version of a CustomResourceDefinition, as the
    operator publishes it (deploy/k8s/crds/<operator>/*.yaml)."""
    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
    [served] = [v for v in crd["spec"]["versions"] if v["name"] == version]
    schema = from_openapi(served["schema"]["openAPIV3Schema"])
    schema["properties"]["apiVersion"] = {"const": f"{group}/{version}"}
    schema["properties"]["kind"] = {"const": kind}
    schema["required"] = sorted({"apiVersion", "kind", "metadata", *schema.get("required", [])})
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
