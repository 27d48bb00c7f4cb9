"""Where a tenant's positions are kept: weekly range partitions of core PostgreSQL, or a
TimescaleDB hypertable of weekly chunks.

``_fleet_settings.storage`` says which; tenant migration 0008 wrote it once (a hypertable when
the database had TimescaleDB while the tenant had no positions yet), so a cached answer never
goes stale. Both keep the same table, ``fleet_positions``, with the same columns and indexes:
only making room for a week and dropping expired time differ.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.fleet import partitions
from webhost.data.tenancy.scope import Tenant

_MAX_CACHED = 100_000


class PositionStorage(Protocol):
    name: str

    async def prepare_weeks(self, connection: AsyncConnection, weeks: Iterable[date]) -> list[date]:
        """Make sure positions of these weeks can be stored, in the caller's tenant
        transaction; returns the weeks room was made for."""
        ...

    async def drop_expired(
        self, connection: AsyncConnection, retention_days: int, now: datetime
    ) -> list[date]:
        """Drop, as whole tables, the stretches of time older than the retention; returns the
        day each of them began. Never a DELETE."""
        ...


class WeeklyPartitions:
    name = "partitions"

    async def prepare_weeks(self, connection: AsyncConnection, weeks: Iterable[date]) -> list[date]:
        return await partitions.ensure_partitions(connection, weeks)

    async def drop_expired(
        self, connection: AsyncConnection, retention_days: int, now: datetime
    ) -> list[date]:
        return await partitions.drop_expired(connection, retention_days, now)


class Hypertable:
    """TimescaleDB (in ``webhost_timescale``) makes a week's chunk as its first row arrives."""

    name = "hypertable"

    async def prepare_weeks(self, connection: AsyncConnection, weeks: Iterable[date]) -> list[date]:
        return []

    async def drop_expired(
        self, connection: AsyncConnection, retention_days: int, now: datetime
    ) -> list[date]:
        horizon = now - timedelta(days=retention_days)
        # drop_chunks takes the chunks whose whole range is older than the horizon: these
        expired = await connection.execute(
            text(
                "SELECT range_start FROM timescaledb_information.chunks "
                "WHERE hypertable_schema = current_schema() "
                "AND hypertable_name = 'fleet_positions' AND range_end <= :horizon "
                "ORDER BY range_start"
            ),
            {"horizon": horizon},
        )
        started = [row[0].date() for row in expired]
        if started:
            await connection.execute(
                text(
                    "SELECT webhost_timescale.drop_chunks('fleet_positions', "
                    "older_than => CAST(:horizon AS timestamptz))"
                ),
                {"horizon": horizon},
            )
        return started


IMPLEMENTATIONS: dict[str, PositionStorage] = {
    WeeklyPartitions.name: WeeklyPartitions(),
    Hypertable.name: Hypertable(),
}
_chosen: dict[str, PositionStorage] = {}


async def storage_for(connection: AsyncConnection, tenant: Tenant) -> PositionStorage:
    """The tenant's storage; ``connection`` is in the tenant's transaction."""
    cached = _chosen.get(tenant.name)
    if cached is not None:
        return cached
    setting = await connection.scalar(text("SELECT storage FROM _fleet_settings"))
    chosen = IMPLEMENTATIONS[str(setting)]
    if len(_chosen) >= _MAX_CACHED:
        _chosen.clear()
    _chosen[tenant.name] = chosen
    return chosen
