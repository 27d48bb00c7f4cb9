"""Spatial queries on core PostgreSQL: the ``location`` point column and its GiST index.

``location`` is ``point(longitude, latitude)``, so the index knows the lon/lat plane only.
Each query lets the index narrow the rows with boxes, then decides exactly:

- Within a radius: the boxes around the circle (``geometry.radius_boxes``, two across the
  antimeridian, all longitudes around a pole), then the haversine distance in SQL.
- Nearest: ``<->`` on points orders by planar distance in degrees, which is not the order on
  the sphere (a degree of longitude shrinks towards the poles, and the plane does not wrap at
  the antimeridian). So it only supplies n candidates: the farthest of them on the sphere
  bounds the distance of the true n-th nearest, since n vehicles lie that close. Every vehicle
  within that radius is then ranked by its haversine distance, which makes the answer exact.
- Polygons: the polygon's bounding box, then ``polygon @> point``. PostgreSQL's geometric
  operators treat differences below 1e-6 as zero, which around a small polygon in degrees
  blurs the edges by tens of metres; so the test runs on coordinates scaled by 1e6, where
  that blur is below 1e-12 degrees.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.fleet.geometry import Bounds, polygon_bounds, radius_boxes
from webhost.data.fleet.polygons import LonLat
from webhost.data.fleet.query_schemas import NearbyVehicleOut, PositionsOut, TimeWindow
from webhost.data.fleet.query_tables import FleetTables
from webhost.data.fleet.spatial_sql import (
    boxes_sql,
    haversine_sql,
    nearby_where,
    positions_where,
    slackened,
)

# the scale at which PostgreSQL's 1e-6 tolerance stops mattering (see the module's note)
_SCALE = 1e6


def scaled_polygon(vertices: Sequence[LonLat]) -> str:
    """The polygon as PostgreSQL ``polygon`` text, coordinates multiplied by the scale (the
    same float multiplication SQL applies to the positions)."""
    return "(" + ",".join(f"({lon * _SCALE!r},{lat * _SCALE!r})" for lon, lat in vertices) + ")"


class CoreSpatial:
    name = "core"

    async def near(
        self,
        connection: AsyncConnection,
        tables: FleetTables,
        lat: float,
        lon: float,
        radius_m: float,
        limit: int,
    ) -> list[NearbyVehicleOut]:
        params: dict[str, Any] = {"lat": lat, "lon": lon, "radius": radius_m}
        distance = haversine_sql(
            "l.latitude", "l.longitude", "CAST(:lat AS float8)", "CAST(:lon AS float8)"
        )
        boxes = boxes_sql("l.location", radius_boxes(lat, lon, radius_m), params)
        return await nearby_where(
            connection,
            tables,
            distance,
            f"{boxes} AND {distance} <= CAST(:radius AS float8)",
            params,
            limit,
        )

    async def nearest(
        self, connection: AsyncConnection, tables: FleetTables, lat: float, lon: float, n: int
    ) -> list[NearbyVehicleOut]:
        distance = haversine_sql(
            "c.latitude", "c.longitude", "CAST(:lat AS float8)", "CAST(:lon AS float8)"
        )
        bound = await connection.execute(
            text(
                f"SELECT max({distance}) FROM (SELECT l.latitude, l.longitude "
                f"FROM {tables.latest} l ORDER BY l.location <-> "
                "point(CAST(:lon AS float8), CAST(:lat AS float8)) LIMIT :n) c"
            ),
            {"lat": lat, "lon": lon, "n": n},
        )
        radius = bound.scalar()
        if radius is None:
            return []
        return await self.near(connection, tables, lat, lon, slackened(radius), n)

    async def positions_in_box(
        self,
        connection: AsyncConnection,
        tables: FleetTables,
        bounds: Bounds,
        window: TimeWindow,
        limit: int,
    ) -> PositionsOut:
        params: dict[str, Any] = {}
        condition = (
            f"{boxes_sql('p.location', [bounds], params)} "
            "AND p.longitude BETWEEN :box0_x1 AND :box0_x2 "
            "AND p.latitude BETWEEN :box0_y1 AND :box0_y2"
        )
        return await positions_where(connection, tables, condition, params, window, limit)

    async def positions_in_polygon(
        self,
        connection: AsyncConnection,
        tables: FleetTables,
        vertices: Sequence[LonLat],
        window: TimeWindow,
        limit: int,
    ) -> PositionsOut:
        params: dict[str, Any] = {"area": scaled_polygon(vertices), "scale": _SCALE}
        condition = (
            f"{boxes_sql('p.location', [polygon_bounds(vertices)], params)} "
            "AND CAST(CAST(:area AS text) AS polygon) @> "
            "point(p.longitude * CAST(:scale AS float8), p.latitude * CAST(:scale AS float8))"
        )
        return await positions_where(connection, tables, condition, params, window, limit)

    async def positions_in_circle(
        self,
        connection: AsyncConnection,
        tables: FleetTables,
        center: LonLat,
        radius_m: float,
        window: TimeWindow,
        limit: int,
    ) -> PositionsOut:
        lon, lat = center
        params: dict[str, Any] = {"lat": lat, "lon": lon, "radius": radius_m}
        distance = haversine_sql(
            "p.latitude", "p.longitude", "CAST(:lat AS float8)", "CAST(:lon AS float8)"
        )
        condition = (
            f"{boxes_sql('p.location', radius_boxes(lat, lon, radius_m), params)} "
            f"AND {distance} <= CAST(:radius AS float8)"
        )
        return await positions_where(connection, tables, condition, params, window, limit)


CORE = CoreSpatial()
