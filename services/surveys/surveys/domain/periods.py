"""Reporting periods: calendar quarters ("2026-Q1") or months ("2026-03")."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from beat_shared.errors import InvalidInput

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """[start, end) of a period label in UTC; raises InvalidInput for anything else."""
    quarter = _QUARTER.match(period or "")
    if quarter:
        year, number = int(quarter[1]), int(quarter[2])
        start = datetime(year, 3 * number - 2, 1, tzinfo=UTC)
        end = datetime(year + 1, 1, 1, tzinfo=UTC) if number == 4 else datetime(year, 3 * number + 1, 1, tzinfo=UTC)
        return start, end
    month = _MONTH.match(period or "")
    if month:
        year, number = int(month[1]), int(month[2])
        start = datetime(year, number, 1, tzinfo=UTC)
        end = datetime(year + 1, 1, 1, tzinfo=UTC) if number == 12 else datetime(year, number + 1, 1, tzinfo=UTC)
        return start, end
    raise InvalidInput("a period is a quarter like 2026-Q1 or a month like 2026-03", {"period": ["invalid"]})


def quarter_of(moment: datetime) -> str:
    """The quarter label a moment falls in (post-contact responses are reported by quarter)."""
    moment = moment.astimezone(UTC)
    return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"


def overlaps(period: str, start: datetime | None, end: datetime | None) -> bool:
    """Whether a period shares time with the window [start, end) (an open side is unbounded)."""
    first, last = period_bounds(period)
    return (start is None or last > start) and (end is None or first < end)
