"""Routes of spatial fleet queries: vehicles near a point, positions in a box or a polygon.

Semantics (both spatial paths): distances on the sphere in metres; boxes and polygons have
straight edges in lon/lat and hold their boundary; see ``geometry``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from webhost.data.fleet.geometry import MAX_RADIUS_M, Bounds
from webhost.data.fleet.polygons import normalize_polygon
from webhost.data.fleet.query_schemas import (
    DEFAULT_POSITIONS,
    MAX_NEAREST,
    FromParam,
    Latitude,
    Limit,
    Longitude,
    NearbyVehicleOut,
    PositionsLimit,
    PositionsOut,
    ToParam,
    WithinQuery,
    time_window,
)
from webhost.data.fleet.query_tables import FleetTables
from webhost.data.fleet.spatial import spatial_for
from webhost.data.tenancy.dependencies import CallerDep, TenantConnectionDep
from webhost.errors import InvalidInput

router = APIRouter(prefix="/v1/fleet", tags=["fleet"])

RadiusParam = Annotated[
    float,
    Query(gt=0, le=MAX_RADIUS_M, allow_inf_nan=False, description="Metres, up to 20,000 km."),
]


@router.get(
    "/near",
    response_model=list[NearbyVehicleOut],
    summary="Vehicles whose latest position is within a radius, nearest first",
)
async def vehicles_near(
    caller: CallerDep,
    connection: TenantConnectionDep,
    lat: Latitude,
    lon: Longitude,
    radius_m: RadiusParam,
    limit: Limit = 100,
) -> list[NearbyVehicleOut]:
    tables = FleetTables(caller.tenant)
    spatial = await spatial_for(connection, tables)
    return await spatial.near(connection, tables, lat, lon, radius_m, limit)


@router.get(
    "/nearest",
    response_model=list[NearbyVehicleOut],
    summary="The n vehicles whose latest position is nearest, nearest first",
)
async def vehicles_nearest(
    caller: CallerDep,
    connection: TenantConnectionDep,
    lat: Latitude,
    lon: Longitude,
    n: Annotated[int, Query(ge=1, le=MAX_NEAREST)] = 10,
) -> list[NearbyVehicleOut]:
    tables = FleetTables(caller.tenant)
    spatial = await spatial_for(connection, tables)
    return await spatial.nearest(connection, tables, lat, lon, n)


@router.get(
    "/positions/box",
    response_model=PositionsOut,
    summary="Positions inside a lon/lat box over a time range",
    description="The box holds its edges; `min_lon <= max_lon` (a box across the antimeridian "
    "is two requests). `from`/`to` as for tracks (default the last 24 hours, at most 31 days).",
)
async def positions_in_box(
    caller: CallerDep,
    connection: TenantConnectionDep,
    min_lat: Latitude,
    min_lon: Longitude,
    max_lat: Latitude,
    max_lon: Longitude,
    from_: FromParam = None,
    to: ToParam = None,
    limit: PositionsLimit = DEFAULT_POSITIONS,
) -> PositionsOut:
    if min_lat > max_lat:
        raise InvalidInput("min_lat must not be above max_lat")
    if min_lon > max_lon:
        raise InvalidInput(
            "min_lon must not be above max_lon: a box across the antimeridian is not "
            "supported, ask for [min_lon, 180] and [-180, max_lon] separately"
        )
    window = time_window(from_, to)
    tables = FleetTables(caller.tenant)
    spatial = await spatial_for(connection, tables)
    bounds = Bounds(min_lon, min_lat, max_lon, max_lat)
    return await spatial.positions_in_box(connection, tables, bounds, window, limit)


@router.post(
    "/positions/within",
    response_model=PositionsOut,
    summary="Positions inside a polygon over a time range",
    description="Edges are straight lines in lon/lat, the boundary belongs to the polygon.",
)
async def positions_within(
    body: WithinQuery, caller: CallerDep, connection: TenantConnectionDep
) -> PositionsOut:
    vertices = normalize_polygon(body.polygon)
    window = time_window(body.from_, body.to)
    tables = FleetTables(caller.tenant)
    spatial = await spatial_for(connection, tables)
    return await spatial.positions_in_polygon(connection, tables, vertices, window, body.limit)
