"""Which spatial path a tenant's queries take: ``_fleet_settings.spatial``, cached per tenant.

The setting is written once, by the tenant migration that made the fleet tables (PostGIS when
the database had it then), so a cached answer never goes stale.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.fleet.query_tables import FleetTables
from webhost.data.fleet.spatial_core import CORE
from webhost.data.fleet.spatial_postgis import POSTGIS
from webhost.data.fleet.spatial_sql import SpatialQueries

IMPLEMENTATIONS: dict[str, SpatialQueries] = {CORE.name: CORE, POSTGIS.name: POSTGIS}
_MAX_CACHED = 100_000
_chosen: dict[str, SpatialQueries] = {}


async def spatial_for(connection: AsyncConnection, tables: FleetTables) -> SpatialQueries:
    cached = _chosen.get(tables.tenant.name)
    if cached is not None:
        return cached
    setting = await connection.execute(text(f"SELECT spatial FROM {tables.settings}"))
    chosen = IMPLEMENTATIONS.get(setting.scalar() or "", CORE)
    if len(_chosen) >= _MAX_CACHED:
        _chosen.clear()
    _chosen[tables.tenant.name] = chosen
    return chosen
