"""Polygons in the lon/lat plane: validation and point-in-polygon, edges included."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from webhost.errors import InvalidInput

LonLat = tuple[float, float]

MAX_VERTICES = 1000


def _cross(o: LonLat, a: LonLat, b: LonLat) -> float:
    """Twice the signed area of the triangle o, a, b: > 0 when b lies left of o -> a."""
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _within_box(a: LonLat, b: LonLat, p: LonLat) -> bool:
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def point_in_polygon(lon: float, lat: float, vertices: Sequence[LonLat]) -> bool:
    """Whether the point lies inside the polygon or on its boundary (even-odd rule; the
    polygons we store are simple, where every rule agrees)."""
    point = (lon, lat)
    inside = False
    previous = vertices[-1]
    for vertex in vertices:
        if _cross(previous, vertex, point) == 0 and _within_box(previous, vertex, point):
            return True
        (x1, y1), (x2, y2) = previous, vertex
        if (y1 > lat) != (y2 > lat):
            crossing = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lon < crossing:
                inside = not inside
        previous = vertex
    return inside


def _segments_touch(a: LonLat, b: LonLat, c: LonLat, d: LonLat) -> bool:
    """Whether the closed segments a-b and c-d share at least one point."""
    d1, d2 = _cross(c, d, a), _cross(c, d, b)
    d3, d4 = _cross(a, b, c), _cross(a, b, d)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True
    return (
        (d1 == 0 and _within_box(c, d, a))
        or (d2 == 0 and _within_box(c, d, b))
        or (d3 == 0 and _within_box(a, b, c))
        or (d4 == 0 and _within_box(a, b, d))
    )


def _folds_back(a: LonLat, b: LonLat, c: LonLat) -> bool:
    """Whether the edge b-c runs back over the edge a-b (a spike of no width)."""
    if _cross(a, b, c) != 0:
        return False
    return (b[0] - a[0]) * (c[0] - b[0]) + (b[1] - a[1]) * (c[1] - b[1]) < 0


def self_intersects(vertices: Sequence[LonLat]) -> bool:
    """Whether two edges of the closed ring meet anywhere but at the vertex they share.

    Edges are swept by their smallest longitude, so only edges whose boxes overlap are compared.
    """
    count = len(vertices)
    for n in range(count):
        if _folds_back(vertices[n - 1], vertices[n], vertices[(n + 1) % count]):
            return True
    edges = sorted(
        (
            min(vertices[n][0], vertices[(n + 1) % count][0]),
            max(vertices[n][0], vertices[(n + 1) % count][0]),
            n,
        )
        for n in range(count)
    )
    active: list[tuple[float, int]] = []  # (largest longitude, edge)
    for min_x, max_x, n in edges:
        active = [(end, other) for end, other in active if end >= min_x]
        a, b = vertices[n], vertices[(n + 1) % count]
        low, high = min(a[1], b[1]), max(a[1], b[1])
        for _, other in active:
            if (other - n) % count in {1, count - 1}:
                continue  # neighbours share a vertex; folding back is checked above
            c, d = vertices[other], vertices[(other + 1) % count]
            if max(c[1], d[1]) < low or min(c[1], d[1]) > high:
                continue
            if _segments_touch(a, b, c, d):
                return True
        active.append((max_x, n))
    return False


def lon_lat(value: Any, what: str) -> LonLat:
    """A ``[longitude, latitude]`` pair of finite numbers in range, or InvalidInput."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise InvalidInput(f"{what} must be a [longitude, latitude] pair")
    lon, lat = value
    for number in (lon, lat):
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise InvalidInput(f"{what} must hold two numbers")
        if isinstance(number, float) and not math.isfinite(number):
            raise InvalidInput(f"{what} must hold finite numbers")
    if not -180 <= lon <= 180:
        raise InvalidInput(f"{what}: longitude must be between -180 and 180")
    if not -90 <= lat <= 90:
        raise InvalidInput(f"{what}: latitude must be between -90 and 90")
    return float(lon), float(lat)


def normalize_polygon(raw: Sequence[Any]) -> tuple[LonLat, ...]:
    """The polygon's ring without its closing vertex or repeated vertices, or InvalidInput:
    at least 3 distinct vertices, at most MAX_VERTICES, some area, no edge crossing another."""
    if len(raw) > MAX_VERTICES + 1:
        raise InvalidInput(f"a polygon has at most {MAX_VERTICES} vertices")
    ring: list[LonLat] = []
    for n, value in enumerate(raw):
        vertex = lon_lat(value, f"polygon vertex {n}")
        if not ring or vertex != ring[-1]:
            ring.append(vertex)
    while len(ring) > 1 and ring[0] == ring[-1]:
        ring.pop()
    if len(set(ring)) < 3:
        raise InvalidInput("a polygon needs at least 3 distinct vertices")
    if len(ring) > MAX_VERTICES:
        raise InvalidInput(f"a polygon has at most {MAX_VERTICES} vertices")
    if len(set(ring)) != len(ring):
        raise InvalidInput("a polygon's edges must not cross or touch (a vertex repeats)")
    if all(_cross(ring[0], ring[1], vertex) == 0 for vertex in ring[2:]):
        raise InvalidInput("a polygon must enclose some area (its vertices are on one line)")
    if self_intersects(ring):
        raise InvalidInput("a polygon's edges must not cross or touch one another")
    return tuple(ring)
