"""Generate the published contracts: docs/contracts/asyncapi.json and openapi/<service>.json."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from beat_shared import registry
from beat_shared.asyncapi import build_asyncapi
from beat_shared.config import SERVICE_NAMES
from beat_shared.openapi import build_openapi


def service_classes() -> list[type]:
    """The four services' classes, as they declare them (beat_shared.registry), in SERVICE_NAMES' order."""
    return registry.service_classes(SERVICE_NAMES)


def contract_documents() -> dict[str, dict[str, Any]]:
    """Relative path under docs/contracts → document."""
    classes = service_classes()
    documents = {"asyncapi.json": build_asyncapi(classes)}
    for cls in classes:
        documents[f"openapi/{cls.name}.json"] = build_openapi(cls)  # type: ignore[attr-defined]
    return documents


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def reference_page(document: dict[str, Any]) -> str:
    """A static HTML reference of an OpenAPI document (no scripts, nothing fetched)."""
    info = document["info"]
    rows = []
    for path, operations in sorted(document["paths"].items()):
        for verb, operation in sorted(operations.items()):
            security = (
                "public"
                if "security" not in operation
                else ("optional token" if {} in operation["security"] else "bearer token")
            )
            roles = ", ".join(operation.get("x-roles", [])) or "any"
            statuses = ", ".join(sorted(operation["responses"]))
            rows.append(
                f"<tr><td><code>{verb.upper()}</code></td><td><code>{escape(path)}</code></td>"
                f"<td>{escape(operation.get('summary', ''))}</td><td>{security}</td><td>{escape(roles)}</td>"
                f"<td>{statuses}</td></tr>"
            )
    schemas = "".join(
        f"<h3 id='{escape(name)}'>{escape(name)}</h3><pre>{escape(json.dumps(schema, indent=2))}</pre>"
        for name, schema in sorted(document.get("components", {}).get("schemas", {}).items())
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(info['title'])}</title><style>body{{font-family:system-ui,sans-serif;margin:2rem;"
        "max-width:70rem}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem;"
        "text-align:left;vertical-align:top}pre{background:#f6f6f6;padding:.5rem;overflow:auto}</style></head><body>"
        f"<h1>{escape(info['title'])} <small>{escape(info['version'])}</small></h1>"
        f"<p>{escape(info.get('description', ''))}</p>"
        "<p>Generated from the code by <code>beat docs</code>; the machine-readable document is the JSON file beside "
        'this page. Errors are always <code>{"error": {"code", "message", "details"}}</code>.</p>'
        "<table><tr><th>method</th><th>path</th><th>what</th><th>auth</th><th>roles</th><th>statuses</th></tr>"
        + "".join(rows)
        + "</table><h2>Schemas</h2>"
        + schemas
        + "</body></html>\n"
    )


def contract_files() -> dict[str, str]:
    """Relative path under docs/contracts → file content, for every generated file."""
    files = {}
    for relative, document in contract_documents().items():
        files[relative] = render(document)
        if relative.startswith("openapi/"):
            files[relative.replace(".json", ".html")] = reference_page(document)
    return files


def write_contracts(root: Path) -> list[Path]:
    written = []
    for relative, content in contract_files().items():
        path = root / "docs" / "contracts" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        written.append(path)
    return written
