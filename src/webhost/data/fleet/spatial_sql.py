"""SQL both spatial paths share: the haversine formula, lon/lat boxes, and the statements that
list positions and nearby vehicles around a spatial condition each path supplies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.fleet.geometry import EARTH_RADIUS_M, Bounds
from webhost.data.fleet.polygons import LonLat
from webhost.data.fleet.query_schemas import NearbyVehicleOut, PositionOut, PositionsOut, TimeWindow
from webhost.data.fleet.query_tables import FleetTables

# what makes the radius of the nearest n a little wider before they are fetched again by
# radius: the two statements may round one distance differently
NEAREST_SLACK_RELATIVE = 1e-9
NEAREST_SLACK_M = 1e-3


def snapped_sql(value: str) -> str:
    """``value`` with magnitudes below 1e-100 taken as 0.

    PostgreSQL raises an error when a float product or quotient underflows to zero (the square
    of a sine of 1e-200 does). Between coordinates that are 0 or at least 1e-100 apart from it,
    every difference, product and square below stays far from that edge; a coordinate that
    small is 0 for every purpose (1e-100 degrees is 1e-95 metres).
    """
    return f"(CASE WHEN abs({value}) < 1e-100 THEN 0.0 ELSE {value} END)"


def haversine_sql(lat: str, lon: str, at_lat: str, at_lon: str) -> str:
    """Great-circle metres between two points: the formula of ``geometry.haversine_m``."""
    lat, lon, at_lat, at_lon = (snapped_sql(v) for v in (lat, lon, at_lat, at_lon))
    return (
        f"(2 * {EARTH_RADIUS_M!r} * asin(least(1.0, sqrt("
        f"power(sin(radians({at_lat} - {lat}) / 2), 2) + cos(radians({lat})) * "
        f"cos(radians({at_lat})) * power(sin(radians({at_lon} - {lon}) / 2), 2)))))"
    )


def boxes_sql(column: str, boxes: Sequence[Bounds], params: dict[str, Any]) -> str:
    """``column`` (a core ``point``) inside any of the boxes: the GiST index's condition.

    PostgreSQL compares geometric values with a tolerance of 1e-6, so the test may keep points
    a little outside; the exact condition that follows it decides.
    """
    parts = []
    for n, bounds in enumerate(boxes):
        params.update(
            {
                f"box{n}_x1": bounds.min_lon,
                f"box{n}_y1": bounds.min_lat,
                f"box{n}_x2": bounds.max_lon,
                f"box{n}_y2": bounds.max_lat,
            }
        )
        parts.append(
            f"{column} <@ box(point(CAST(:box{n}_x1 AS float8), CAST(:box{n}_y1 AS float8)), "
            f"point(CAST(:box{n}_x2 AS float8), CAST(:box{n}_y2 AS float8)))"
        )
    return "(" + " OR ".join(parts) + ")"


def slackened(radius_m: float) -> float:
    return radius_m * (1 + NEAREST_SLACK_RELATIVE) + NEAREST_SLACK_M


_POSITION_COLUMNS = (
    "v.identifier, p.device_time, p.server_time, p.latitude, p.longitude, p.speed, p.heading, "
    "p.altitude, p.accuracy, p.battery, p.attributes"
)


async def positions_where(
    connection: AsyncConnection,
    tables: FleetTables,
    condition: str,
    params: dict[str, Any],
    window: TimeWindow,
    limit: int,
    *,
    prelude: str = "",
    joins: str = "",
) -> PositionsOut:
    """Positions in the window that meet ``condition`` (on ``p``, the positions), earliest
    first; one row past the limit tells whether the answer was cut.

    Each position's vehicle is looked up by its key (``OFFSET 0`` keeps PostgreSQL from
    turning the lookup into a plain join): the spatial and time conditions together are
    estimated at a row or two, and for a join PostgreSQL then scanned the whole vehicles table
    once per position found, two thirds of a 1 km box's time over 10 million positions (see
    docs/benchmarks.md, "Fleet spatial queries")."""
    rows = await connection.execute(
        text(
            f"{prelude} SELECT {_POSITION_COLUMNS} FROM {tables.positions} p "
            f"CROSS JOIN LATERAL (SELECT identifier FROM {tables.vehicles} "
            f"WHERE id = p.vehicle_id OFFSET 0) v {joins} "
            "WHERE p.device_time BETWEEN :start AND :end "
            f"AND {condition} ORDER BY p.device_time, v.identifier LIMIT :limit"
        ),
        {**params, "start": window.start, "end": window.end, "limit": limit + 1},
    )
    positions = [PositionOut.model_validate(dict(row._mapping)) for row in rows]
    return PositionsOut(positions=positions[:limit], truncated=len(positions) > limit)


async def nearby_where(
    connection: AsyncConnection,
    tables: FleetTables,
    distance: str,
    condition: str,
    params: dict[str, Any],
    limit: int,
    *,
    joins: str = "",
) -> list[NearbyVehicleOut]:
    """Vehicles whose latest position (``l``) meets ``condition``, nearest first, with
    ``distance`` (SQL over ``l``) as their distance in metres."""
    rows = await connection.execute(
        text(
            f"SELECT v.identifier, v.name, l.latitude, l.longitude, l.device_time, l.speed, "
            f"l.heading, {distance} AS distance_m FROM {tables.latest} l "
            f"JOIN {tables.vehicles} v ON v.id = l.vehicle_id {joins} "
            f"WHERE {condition} ORDER BY distance_m, v.identifier LIMIT :limit"
        ),
        {**params, "limit": limit},
    )
    return [NearbyVehicleOut.model_validate(dict(row._mapping)) for row in rows]


class SpatialQueries(Protocol):
    """What each spatial path answers, with the semantics of ``geometry``."""

    name: str

    async def near(
        self,
        connection: AsyncConnection,
        tables: FleetTables,
        lat: float,
        lon: float,
        radius_m: float,
        limit: int,
    ) -> list[NearbyVehicleOut]: ...

    async def nearest(
        self, connection: AsyncConnection, tables: FleetTables, lat: float, lon: float, n: int
    ) -> list[NearbyVehicleOut]: ...

    async def positions_in_box(
        self,
        connection: AsyncConnection,
        tables: FleetTables,
        bounds: Bounds,
        window: TimeWindow,
        limit: int,
    ) -> PositionsOut: ...

    async def positions_in_polygon(
        self,
        connection: AsyncConnection,
        tables: FleetTables,
        vertices: Sequence[LonLat],
        window: TimeWindow,
        limit: int,
    ) -> PositionsOut: ...

    async def positions_in_circle(
        self,
        connection: AsyncConnection,
        tables: FleetTables,
        center: LonLat,
        radius_m: float,
        window: TimeWindow,
        limit: int,
    ) -> PositionsOut: ...
