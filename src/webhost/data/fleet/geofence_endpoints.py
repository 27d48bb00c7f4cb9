"""Routes of geofences: create, list, read, change, delete, and the positions inside one."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from webhost.data.fleet import geofences_service as service
from webhost.data.fleet.geofence_schemas import GeofenceIn, GeofenceOut, GeofencePatch
from webhost.data.fleet.query_schemas import (
    DEFAULT_POSITIONS,
    FromParam,
    Limit,
    Offset,
    PositionsLimit,
    PositionsOut,
    RowId,
    ToParam,
    time_window,
)
from webhost.data.fleet.query_tables import FleetTables
from webhost.data.fleet.spatial import spatial_for
from webhost.data.tenancy.dependencies import CallerDep, TenantConnectionDep

router = APIRouter(prefix="/v1/fleet/geofences", tags=["fleet"])

GeofenceId = RowId


@router.post("", response_model=GeofenceOut, status_code=status.HTTP_201_CREATED)
async def create_geofence(
    body: GeofenceIn, caller: CallerDep, connection: TenantConnectionDep
) -> GeofenceOut:
    return await service.create(connection, FleetTables(caller.tenant), body)


@router.get("", response_model=list[GeofenceOut])
async def list_geofences(
    caller: CallerDep, connection: TenantConnectionDep, limit: Limit = 100, offset: Offset = 0
) -> list[GeofenceOut]:
    return await service.list_page(connection, FleetTables(caller.tenant), limit, offset)


@router.get("/{geofence_id}", response_model=GeofenceOut)
async def get_geofence(
    geofence_id: GeofenceId, caller: CallerDep, connection: TenantConnectionDep
) -> GeofenceOut:
    return await service.get(connection, FleetTables(caller.tenant), geofence_id)


@router.patch("/{geofence_id}", response_model=GeofenceOut)
async def patch_geofence(
    geofence_id: GeofenceId,
    body: GeofencePatch,
    caller: CallerDep,
    connection: TenantConnectionDep,
) -> GeofenceOut:
    return await service.patch(connection, FleetTables(caller.tenant), geofence_id, body)


@router.delete("/{geofence_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_geofence(
    geofence_id: GeofenceId, caller: CallerDep, connection: TenantConnectionDep
) -> Response:
    await service.delete(connection, FleetTables(caller.tenant), geofence_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{geofence_id}/positions",
    response_model=PositionsOut,
    summary="Positions inside a geofence over a time range",
)
async def geofence_positions(
    geofence_id: GeofenceId,
    caller: CallerDep,
    connection: TenantConnectionDep,
    from_: FromParam = None,
    to: ToParam = None,
    limit: PositionsLimit = DEFAULT_POSITIONS,
) -> PositionsOut:
    window = time_window(from_, to)
    tables = FleetTables(caller.tenant)
    shape = service.containment_shape(
        geofence_id, await service.require(connection, tables, geofence_id)
    )
    spatial = await spatial_for(connection, tables)
    if shape.center is not None and shape.radius_m is not None:
        return await spatial.positions_in_circle(
            connection, tables, shape.center, shape.radius_m, window, limit
        )
    return await spatial.positions_in_polygon(connection, tables, shape.polygon, window, limit)
