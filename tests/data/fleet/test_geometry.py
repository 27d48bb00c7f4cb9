"""Distances, boxes around circles, point in polygon and polygon validation, as pure functions."""

from __future__ import annotations

import math
from itertools import combinations
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.data.fleet.shapes import (
    awkward_latitudes,
    awkward_longitudes,
    destination,
    radii,
    star_polygons,
)
from webhost.data.fleet.geometry import (
    EARTH_RADIUS_M,
    Geofence,
    geofences_containing,
    haversine_m,
    radius_boxes,
)
from webhost.data.fleet.polygons import (
    MAX_VERTICES,
    LonLat,
    _folds_back,
    _segments_touch,
    normalize_polygon,
    point_in_polygon,
    self_intersects,
)
from webhost.errors import InvalidInput

SQUARE = [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0)]


def test_haversine_matches_known_distances() -> None:
    assert haversine_m(0, 0, 0, 0) == 0
    quarter = math.pi / 2 * EARTH_RADIUS_M
    assert haversine_m(0, 0, 90, 0) == pytest.approx(quarter)
    assert haversine_m(0, 0, 0, 90) == pytest.approx(quarter)
    assert haversine_m(90, 0, -90, 0) == pytest.approx(2 * quarter)
    # across the antimeridian the short way round
    assert haversine_m(0, 179.5, 0, -179.5) == pytest.approx(haversine_m(0, 0, 0, 1))
    # Paris to London, about 343.5 km on this sphere
    assert haversine_m(48.8566, 2.3522, 51.5074, -0.1278) == pytest.approx(343_500, rel=1e-3)


@settings(max_examples=500)
@given(
    lat=awkward_latitudes,
    lon=awkward_longitudes,
    radius=radii,
    bearing=st.floats(0, 360),
    share=st.floats(0, 1),
)
def test_radius_boxes_hold_every_point_of_the_circle(
    lat: float, lon: float, radius: float, bearing: float, share: float
) -> None:
    point_lon, point_lat = destination(lat, lon, bearing, radius * share)
    if haversine_m(lat, lon, point_lat, point_lon) > radius:
        return  # rounding carried the generated point outside
    boxes = radius_boxes(lat, lon, radius)
    assert 1 <= len(boxes) <= 2
    assert any(box.contains(point_lat, point_lon) for box in boxes)
    for box in boxes:
        assert -180 <= box.min_lon <= box.max_lon <= 180
        assert -90 <= box.min_lat <= box.max_lat <= 90


def test_radius_boxes_split_at_the_antimeridian_and_open_at_poles() -> None:
    across = radius_boxes(0, 179.9, 50_000)
    assert len(across) == 2
    assert {across[0].max_lon, across[1].min_lon} == {180.0, -180.0}
    (polar,) = radius_boxes(89.9, 0, 50_000)
    assert (polar.min_lon, polar.max_lon, polar.max_lat) == (-180, 180, 90)
    (world,) = radius_boxes(10, 10, 20_015_200)
    assert (world.min_lat, world.max_lat, world.min_lon, world.max_lon) == (-90, 90, -180, 180)


