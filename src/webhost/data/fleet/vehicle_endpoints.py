"""Routes of ``/v1/fleet/vehicles``: the tenant's vehicles (full API keys only)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from webhost.data.fleet import vehicles_service as service
from webhost.data.fleet.vehicle_schemas import VehicleCreate, VehicleOut, VehiclePatch
from webhost.data.tenancy.dependencies import CallerDep, TenantConnectionDep

router = APIRouter(prefix="/v1/fleet/vehicles", tags=["fleet"])


@router.get("", response_model=list[VehicleOut], summary="The tenant's vehicles, by id")
async def list_vehicles(
    caller: CallerDep,
    connection: TenantConnectionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
    status: Literal["active", "inactive", "maintenance"] | None = None,
) -> list[VehicleOut]:
    vehicles = await service.page(
        connection, caller.tenant, limit=limit, offset=offset, status=status
    )
    return [VehicleOut.of(vehicle) for vehicle in vehicles]


@router.post(
    "",
    response_model=VehicleOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a vehicle (403 vehicle_limit_reached past the plan's limit, 409 if taken)",
)
async def create_vehicle(
    body: VehicleCreate, caller: CallerDep, connection: TenantConnectionDep
) -> VehicleOut:
    vehicle = await service.create(connection, caller.tenant, caller.limits.vehicle_limit, body)
    return VehicleOut.of(vehicle)


@router.get("/{identifier}", response_model=VehicleOut)
async def get_vehicle(
    identifier: str, caller: CallerDep, connection: TenantConnectionDep
) -> VehicleOut:
    return VehicleOut.of(await service.get(connection, caller.tenant, identifier))


@router.patch("/{identifier}", response_model=VehicleOut)
async def change_vehicle(
    identifier: str, body: VehiclePatch, caller: CallerDep, connection: TenantConnectionDep
) -> VehicleOut:
    return VehicleOut.of(await service.change(connection, caller.tenant, identifier, body))


@router.delete(
    "/{identifier}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a vehicle with its positions, latest position and events",
)
async def delete_vehicle(
    identifier: str, caller: CallerDep, connection: TenantConnectionDep
) -> Response:
    await service.delete(connection, caller.tenant, identifier)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
