"""OpenAPI 3.1 documents generated from a service's @http entrypoints and their schemas."""

from __future__ import annotations

import inspect
import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

from beat_shared.http import HttpEndpoint

_PATH_PARAMETER = re.compile(r"<(?:(?P<converter>[a-z]+):)?(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)>")
_CONVERTER_TYPES = {"int": "integer", "float": "number"}


class ErrorDetail(Schema):
    code = fields.String(required=True, metadata={"description": "stable, machine-readable"})
    message = fields.String(required=True)
    details = fields.Raw(allow_none=True, metadata={"description": "per-field messages, when there are any"})


class Error(Schema):
    error = fields.Nested(ErrorDetail, required=True)


def openapi_path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """A werkzeug rule as an OpenAPI path, with its path parameters."""
    parameters = [
        {
            "in": "path",
            "name": match["name"],
            "required": True,
            "schema": {"type": _CONVERTER_TYPES.get(match["converter"] or "", "string")},
        }
        for match in _PATH_PARAMETER.finditer(rule)
    ]
    return _PATH_PARAMETER.sub(lambda match: "{" + match["name"] + "}", rule), parameters


def _errors_for(endpoint: HttpEndpoint) -> dict[str, Any]:
    reference = {"content": {"application/json": {"schema": "Error"}}}
    statuses = {400: "invalid input", 404: "not found", 413: "body too large"}
    if endpoint.auth != "none":
        statuses |= {401: "missing or invalid bearer token", 403: "role not allowed"}
    if endpoint.doc.request_schema is not None:  # read_json refuses other media types
        statuses[415] = "the body is not declared as JSON (send Content-Type: application/json)"
    return {str(status): {"description": text, **reference} for status, text in statuses.items()}


def _summary_and_description(summary: str, docstring: str) -> tuple[str, str]:
    """Without a declared summary, a docstring's first paragraph is the summary and the rest
    its description, so neither repeats the other."""
    if summary:
        return summary, docstring
    first, _, rest = docstring.partition("\n\n")
    return " ".join(first.split()), rest.strip()


def _operation(name: str, method: Any, endpoint: HttpEndpoint, path_parameters: list[dict[str, Any]]) -> dict:
    doc = endpoint.doc
    summary, description = _summary_and_description(doc.summary, inspect.getdoc(method) or "")
    operation: dict[str, Any] = {
        "operationId": name,
        "summary": summary or name.replace("_", " "),
        "parameters": list(path_parameters),
        "responses": {str(doc.status): {"description": "success"}},
    }
    if description:
        operation["description"] = description
    if doc.tags:
        operation["tags"] = list(doc.tags)
    if doc.query_schema is not None:
        operation["parameters"].append({"in": "query", "schema": doc.query_schema})
    for header, description in doc.headers.items():
        parameter = {"in": "header", "name": header, "required": False, "description": description}
        operation["parameters"].append({**parameter, "schema": {"type": "string"}})
    if doc.request_schema is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": doc.request_schema}}}
    if doc.response_schema is not None:
        operation["responses"][str(doc.status)]["content"] = {"application/json": {"schema": doc.response_schema}}
    for status, response in _errors_for(endpoint).items():
        operation["responses"].setdefault(status, response)
    operation["responses"].update(doc.responses)
    if endpoint.auth == "required":
        operation["security"] = [{"bearer": []}]
    elif endpoint.auth == "optional":
        operation["security"] = [{}, {"bearer": []}]
    if endpoint.roles:
        operation["x-roles"] = list(endpoint.roles)
    return operation


def build_openapi(service_cls: type) -> dict[str, Any]:
    """The OpenAPI document of every @http entrypoint on `service_cls`, versioned by its
    `api_version` (semantic: the minor number grows with additions, the major with breaks)."""
    name = service_cls.name  # type: ignore[attr-defined]
    spec = APISpec(
        title=f"Beat {name} API",
        version=getattr(service_cls, "api_version", "1.0.0"),
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={"description": inspect.getdoc(service_cls) or f"The {name} service of Beat."},
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    spec.components.schema("Error", schema=Error)
    operations: dict[str, dict[str, Any]] = {}
    for method_name, method in sorted(inspect.getmembers(service_cls)):
        for endpoint in getattr(method, "nameko_entrypoints", ()):
            if not isinstance(endpoint, HttpEndpoint):
                continue
            path, parameters = openapi_path(endpoint.url)
            verbs = [verb.strip().lower() for verb in endpoint.method.split(",")]
            for verb in verbs:
                operation_id = method_name if len(verbs) == 1 else f"{method_name}_{verb}"  # ids must be unique
                operations.setdefault(path, {})[verb] = _operation(operation_id, method, endpoint, parameters)
    for path in sorted(operations):
        spec.path(path=path, operations=operations[path])
    return spec.to_dict()
