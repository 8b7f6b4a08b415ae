"""The beats map: lon/lat to the SVG viewBox and back, paths, and point-in-beat."""

import pytest

from web.domain.geo import Projection, bounds, contains, svg_path

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[-108.4, 43.0], [-108.3, 43.0], [-108.3, 43.1], [-108.4, 43.1], [-108.4, 43.0]]],
}
WITH_HOLE = {
    "type": "Polygon",
    "coordinates": [
        SQUARE["coordinates"][0],
        [[-108.36, 43.04], [-108.34, 43.04], [-108.34, 43.06], [-108.36, 43.06], [-108.36, 43.04]],
    ],
}


def test_the_corners_of_the_box_land_on_the_margins_north_up():
    view = Projection.fitting((-108.4, 43.0, -108.3, 43.1), width=600, margin=10)
    assert view.point(-108.4, 43.1) == (10, 10)  # north-west: top left
    assert view.point(-108.3, 43.0) == (590, view.height - 10)  # south-east: bottom right


def test_the_height_keeps_true_proportions_at_the_citys_latitude():
    view = Projection.fitting((-108.4, 43.0, -108.3, 43.1), width=600, margin=0)
    # A degree of longitude is cos(43.05°) ≈ 0.731 of a degree of latitude there.
    assert view.height == pytest.approx(600 / 0.7307, rel=1e-3)
    assert view.view_box == f"0 0 600 {view.height:g}"


def test_a_click_on_the_map_turns_back_into_the_place_drawn_there():
    view = Projection.fitting((-108.42, 42.99, -108.33, 43.07), width=320)
    x, y = view.point(-108.38, 43.045)
    long, lat = view.position(x, y)
    assert long == pytest.approx(-108.38, abs=3e-4) and lat == pytest.approx(43.045, abs=3e-4)


def test_an_empty_box_is_refused():
    with pytest.raises(ValueError):
        Projection.fitting((-108.4, 43.0, -108.4, 43.1))


def test_paths_close_every_ring_and_multipolygons_draw_each_part():
    view = Projection.fitting(bounds([SQUARE]), width=100, margin=0)
    assert svg_path(SQUARE, view).count("M") == 1 and svg_path(SQUARE, view).endswith("Z")
    multi = {"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"], WITH_HOLE["coordinates"]]}
    assert svg_path(multi, view).count("M") == 3


def test_a_point_in_a_hole_is_not_in_the_beat():
    assert contains(WITH_HOLE, -108.39, 43.02)
    assert not contains(WITH_HOLE, -108.35, 43.05)
    assert not contains(SQUARE, -108.2, 43.05)
