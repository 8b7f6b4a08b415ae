"""Reading and writing ISO 8601 / RFC 3339 moments, one way in every service.

Plain Python, no imports beyond the standard library: the services' pure `domain/` packages use it.
"""

from __future__ import annotations

from datetime import UTC, datetime


def parse_iso(value: str | datetime) -> datetime:
    """A moment as a datetime: its offset kept ("Z" is UTC), none when the text gives none; a
    datetime is returned as it is. Raises ValueError when the text is not an ISO date-time."""
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def parse_utc(value: str | datetime) -> datetime:
    """A moment in UTC; one without an offset is taken as UTC. Raises ValueError when the text is
    not an ISO date-time, OverflowError when it has no UTC equivalent (year 1 with a + offset)."""
    moment = parse_iso(value)
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def utc_iso(moment: datetime) -> str:
    """RFC 3339 with a Z suffix, as CloudEvents and Open311 clients expect."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
