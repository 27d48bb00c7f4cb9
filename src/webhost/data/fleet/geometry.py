"""Geometry of the fleet domain on a sphere and in the lon/lat plane, as pure functions.

The semantics every spatial path shares (the core SQL, the PostGIS SQL and the ingestion path
that calls ``geofences_containing``):

- Distances are great-circle distances on a sphere of radius ``EARTH_RADIUS_M``, the radius
  PostGIS uses for geography on the sphere, so both SQL paths measure the same metres.
- A circle holds the points at most ``radius_m`` from its centre (its edge included).
- A polygon's edges are straight lines in the lon/lat plane (PostGIS *geometry*, not
  geography), and its boundary is part of it. A polygon therefore cannot cross the
  antimeridian: vertices at longitudes 179 and -179 span the whole globe between them.
- A box is a lon/lat rectangle, ``min_lon <= max_lon``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from webhost.data.fleet.polygons import LonLat, point_in_polygon

# the WGS 84 mean radius, (2a + b) / 3: what PostGIS uses for geography on the sphere
EARTH_RADIUS_M = 6_371_008.771415059
MAX_RADIUS_M = 20_000_000.0
# a box drawn around a circle is widened by this much (relative, then absolute, in radians)
# so that rounding never leaves out a point the exact distance test would keep
_BOX_SLACK_RELATIVE = 1e-9
_BOX_SLACK_RADIANS = 1e-12


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres; the SQL of the core path computes the same formula."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dlat = math.radians(lat2 - lat1) / 2
    half_dlon = math.radians(lon2 - lon1) / 2
    h = math.sin(half_dlat) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlon) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Bounds:
    """A lon/lat rectangle, edges included."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon


WORLD = Bounds(-180.0, -90.0, 180.0, 90.0)


def polygon_bounds(vertices: Sequence[LonLat]) -> Bounds:
    lons = [lon for lon, _ in vertices]
    lats = [lat for _, lat in vertices]
    return Bounds(min(lons), min(lats), max(lons), max(lats))


def radius_boxes(lat: float, lon: float, radius_m: float) -> list[Bounds]:
    """Lon/lat boxes that together hold every point within ``radius_m`` of (lat, lon): one box,
    two when the circle crosses the antimeridian, all longitudes when it holds a pole."""
    angle = radius_m / EARTH_RADIUS_M * (1 + _BOX_SLACK_RELATIVE) + _BOX_SLACK_RADIANS
    if angle >= math.pi:
        return [WORLD]
    dlat = math.degrees(angle)
    min_lat, max_lat = lat - dlat, lat + dlat
    if min_lat <= -90 or max_lat >= 90:
        return [Bounds(-180.0, max(min_lat, -90.0), 180.0, min(max_lat, 90.0))]
    # the widest longitude a circle reaches (it holds no pole here, so the ratio is below 1)
    ratio = math.sin(angle) / math.cos(math.radians(lat))
    if ratio >= 1:
        return [Bounds(-180.0, min_lat, 180.0, max_lat)]
    dlon = math.degrees(math.asin(ratio))
    min_lon, max_lon = lon - dlon, lon + dlon
    if min_lon < -180:
        return [
            Bounds(min_lon + 360, min_lat, 180.0, max_lat),
            Bounds(-180.0, min_lat, max_lon, max_lat),
        ]
    if max_lon > 180:
        return [
            Bounds(min_lon, min_lat, 180.0, max_lat),
            Bounds(-180.0, min_lat, max_lon - 360, max_lat),
        ]
    return [Bounds(min_lon, min_lat, max_lon, max_lat)]


def circle_bounds(center: LonLat, radius_m: float) -> Bounds:
    """One box holding the circle: all longitudes when it crosses the antimeridian."""
    boxes = radius_boxes(center[1], center[0], radius_m)
    if len(boxes) == 1:
        return boxes[0]
    return Bounds(-180.0, boxes[0].min_lat, 180.0, boxes[0].max_lat)


@dataclass(frozen=True)
class Geofence:
    """A geofence as containment needs it: a polygon, or a circle (``center`` and
    ``radius_m``); ``bounds`` holds the whole shape."""

    id: int
    bounds: Bounds
    polygon: tuple[LonLat, ...] = ()
    center: LonLat | None = None
    radius_m: float | None = None

    @classmethod
    def of_polygon(cls, id: int, vertices: Sequence[LonLat]) -> Geofence:
        return cls(id=id, bounds=polygon_bounds(vertices), polygon=tuple(vertices))

    @classmethod
    def of_circle(cls, id: int, center: LonLat, radius_m: float) -> Geofence:
        return cls(id=id, bounds=circle_bounds(center, radius_m), center=center, radius_m=radius_m)

    def contains(self, lat: float, lon: float) -> bool:
        if not self.bounds.contains(lat, lon):
            return False
        if self.center is not None and self.radius_m is not None:
            return haversine_m(self.center[1], self.center[0], lat, lon) <= self.radius_m
        return point_in_polygon(lon, lat, self.polygon)


def geofences_containing(lat: float, lon: float, geofences: Iterable[Geofence]) -> set[int]:
    """The ids of the geofences that hold the point, with the semantics of the SQL paths."""
    return {geofence.id for geofence in geofences if geofence.contains(lat, lon)}