def test_points_in_a_polygon_include_its_boundary() -> None:
    assert point_in_polygon(1, 1, SQUARE)
    assert point_in_polygon(0, 0, SQUARE)  # a vertex
    assert point_in_polygon(1, 0, SQUARE)  # an edge
    assert point_in_polygon(2, 1.5, SQUARE)
    assert not point_in_polygon(2.0000001, 1, SQUARE)
    assert not point_in_polygon(-1, 1, SQUARE)
    assert not point_in_polygon(1, 3, SQUARE)
    concave = [(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (2.0, 1.0), (0.0, 4.0)]
    assert not point_in_polygon(2, 3, concave)
    assert point_in_polygon(1, 1, concave)
    # a ray through a vertex counts once
    diamond = [(1.0, 0.0), (2.0, 1.0), (1.0, 2.0), (0.0, 1.0)]
    assert point_in_polygon(0.5, 1, diamond)
    assert not point_in_polygon(-0.5, 1, diamond)


def test_a_tiny_polygon_has_sharp_edges() -> None:
    # a diamond 100 m across: a point 40 m outside its diagonal edge is outside
    diamond = [(9.999, 50.0), (10.0, 50.001), (10.001, 50.0), (10.0, 49.999)]
    assert not point_in_polygon(10.0006, 50.0006, diamond)
    assert point_in_polygon(10.0004, 50.0004, diamond)


def test_valid_polygons_are_normalized() -> None:
    closed = [[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]
    assert normalize_polygon(closed) == tuple(SQUARE)
    repeated = [[0, 0], [0, 0], [2, 0], [2, 2], [2, 2], [0, 2]]
    assert normalize_polygon(repeated) == tuple(SQUARE)
    assert normalize_polygon([(-180, -90), (180, -90), (0, 90)]) == (
        (-180.0, -90.0),
        (180.0, -90.0),
        (0.0, 90.0),
    )


@pytest.mark.parametrize(
    ("polygon", "problem"),
    [
        ([[0, 0], [1, 1]], "at least 3 distinct vertices"),
        ([[0, 0], [1, 1], [0, 0], [1, 1]], "at least 3 distinct vertices"),
        ([[0, 0], [1, 1], [2, 2]], "enclose some area"),
        ([[0, 0], [2, 2], [2, 0], [0, 2]], "must not cross"),  # a bow tie
        ([[0, 0], [2, 0], [1, 0], [1, 1]], "must not cross"),  # an edge folds back
        ([[0, 0], [2, 0], [2, 2], [1, 0], [0, 2]], "must not cross"),  # a vertex on an edge
        ([[0, 0], [2, 0], [1, 1], [2, 2], [0, 2], [1, 1]], "must not cross"),  # vertex repeats
        ([[0, 0], [1, 0], [float("nan"), 1]], "finite"),
        ([[0, 0], [1, 0], [float("inf"), 1]], "finite"),
        ([[0, 0], [1, 0], [181, 1]], "longitude"),
        ([[0, 0], [1, 0], [1, -91]], "latitude"),
        ([[0, 0], [1, 0], [1, 10**400]], "latitude"),
        ([[0, 0], [1, 0], [True, 1]], "two numbers"),
        ([[0, 0], [1, 0], ["1", 1]], "two numbers"),
        ([[0, 0], [1, 0], [1, 1, 1]], "pair"),
        ([[0, 0], [1, 0], {"lon": 1}], "pair"),
        ([[0, 0], [1, 0], None], "pair"),
    ],
)
def test_invalid_polygons_are_refused(polygon: list[Any], problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        normalize_polygon(polygon)


def test_polygons_have_at_most_the_vertex_limit() -> None:
    circle = [
        [math.cos(2 * math.pi * n / MAX_VERTICES), math.sin(2 * math.pi * n / MAX_VERTICES)]
        for n in range(MAX_VERTICES)
    ]
    assert len(normalize_polygon(circle)) == MAX_VERTICES
    assert len(normalize_polygon([*circle, circle[0]])) == MAX_VERTICES
    bigger = [[math.cos(n / 200), math.sin(n / 200)] for n in range(MAX_VERTICES + 1)]
    with pytest.raises(InvalidInput, match="at most"):
        normalize_polygon(bigger)


def _brute_force_self_intersects(vertices: list[LonLat]) -> bool:
    count = len(vertices)
    edges = [(vertices[n], vertices[(n + 1) % count]) for n in range(count)]
    for (i, (a, b)), (j, (c, d)) in combinations(enumerate(edges), 2):
        if (j - i) % count == 1 and _folds_back(a, b, d):
            return True
        if (j - i) % count == count - 1 and _folds_back(c, d, b):
            return True
        if (j - i) % count not in {1, count - 1} and _segments_touch(a, b, c, d):
            return True
    return False


grid_points = st.tuples(st.integers(0, 4).map(float), st.integers(0, 4).map(float))


@settings(max_examples=400)
@given(st.lists(grid_points, min_size=3, max_size=8, unique=True))
def test_the_sweep_finds_the_crossings_a_brute_force_finds(vertices: list[LonLat]) -> None:
    # on a small grid, touching and collinear edges are common
    assert self_intersects(vertices) == _brute_force_self_intersects(vertices)


@given(star_polygons())
def test_star_polygons_are_simple(vertices: list[LonLat]) -> None:
    if len(set(vertices)) == len(vertices):
        assert not self_intersects(vertices)


@settings(max_examples=300)
@given(
    polygon=star_polygons(),
    lat=awkward_latitudes,
    lon=awkward_longitudes,
    center_lat=awkward_latitudes,
    center_lon=awkward_longitudes,
    radius=radii,
)
def test_geofences_containing_matches_each_shape(
    polygon: list[LonLat],
    lat: float,
    lon: float,
    center_lat: float,
    center_lon: float,
    radius: float,
) -> None:
    fences = [
        Geofence.of_polygon(1, polygon),
        Geofence.of_circle(2, (center_lon, center_lat), radius),
    ]
    expected = set()
    if point_in_polygon(lon, lat, polygon):
        expected.add(1)
    if haversine_m(center_lat, center_lon, lat, lon) <= radius:
        expected.add(2)
    assert geofences_containing(lat, lon, fences) == expected
    # the bounds never cut a shape: its vertices are in it
    for vertex_lon, vertex_lat in polygon:
        assert 1 in geofences_containing(vertex_lat, vertex_lon, fences)
