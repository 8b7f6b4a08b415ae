"""Beat boundaries for concerns: the shared geometry (`beat_shared.geo`, the same rules referrals
matches by), plus what only concerns needs: SQL prefilter boxes, public rounding, GeoJSON output.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from beat_shared.geo import (
    EARTH_RADIUS_METRES,
    BeatBoundary,
    PolygonRings,
    Ring,
    boundary,
    check_coordinates,
    distance_metres,
    place,
    polygons_from_geometry,
)

__all__ = [
    "EARTH_RADIUS_METRES",
    "BeatBoundary",
    "PolygonRings",
    "Ring",
    "boundary",
    "check_coordinates",
    "degree_box",
    "distance_metres",
    "feature_collection",
    "place",
    "polygons_from_geometry",
    "public_point",
]

# Three decimal places of a degree: ~111 m of latitude, less of longitude; "about 100 m".
PUBLIC_DECIMALS = 3


def degree_box(lat: float, long: float, metres: float) -> tuple[float, float, float, float]:
    """A lat/long box that surely contains every point within `metres` (for a SQL prefilter)."""
    d_lat = metres / 111_320.0
    d_long = metres / max(111_320.0 * math.cos(math.radians(lat)), 1.0)
    return lat - d_lat, long - d_long, lat + d_lat, long + d_long


def public_point(lat: float | None, long: float | None) -> tuple[float | None, float | None]:
    """A location snapped to a ~100 m grid, for anything the public sees."""
    if lat is None or long is None:
        return None, None
    return round(lat, PUBLIC_DECIMALS), round(long, PUBLIC_DECIMALS)


def feature_collection(features: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}
