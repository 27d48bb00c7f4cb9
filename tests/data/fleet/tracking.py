"""Fleet test helpers: points as trackers send them, rows as the tenant itself sees them."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.support.database import ProvisionedTenant
from webhost.data.fleet import partitions
from webhost.data.fleet.maintenance import Maintained, maintain_tenant
from webhost.data.tenancy.limits import TenantLimits
from webhost.db import admin
from webhost.db.engine import create_engine
from webhost.db.urls import PostgresURL


def recent(minutes_ago: float = 5) -> datetime:
    """A device time the server takes whatever the plan: a few minutes back, whole millis."""
    moment = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def point(
    vehicle: str = "truck-1",
    time: datetime | str | float | None = None,
    latitude: float = 52.52,
    longitude: float = 13.405,
    **fields: Any,
) -> dict[str, Any]:
    moment = recent() if time is None else time
    return {
        "vehicle": vehicle,
        "time": rfc3339(moment) if isinstance(moment, datetime) else moment,
        "latitude": latitude,
        "longitude": longitude,
        **fields,
    }


def track(vehicle: str, count: int, *, start: datetime | None = None) -> list[dict[str, Any]]:
    """``count`` points of one vehicle, a second apart, moving north-east."""
    first = start or recent(minutes_ago=count / 60 + 5)
    return [
        point(
            vehicle,
            first + timedelta(seconds=n),
            latitude=48.0 + n * 1e-5,
            longitude=11.0 + n * 1e-5,
            speed=36.0,
            heading=45.0,
        )
        for n in range(count)
    ]


def post_json(client: httpx.Client, path: str, value: Any) -> httpx.Response:
    """POST ``value`` as JSON text, NaN and Infinity included (as JavaScript clients can send
    them), which httpx's own encoding refuses."""
    return client.post(
        path, content=json.dumps(value), headers={"Content-Type": "application/json"}
    )


def send(client: httpx.Client, points: list[dict[str, Any]], status: int = 200) -> dict[str, Any]:
    response = post_json(client, "/v1/fleet/positions", points)
    assert response.status_code == status, response.text[:2000]
    answer: dict[str, Any] = response.json()
    return answer


def send_ndjson(client: httpx.Client, lines: list[str]) -> httpx.Response:
    return client.post(
        "/v1/fleet/positions",
        content="\n".join(lines).encode(),
        headers={"Content-Type": "application/x-ndjson"},
    )


def as_tenant(
    database: PostgresURL, tenant: ProvisionedTenant, sql: str, *args: Any
) -> list[dict[str, Any]]:
    """Rows of ``sql`` run as the tenant's own role, with only its schema on the path."""

    async def run() -> list[dict[str, Any]]:
        connection = await admin.connect(database)
        try:
            async with connection.transaction():
                name = tenant.tenant.name
                await connection.execute(f'SET LOCAL ROLE "{name}"')
                await connection.execute(f'SET LOCAL search_path = "{name}"')
                return [dict(row) for row in await connection.fetch(sql, *args)]
        finally:
            await connection.close()

    return asyncio.run(run())


def positions(database: PostgresURL, tenant: ProvisionedTenant) -> list[dict[str, Any]]:
    """Every stored position with its vehicle's identifier and its partition, oldest first."""
    rows = as_tenant(
        database,
        tenant,
        "SELECT v.identifier AS vehicle, p.device_time, p.latitude, p.longitude, p.speed, "
        "p.heading, p.altitude, p.accuracy, p.battery, p.attributes::text AS attributes, "
        "p.tableoid::regclass::text AS partition "
        "FROM fleet_positions p JOIN fleet_vehicles v ON v.id = p.vehicle_id "
        "ORDER BY v.identifier, p.device_time",
    )
    for row in rows:
        row["attributes"] = json.loads(row["attributes"]) if row["attributes"] else None
    return rows


def latest(database: PostgresURL, tenant: ProvisionedTenant) -> dict[str, dict[str, Any]]:
    rows = as_tenant(
        database,
        tenant,
        "SELECT v.identifier, l.device_time, l.latitude, l.longitude FROM fleet_latest l "
        "JOIN fleet_vehicles v ON v.id = l.vehicle_id",
    )
    return {row.pop("identifier"): row for row in rows}


def table_holding(database: PostgresURL, tenant: ProvisionedTenant, moment: datetime) -> str:
    """The table a position at ``moment`` belongs in: its week's partition, or the hypertable
    chunk whose range holds it."""
    storage = as_tenant(database, tenant, "SELECT storage FROM _fleet_settings")[0]["storage"]
    if storage == "partitions":
        return partitions.partition_name(partitions.week_of(moment))
    chunks = as_tenant(
        database,
        tenant,
        "SELECT chunk_name, range_start, range_end FROM timescaledb_information.chunks "
        "WHERE hypertable_schema = current_schema() AND hypertable_name = 'fleet_positions'",
    )
    (holding,) = [c["chunk_name"] for c in chunks if c["range_start"] <= moment < c["range_end"]]
    return str(holding)


def maintain(
    database: PostgresURL, tenant: ProvisionedTenant, *, retention_days: int | None, now: datetime
) -> Maintained:
    """One pass of the plane's fleet maintenance over the tenant, as of ``now``."""

    async def run() -> Maintained:
        engine = create_engine(database, pool_size=1)
        try:
            limits = TenantLimits(retention_days=retention_days)
            return await maintain_tenant(engine, tenant.tenant, limits, now)
        finally:
            await engine.dispose()

    return asyncio.run(run())
