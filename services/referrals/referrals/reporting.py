"""Outcome reporting per agency or per need category (for dashboards).

Works from the referral rows' facts only (statuses, times, outcomes), which survive
the erasure of personal data, so figures stay the same after the retention job.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from referrals.domain.lifecycle import ACCEPTED, COMPLETED, DECLINED, EXPIRED, IN_PROGRESS, OUTCOMES
from referrals.models import Referral

GROUPINGS = ("agency", "need_category")


def outcome_report(referrals: Iterable[Referral], group_by: str) -> list[dict[str, Any]]:
    """One row per agency (or need category) of referrals that were sent."""
    groups: dict[str, list[Referral]] = {}
    for referral in referrals:
        if referral.sent_at is None:
            continue  # drafts and referrals cancelled before sending were never offered
        key = referral.agency_id if group_by == "agency" else referral.need_category
        groups.setdefault(key or "unassigned", []).append(referral)
    return [_row(group_by, key, rows) for key, rows in sorted(groups.items())]


def _row(group_by: str, key: str, rows: list[Referral]) -> dict[str, Any]:
    sent = len(rows)
    accepted = [r for r in rows if r.accepted_at is not None]
    answered = [r for r in rows if r.accepted_at is not None or r.status == DECLINED]
    completed = [r for r in rows if r.status == COMPLETED]
    hours = [_hours(r.sent_at, r.accepted_at) for r in accepted if r.sent_at and r.accepted_at]
    return {
        group_by: key,
        "sent": sent,
        "accepted": len(accepted),
        "declined": sum(1 for r in rows if r.status == DECLINED),
        "expired": sum(1 for r in rows if r.status == EXPIRED),
        "open": sum(1 for r in rows if r.status in ("sent", ACCEPTED, IN_PROGRESS)),
        "acceptance_rate": _rate(len(accepted), sent),
        "response_rate": _rate(len(answered), sent),
        "median_hours_to_accept": round(statistics.median(hours), 2) if hours else None,
        "completed": len(completed),
        "completion_rate": _rate(len(completed), len(accepted)),
        "outcomes": {outcome: sum(1 for r in completed if r.outcome == outcome) for outcome in OUTCOMES},
    }


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
