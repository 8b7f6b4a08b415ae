"""Riverton's police beats as points, for matching "in a beat" by distance.

The demo city's six beats (RV-01 ... RV-06) are the codes every service agrees on;
their centres let the directory order services by distance when an officer names a
beat rather than an address.
"""

from __future__ import annotations

BEAT_CENTRES: dict[str, tuple[float, float]] = {
    "RV-01": (41.5868, -90.5210),  # Old Town and the riverfront
    "RV-02": (41.5951, -90.5402),  # Millbrook
    "RV-03": (41.6043, -90.5125),  # North Hill
    "RV-04": (41.5779, -90.4968),  # Eastgate
    "RV-05": (41.5702, -90.5289),  # Southside
    "RV-06": (41.5876, -90.5598),  # West End and Riverton Heights
}


def beat_centre(beat_code: str) -> tuple[float, float] | None:
    return BEAT_CENTRES.get(beat_code)
