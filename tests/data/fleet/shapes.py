"""Generated places and shapes for spatial tests: points, circles, simple polygons."""

from __future__ import annotations

import math

from hypothesis import strategies as st

from webhost.data.fleet.geometry import EARTH_RADIUS_M
from webhost.data.fleet.polygons import LonLat

latitudes = st.floats(-90, 90, allow_nan=False)
longitudes = st.floats(-180, 180, allow_nan=False)
# places where lon/lat geometry is at its strangest weigh more than their area would give them
awkward_latitudes = st.one_of(latitudes, st.floats(84, 90), st.floats(-90, -84))
awkward_longitudes = st.one_of(longitudes, st.floats(175, 180), st.floats(-180, -175))
radii = st.one_of(st.floats(1, 1_000), st.floats(1_000, 500_000), st.floats(500_000, 20_000_000))


def destination(lat: float, lon: float, bearing_deg: float, distance_m: float) -> LonLat:
    """The point ``distance_m`` from (lat, lon) along the great circle of ``bearing_deg``."""
    angle = distance_m / EARTH_RADIUS_M
    phi, lam, theta = math.radians(lat), math.radians(lon), math.radians(bearing_deg)
    phi2 = math.asin(
        max(
            -1.0,
            min(
                1.0,
                math.sin(phi) * math.cos(angle) + math.cos(phi) * math.sin(angle) * math.cos(theta),
            ),
        )
    )
    lam2 = lam + math.atan2(
        math.sin(theta) * math.sin(angle) * math.cos(phi),
        math.cos(angle) - math.sin(phi) * math.sin(phi2),
    )
    lon2 = (math.degrees(lam2) + 540) % 360 - 180
    return lon2, math.degrees(phi2)


def star_polygon(center: LonLat, radii: list[float], turn: float) -> list[LonLat]:
    """A simple polygon: vertices at increasing angles around ``center`` (degrees away given
    by ``radii``), kept inside the lon/lat ranges."""
    count = len(radii)
    vertices = []
    for n, radius in enumerate(radii):
        angle = turn + 2 * math.pi * n / count
        lon = min(180.0, max(-180.0, center[0] + radius * math.cos(angle)))
        lat = min(90.0, max(-90.0, center[1] + radius * math.sin(angle)))
        vertices.append((lon, lat))
    return vertices


def _clamped(place: LonLat, dlon: float, dlat: float) -> LonLat:
    return max(-180.0, min(180.0, place[0] + dlon)), max(-90.0, min(90.0, place[1] + dlat))


def places_around(places: list[LonLat]) -> st.SearchStrategy[LonLat]:
    """Anywhere (poles and antimeridian weighed up), or close to one of ``places``."""
    # drawn by index: a strategy over the list itself would print the whole list
    near = st.builds(
        _clamped,
        st.integers(0, len(places) - 1).map(places.__getitem__),
        st.sampled_from([0.0, 1e-5, -1e-3, 0.02, -0.3]),
        st.sampled_from([0.0, -1e-5, 1e-3, -0.02, 0.3]),
    )
    return st.one_of(st.tuples(awkward_longitudes, awkward_latitudes), near, near)


@st.composite
def star_polygons(
    draw: st.DrawFn, max_vertices: int = 12, centers: st.SearchStrategy[LonLat] | None = None
) -> list[LonLat]:
    if centers is None:
        centers = st.tuples(st.floats(-170, 170), st.floats(-80, 80))
    center = draw(centers)
    size = draw(st.sampled_from([1e-4, 1e-2, 1.0, 10.0]))
    radii = draw(st.lists(st.floats(0.2 * size, size), min_size=3, max_size=max_vertices))
    return star_polygon(center, radii, draw(st.floats(0, 2 * math.pi)))


def distance_to_segment(point: LonLat, a: LonLat, b: LonLat) -> float:
    """Planar distance in degrees from a point to the segment a-b."""
    (px, py), (ax, ay), (bx, by) = point, a, b
    dx, dy = bx - ax, by - ay
    length = dx * dx + dy * dy
    t = 0.0 if length == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def near_boundary(point: LonLat, vertices: list[LonLat], within: float = 1e-9) -> bool:
    """Whether the point is so close to an edge that rounding may put it on either side."""
    return any(
        distance_to_segment(point, vertices[n - 1], vertices[n]) <= within
        for n in range(len(vertices))
    )
