"""What a plane chose for a tenant's fleet data when it made the tenant, not what the tenant did.

``_fleet_settings.spatial`` (PostGIS or the core SQL path) and ``.storage`` (weekly partitions or
a hypertable) follow the extensions of the database the tenant lives in. A copy to another
plane keeps the target's choices, and verification leaves them out: two planes that differ in
PostGIS or TimescaleDB hold the same data under different choices.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.tenancy.freeze import qualified
from webhost.data.tenancy.scope import Tenant

SETTINGS_TABLE = "_fleet_settings"
CHOSEN_COLUMNS = frozenset({"spatial", "storage"})


@dataclass(frozen=True)
class PlaneChoices:
    spatial: str
    storage: str


async def read_choices(connection: AsyncConnection, tenant: Tenant) -> PlaneChoices | None:
    """None when the tenant has no fleet settings row (its migrations made none yet)."""
    row = (
        await connection.execute(
            text(f"SELECT spatial, storage FROM {qualified(tenant, SETTINGS_TABLE)} LIMIT 1")
        )
    ).one_or_none()
    return None if row is None else PlaneChoices(spatial=row.spatial, storage=row.storage)


async def keep_choices(
    connection: AsyncConnection, tenant: Tenant, choices: PlaneChoices | None
) -> None:
    """Put the plane's own choices back over whatever a copy brought."""
    if choices is None:
        return
    await connection.execute(
        text(
            f"UPDATE {qualified(tenant, SETTINGS_TABLE)} SET spatial = :spatial, storage = :storage"
        ),
        {"spatial": choices.spatial, "storage": choices.storage},
    )
