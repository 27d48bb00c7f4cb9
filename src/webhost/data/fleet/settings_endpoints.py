"""``/v1/fleet/settings``: the tenant's fleet-wide settings (today the default speed limit)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text

from webhost.data.fleet.query_tables import FleetTables
from webhost.data.tenancy.dependencies import CallerDep, TenantConnectionDep

router = APIRouter(prefix="/v1/fleet", tags=["fleet"])


class FleetSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overspeed_kmh: float | None = Field(
        default=None,
        ge=1,  # stored as real: a tiny positive number would round to zero
        le=10_000,
        allow_inf_nan=False,
        description="Speed over which a vehicle without a limit of its own makes an overspeed "
        "event; null: none.",
    )


class FleetSettingsOut(FleetSettings):
    spatial: str = Field(description="postgis or core: how spatial queries run for this tenant")
    partition_days: int


_READ = "SELECT overspeed_kmh, spatial, partition_days FROM {table}"


@router.get("/settings", response_model=FleetSettingsOut)
async def get_settings(caller: CallerDep, connection: TenantConnectionDep) -> FleetSettingsOut:
    row = await connection.execute(text(_READ.format(table=FleetTables(caller.tenant).settings)))
    return FleetSettingsOut.model_validate(dict(row.one()._mapping))


@router.put("/settings", response_model=FleetSettingsOut)
async def put_settings(
    body: FleetSettings, caller: CallerDep, connection: TenantConnectionDep
) -> FleetSettingsOut:
    table = FleetTables(caller.tenant).settings
    await connection.execute(
        text(f"UPDATE {table} SET overspeed_kmh = :overspeed"), {"overspeed": body.overspeed_kmh}
    )
    row = await connection.execute(text(_READ.format(table=table)))
    return FleetSettingsOut.model_validate(dict(row.one()._mapping))
