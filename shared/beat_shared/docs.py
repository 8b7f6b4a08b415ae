"""Generate the published contracts: docs/contracts/asyncapi.json and openapi/<service>.json."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from beat_shared.asyncapi import build_asyncapi
from beat_shared.config import SERVICE_NAMES
from beat_shared.openapi import build_openapi


def service_classes() -> list[type]:
    return [getattr(importlib.import_module(f"{s}.service"), f"{s.capitalize()}Service") for s in SERVICE_NAMES]


def contract_documents() -> dict[str, dict[str, Any]]:
    """Relative path under docs/contracts → document."""
    classes = service_classes()
    documents = {"asyncapi.json": build_asyncapi(classes)}
    for cls in classes:
        documents[f"openapi/{cls.name}.json"] = build_openapi(cls)  # type: ignore[attr-defined]
    return documents


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_contracts(root: Path) -> list[Path]:
    written = []
    for relative, document in contract_documents().items():
        path = root / "docs" / "contracts" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(document))
        written.append(path)
    return written
