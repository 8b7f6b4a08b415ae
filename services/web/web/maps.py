"""The beats map: GeoJSON from the concerns API drawn as SVG shapes (inline, or as an image)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from web.domain.geo import Projection, bounds, contains, svg_path

PICKER_WIDTH = 300  # the no-script location picker is shown at exactly this many CSS pixels (fits 360 px)


@dataclass(frozen=True)
class BeatShape:
    code: str
    name: str
    path: str
    label_x: float
    label_y: float


@dataclass(frozen=True)
class BeatMap:
    projection: Projection
    beats: list[BeatShape]

    @property
    def view_box(self) -> str:
        return self.projection.view_box


def beat_map(collection: dict[str, Any], width: float = 600) -> BeatMap:
    features = [feature for feature in collection.get("features", []) if feature.get("geometry")]
    projection = Projection.fitting(bounds(feature["geometry"] for feature in features), width)
    shapes = []
    for feature in features:
        west, south, east, north = bounds([feature["geometry"]])
        x, y = projection.point((west + east) / 2, (south + north) / 2)
        properties = feature.get("properties") or {}
        code = str(properties.get("code") or feature.get("id"))
        shapes.append(
            BeatShape(code, str(properties.get("name") or code), svg_path(feature["geometry"], projection), x, y)
        )
    return BeatMap(projection, sorted(shapes, key=lambda shape: shape.code))


def beat_at(collection: dict[str, Any], long: float, lat: float) -> str | None:
    """The code of the beat the point lies in, or None outside every beat."""
    for feature in collection.get("features", []):
        if feature.get("geometry") and contains(feature["geometry"], long, lat):
            properties = feature.get("properties") or {}
            return str(properties.get("code") or feature.get("id"))
    return None


def picker_svg(collection: dict[str, Any], marker: tuple[float, float] | None = None) -> str:
    """A stand-alone SVG image of the beats for `<input type="image">`: a click on it posts
    the pixel it hit, which `Projection.position` turns back into a location."""
    drawn = beat_map(collection, PICKER_WIDTH)
    view = drawn.projection
    shapes = "".join(
        f'<path d="{shape.path}" fill="#dbe9f6" stroke="#1d4f91" stroke-width="1.5" fill-rule="evenodd"/>'
        f'<text x="{shape.label_x}" y="{shape.label_y}" font-size="11" text-anchor="middle" '
        f'fill="#102a4c">{escape(shape.code)}</text>'
        for shape in drawn.beats
    )
    pin = ""
    if marker is not None:
        x, y = view.point(*marker)
        pin = f'<circle cx="{x}" cy="{y}" r="6" fill="#b00020" stroke="#fff" stroke-width="2"/>'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{view.width:g}" height="{view.height:g}" '
        f'viewBox="{view.view_box}">{shapes}{pin}</svg>'
    )
