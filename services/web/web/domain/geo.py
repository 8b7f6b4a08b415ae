"""Beats drawn as inline SVG: lon/lat projected to a viewBox, and back for a click on the map.

An equirectangular projection scaled by the cosine of the middle latitude: at a city's size the
distortion is far below a pixel, and it needs no tile server or library.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

Position = Sequence[float]  # GeoJSON order: (longitude, latitude)
Ring = Sequence[Position]


@dataclass(frozen=True)
class Projection:
    min_long: float
    min_lat: float
    max_long: float
    max_lat: float
    width: float
    height: float
    margin: float

    @classmethod
    def fitting(cls, bbox: Sequence[float], width: float = 600, margin: float = 8) -> Projection:
        """A projection of `bbox` (min_long, min_lat, max_long, max_lat) into `width` pixels
        (plus margins), as tall as the area's true proportions need. Raises ValueError on an
        empty or inverted box."""
        min_long, min_lat, max_long, max_lat = bbox
        if not (max_long > min_long and max_lat > min_lat):
            raise ValueError(f"not a bounding box: {bbox}")
        stretch = math.cos(math.radians((min_lat + max_lat) / 2))
        inner = width - 2 * margin
        height = inner * (max_lat - min_lat) / ((max_long - min_long) * stretch) + 2 * margin
        return cls(min_long, min_lat, max_long, max_lat, width, round(height, 1), margin)

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width:g} {self.height:g}"

    def point(self, long: float, lat: float) -> tuple[float, float]:
        """Pixels in the viewBox; north is up, so y grows as latitude falls."""
        x = self.margin + (long - self.min_long) / (self.max_long - self.min_long) * (self.width - 2 * self.margin)
        y = self.margin + (self.max_lat - lat) / (self.max_lat - self.min_lat) * (self.height - 2 * self.margin)
        return round(x, 1), round(y, 1)

    def position(self, x: float, y: float) -> tuple[float, float]:
        """The (longitude, latitude) under pixel (x, y): the inverse of `point`."""
        long = self.min_long + (x - self.margin) / (self.width - 2 * self.margin) * (self.max_long - self.min_long)
        lat = self.max_lat - (y - self.margin) / (self.height - 2 * self.margin) * (self.max_lat - self.min_lat)
        return round(long, 6), round(lat, 6)


def polygons(geometry: dict[str, Any]) -> list[list[Ring]]:
    """A Polygon or MultiPolygon as a list of polygons, each a list of rings (outer first)."""
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return list(geometry["coordinates"])
    raise ValueError(f"not a polygon: {geometry['type']}")


def bounds(geometries: Iterable[dict[str, Any]]) -> tuple[float, float, float, float]:
    """The bounding box (min_long, min_lat, max_long, max_lat) of polygon geometries."""
    positions = [position for geometry in geometries for polygon in polygons(geometry) for position in polygon[0]]
    if not positions:
        raise ValueError("no positions")
    longs = [position[0] for position in positions]
    lats = [position[1] for position in positions]
    return min(longs), min(lats), max(longs), max(lats)


def svg_path(geometry: dict[str, Any], projection: Projection) -> str:
    """The SVG path data of a polygon geometry (holes included; fill-rule evenodd cuts them)."""
    parts = []
    for polygon in polygons(geometry):
        for ring in polygon:
            points = [projection.point(position[0], position[1]) for position in ring]
            parts.append("M" + " L".join(f"{x:g} {y:g}" for x, y in points) + " Z")
    return " ".join(parts)


def _inside_ring(long: float, lat: float, ring: Ring) -> bool:
    inside = False
    for (x1, y1, *_), (x2, y2, *_) in zip(ring, [*ring[1:], ring[0]], strict=True):
        if (y1 > lat) != (y2 > lat) and long < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def contains(geometry: dict[str, Any], long: float, lat: float) -> bool:
    """Whether the point lies in the geometry (inside an outer ring and outside its holes)."""
    for outer, *holes in polygons(geometry):
        if _inside_ring(long, lat, outer) and not any(_inside_ring(long, lat, hole) for hole in holes):
            return True
    return False
