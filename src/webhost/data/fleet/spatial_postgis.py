"""Spatial queries with PostGIS (schema ``webhost_gis``): the ``geog`` geography columns.

Distances are PostGIS's on the sphere (``use_spheroid => false``), the sphere of
``geometry.EARTH_RADIUS_M``, so they match the core path's haversine. Radius searches use
``st_dwithin`` on ``geog`` (its GiST index), nearest the index's ``<->`` order. Polygons and
boxes have straight edges in lon/lat, which is PostGIS *geometry*: ``st_covers`` tests the
point as geometry, after the core ``location`` index has kept the polygon's bounding box
(a geography index cannot bound a planar polygon: its edges are great circles). A box needs
no PostGIS at all: it is the core path's query.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.fleet.geometry import Bounds, polygon_bounds
from webhost.data.fleet.polygons import LonLat
from webhost.data.fleet.query_schemas import NearbyVehicleOut, PositionsOut, TimeWindow
from webhost.data.fleet.query_tables import FleetTables
from webhost.data.fleet.spatial_core import CORE
from webhost.data.fleet.spatial_sql import boxes_sql, nearby_where, positions_where, slackened

_AT = (
    "webhost_gis.geography(webhost_gis.st_setsrid(webhost_gis.st_makepoint("
    "CAST(:lon AS float8), CAST(:lat AS float8)), 4326))"
)


def polygon_wkt(vertices: Sequence[LonLat]) -> str:
    """Well-known text of the polygon, ring closed; repr keeps every float exact."""
    ring = [*vertices, vertices[0]]
    return "POLYGON((" + ", ".join(f"{lon!r} {lat!r}" for lon, lat in ring) + "))"


class PostgisSpatial:
    name = "postgis"

    async def near(
        self,
        connection: AsyncConnection,
        tables: FleetTables,
        lat: float,
        lon: float,
        radius_m: float,
        limit: int,
    ) -> list[NearbyVehicleOut]:
        return await nearby_where(
            connection,
            tables,
            f"webhost_gis.st_distance(l.geog, {_AT}, false)",
            f"webhost_gis.st_dwithin(l.geog, {_AT}, CAST(:radius AS float8), false)",
            {"lat": lat, "lon": lon, "radius": radius_m},
            limit,
        )

    async def nearest(
        self, connection: AsyncConnection, tables: FleetTables, lat: float, lon: float, n: int
    ) -> list[NearbyVehicleOut]:
        # the index's nearest n bound the radius; ranking all within it breaks ties the same
        # way as every other answer (distance, then identifier)
        bound = await connection.execute(
            text(
                f"SELECT max(webhost_gis.st_distance(c.geog, {_AT}, false)) FROM "
                f"(SELECT l.geog FROM {tables.latest} l "
                f"ORDER BY l.geog OPERATOR(webhost_gis.<->) {_AT} LIMIT :n) c"
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
        # A box's edges are straight in lon/lat, so the stored coordinates decide exactly, as on
        # the core path (``geog`` holds the same two doubles). ``st_covers`` on the envelope
        # gave the same answers, but its cost made PostgreSQL plan the statement over parallel
        # workers, which took about three times the CPU (docs/benchmarks.md, "Fleet spatial
        # queries").
        return await CORE.positions_in_box(connection, tables, bounds, window, limit)

    async def positions_in_polygon(
        self,
        connection: AsyncConnection,
        tables: FleetTables,
        vertices: Sequence[LonLat],
        window: TimeWindow,
        limit: int,
    ) -> PositionsOut:
        params: dict[str, Any] = {"wkt": polygon_wkt(vertices)}
        condition = (
            f"{boxes_sql('p.location', [polygon_bounds(vertices)], params)} "
            "AND webhost_gis.st_covers(shape.area, webhost_gis.geometry(p.geog))"
        )
        return await positions_where(
            connection,
            tables,
            condition,
            params,
            window,
            limit,
            prelude="WITH shape AS MATERIALIZED "
            "(SELECT webhost_gis.st_geomfromtext(CAST(:wkt AS text), 4326) AS area)",
            joins="CROSS JOIN shape",
        )

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
        return await positions_where(
            connection,
            tables,
            f"webhost_gis.st_dwithin(p.geog, {_AT}, CAST(:radius AS float8), false)",
            {"lat": lat, "lon": lon, "radius": radius_m},
            window,
            limit,
        )


POSTGIS = PostgisSpatial()
