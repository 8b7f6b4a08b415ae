"""Beat boundaries: GeoJSON polygons, point-in-polygon placement, centres and distances.

One set of rules for every service that places a point in a beat (concerns places concerns,
referrals matches services), so that both agree on which beat a point is in.

Pure Python on purpose: a city has tens of beats with a few hundred vertices each,
so ray casting over every beat (after a bounding-box check) is fast enough and needs
no GEOS/PostGIS in the embedded SQLite setup.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from beat_shared.errors import InvalidInput

Ring = list[tuple[float, float]]  # (long, lat) pairs, GeoJSON order
PolygonRings = list[Ring]  # outer ring first, then holes

EARTH_RADIUS_METRES = 6_371_000.0


@dataclass(frozen=True)
class BeatBoundary:
    """One beat's shape, ready for placement."""

    code: str
    polygons: tuple[PolygonRings, ...]
    bbox: tuple[float, float, float, float]  # min_long, min_lat, max_long, max_lat

    def box_holds(self, lat: float, long: float) -> bool:
        """The cheap first test: the point is within the bounding box."""
        min_long, min_lat, max_long, max_lat = self.bbox
        return min_lat <= lat <= max_lat and min_long <= long <= max_long

    def contains(self, lat: float, long: float) -> bool:
        return self.box_holds(lat, long) and any(_polygon_contains(rings, long, lat) for rings in self.polygons)

    def centre(self) -> tuple[float, float]:
        """(lat, long) of the centroid of the beat's largest polygon (its outer ring): where distances to
        "the beat" are measured from when only its code is known."""
        outer = max((rings[0] for rings in self.polygons), key=lambda ring: abs(_signed_area(ring)))
        return _centroid(outer)


def _ring_contains(ring: Ring, x: float, y: float) -> bool:
    """Ray casting; a point on an edge counts as inside (so shared borders place somewhere)."""
    inside = False
    count = len(ring)
    for index in range(count):
        x1, y1 = ring[index]
        x2, y2 = ring[(index + 1) % count]
        if _on_segment(x, y, x1, y1, x2, y2):
            return True
        if (y1 > y) != (y2 > y):
            crossing = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if x < crossing:
                inside = not inside
    return inside


def _on_segment(x: float, y: float, x1: float, y1: float, x2: float, y2: float) -> bool:
    cross = (x - x1) * (y2 - y1) - (y - y1) * (x2 - x1)
    if abs(cross) > 1e-12:
        return False
    return min(x1, x2) - 1e-12 <= x <= max(x1, x2) + 1e-12 and min(y1, y2) - 1e-12 <= y <= max(y1, y2) + 1e-12


def _polygon_contains(rings: PolygonRings, x: float, y: float) -> bool:
    outer, *holes = rings
    if not _ring_contains(outer, x, y):
        return False
    return not any(_ring_contains(hole, x, y) and not _on_ring_edge(hole, x, y) for hole in holes)


def _on_ring_edge(ring: Ring, x: float, y: float) -> bool:
    return any(
        _on_segment(x, y, *ring[index], *ring[(index + 1) % len(ring)])  # type: ignore[misc]
        for index in range(len(ring))
    )


def _signed_area(ring: Ring) -> float:
    """Shoelace formula over the ring's (long, lat) pairs (degrees squared; fine for a city's beats)."""
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True)) / 2


def _centroid(ring: Ring) -> tuple[float, float]:
    area = _signed_area(ring)
    if area == 0:  # degenerate: the average of the corners
        return sum(y for _, y in ring) / len(ring), sum(x for x, _ in ring) / len(ring)
    pairs = list(zip(ring, ring[1:] + ring[:1], strict=True))
    cx = sum((x1 + x2) * (x1 * y2 - x2 * y1) for (x1, y1), (x2, y2) in pairs) / (6 * area)
    cy = sum((y1 + y2) * (x1 * y2 - x2 * y1) for (x1, y1), (x2, y2) in pairs) / (6 * area)
    return cy, cx


def _ring(raw: Any, where: str) -> Ring:
    if not isinstance(raw, list) or len(raw) < 4:
        raise InvalidInput(f"{where}: a linear ring needs at least four positions", {"geometry": [where]})
    ring: Ring = []
    for position in raw:
        if not (isinstance(position, list) and len(position) >= 2 and all(_is_number(v) for v in position[:2])):
            raise InvalidInput(f"{where}: positions are [long, lat] numbers", {"geometry": [where]})
        long, lat = float(position[0]), float(position[1])
        check_coordinates(lat, long)
        ring.append((long, lat))
    if ring[0] != ring[-1]:
        raise InvalidInput(f"{where}: a linear ring must end where it starts", {"geometry": [where]})
    return ring[:-1]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def polygons_from_geometry(geometry: Any, where: str = "geometry") -> tuple[PolygonRings, ...]:
    """The polygons of a GeoJSON Polygon or MultiPolygon geometry; InvalidInput otherwise."""
    if not isinstance(geometry, dict):
        raise InvalidInput(f"{where} must be a GeoJSON geometry object", {"geometry": [where]})
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon" and isinstance(coordinates, list) and coordinates:
        return ([_ring(ring, where) for ring in coordinates],)
    if kind == "MultiPolygon" and isinstance(coordinates, list) and coordinates:
        return tuple(
            [_ring(ring, where) for ring in polygon] for polygon in coordinates if isinstance(polygon, list) and polygon
        )
    raise InvalidInput(f"{where} must be a Polygon or MultiPolygon with coordinates", {"geometry": [where]})


def boundary(code: str, geometry: Any) -> BeatBoundary:
    polygons = polygons_from_geometry(geometry, f"beat {code}")
    points = [point for rings in polygons for point in rings[0]]
    longs = [point[0] for point in points]
    lats = [point[1] for point in points]
    return BeatBoundary(code, polygons, (min(longs), min(lats), max(longs), max(lats)))


def place(lat: float, long: float, beats: Iterable[BeatBoundary]) -> str | None:
    """The code of the beat containing the point (first by code if borders overlap), or None."""
    for beat in sorted(beats, key=lambda b: b.code):
        if beat.contains(lat, long):
            return beat.code
    return None


def check_coordinates(lat: float, long: float) -> None:
    if not (-90.0 <= lat <= 90.0):
        raise InvalidInput("lat must be between -90 and 90", {"lat": ["must be between -90 and 90"]})
    if not (-180.0 <= long <= 180.0):
        raise InvalidInput("long must be between -180 and 180", {"long": ["must be between -180 and 180"]})


def distance_metres(lat1: float, long1: float, lat2: float, long2: float) -> float:
    """Great-circle (haversine) distance."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(long2 - long1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_METRES * math.asin(math.sqrt(a))
