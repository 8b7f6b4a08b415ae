"""An officer's queue: which part of it a concern belongs to, and the orders it can be read in.

Pure rules over the concerns API's staff view (no I/O). Which steps a concern may take next is
decided by concerns (a step it refuses is a 409); `STEPS_OFFERED` only chooses the buttons.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

# The queue's parts, in the order the console shows them, each with the concerns API filter that fills it.
QUEUE_PARTS: dict[str, dict[str, str]] = {
    "overdue": {"overdue": "true"},
    "new": {"status": "submitted", "overdue": "false"},
    "acknowledged": {"status": "acknowledged"},
    "in_progress": {"status": "in_progress"},
    "waiting": {"status": "referred"},  # waiting for the partner agency
}
IN_PROGRESS_PARTS = ("acknowledged", "in_progress")

SORTS = ("age", "support", "urgency")
DEFAULT_SORT = "age"

# The workflow steps a concern's page offers from each status (concerns checks them again).
STEPS_OFFERED: dict[str, tuple[str, ...]] = {
    "submitted": ("acknowledged", "closed_not_resolved"),
    "acknowledged": ("in_progress", "resolved", "closed_not_resolved"),
    "in_progress": ("resolved", "closed_not_resolved"),
    "referred": ("in_progress", "resolved", "closed_not_resolved"),
}


def chosen_sort(requested: str | None) -> str:
    return requested if requested in SORTS else DEFAULT_SORT


def _age_key(concern: dict[str, Any]) -> tuple[Any, ...]:
    return (concern["submitted_at"], concern["id"])  # RFC 3339 in UTC: text order is time order


def _support_key(concern: dict[str, Any]) -> tuple[Any, ...]:
    return (-int(concern.get("supporters") or 0), *_age_key(concern))


def _urgency_key(concern: dict[str, Any]) -> tuple[Any, ...]:
    """Overdue first, then the nearest time to acknowledge, then the oldest."""
    deadline = concern.get("acknowledge_by") if concern["status"] == "submitted" else None
    return (not concern.get("overdue"), deadline is None, deadline or "", *_age_key(concern))


SORT_KEYS: dict[str, Callable[[dict[str, Any]], tuple[Any, ...]]] = {
    "age": _age_key,
    "support": _support_key,
    "urgency": _urgency_key,
}


def sorted_concerns(concerns: Iterable[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    """The concerns in the chosen order (oldest first by age: the longest waiting come first)."""
    return sorted(concerns, key=SORT_KEYS[chosen_sort(sort)])


# Concerns that may still be merged into another (a referred one may not: its referral is under way).
MERGEABLE = ("submitted", "acknowledged", "in_progress")


def steps_offered(status: str) -> tuple[str, ...]:
    return STEPS_OFFERED.get(status, ())


def mergeable(status: str) -> bool:
    return status in MERGEABLE


def reporter_contact(concern: dict[str, Any]) -> dict[str, str] | None:
    """How the reporter agreed to be contacted, or None: anonymous, or they chose no contact."""
    reporter = concern.get("reporter") or {}
    preference = reporter.get("contact_preference")
    channel = {"email": reporter.get("email"), "sms": reporter.get("phone")}.get(preference or "none")
    if concern.get("anonymous") or not channel:
        return None
    return {"name": reporter.get("name") or "", "preference": preference, "address": channel}
