"""An officer's broadcast: what its templates are given."""

from __future__ import annotations

from typing import Any

from beat_shared.errors import InvalidInput
from beat_shared.isotime import utc_iso


def broadcast_context(beat_code: str, body: dict[str, Any]) -> dict[str, Any]:
    """What a broadcast's templates are given; refuses a meeting without its time and place."""
    kind = body["kind"]
    if kind == "meeting" and (not body.get("starts_at") or not body.get("venue")):
        raise InvalidInput("a meeting needs starts_at and venue", {"starts_at": ["required for meetings"]})
    return {
        "beat_code": beat_code,
        "kind": "community_meeting" if kind == "meeting" else "alert",
        "title": body["title"],
        "body": body.get("body") or "",
        "urgent": bool(body.get("urgent")),
        "starts_at": utc_iso(body["starts_at"]) if body.get("starts_at") else None,
        "ends_at": utc_iso(body["ends_at"]) if body.get("ends_at") else None,
        "venue": body.get("venue"),
    }
