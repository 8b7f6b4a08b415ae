"""Recipients' wishes: preferences per topic and channel, quiet hours, digests, languages.

Plain functions; the dispatcher applies them when it turns a notification into messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from beat_shared.errors import InvalidInput

LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
_CLOCK_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def language_of(requested: str | None) -> str:
    """A shipped language for a requested one ("es-MX" → "es"); English otherwise."""
    base = (requested or "").split("-")[0].split("_")[0].lower()
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


def valid_email(address: str | None) -> bool:
    return bool(address) and len(address) <= 254 and _EMAIL.match(address) is not None  # type: ignore[arg-type]


def valid_phone(number: str | None) -> bool:
    """E.164: a plus, a country code and up to 15 digits in all."""
    return bool(number) and _E164.match(number) is not None  # type: ignore[arg-type]


def normalise_phone(number: str) -> str:
    """Strip the spaces, dots, dashes and brackets people type; refuse anything else."""
    cleaned = re.sub(r"[\s().-]", "", number)
    if not valid_phone(cleaned):
        raise InvalidInput("phone must be an international number like +15555550123", {"phone": ["not E.164"]})
    return cleaned


def zone(name: str | None, default: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or default)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default)


def valid_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def valid_clock_time(value: str | None) -> bool:
    return value is not None and _CLOCK_TIME.match(value) is not None


def wants(preferences: Iterable[tuple[str, str, bool]], topic: str, channel: str, default: bool) -> bool:
    """Whether a recipient wants `topic` on `channel`: the most specific preference wins
    ((topic, channel), then (topic, *), then (*, channel), then (*, *)); else `default`."""
    table = {(t, c): enabled for t, c, enabled in preferences}
    for key in ((topic, channel), (topic, "*"), ("*", channel), ("*", "*")):
        if key in table:
            return table[key]
    return default


def _parse(clock_time: str) -> time:
    hours, minutes = clock_time.split(":")
    return time(int(hours), int(minutes))


def quiet_until(now: datetime, tz: ZoneInfo, start: str | None, end: str | None) -> datetime | None:
    """If `now` falls in the quiet hours [start, end) local time, when they end (UTC-aware); else None.

    A window may wrap midnight (22:00 to 07:00). Equal start and end means no quiet hours.
    """
    if not (valid_clock_time(start) and valid_clock_time(end)) or start == end:
        return None
    assert start is not None and end is not None
    local = now.astimezone(tz)
    begin, finish = _parse(start), _parse(end)
    current = local.time().replace(tzinfo=None)
    if begin < finish:
        inside = begin <= current < finish
        end_day = local.date()
    else:  # wraps midnight
        inside = current >= begin or current < finish
        end_day = local.date() + timedelta(days=1) if current >= begin else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, finish, tzinfo=tz).astimezone(now.tzinfo)


def digest_due(now: datetime, tz: ZoneInfo, hour: int) -> str | None:
    """The local date whose digest may go out now (at or after `hour` local time), else None."""
    local = now.astimezone(tz)
    return local.date().isoformat() if local.hour >= hour else None
