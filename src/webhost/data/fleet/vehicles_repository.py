"""SQL of ``fleet_vehicles``: the REST operations, and the lookups ingestion makes per batch.

Statements go to asyncpg directly (see db/driver.py), inside the transaction the caller began:
ingestion sends them per batch, on its hot path, and the REST operations share the style.
Tables are named with the tenant's schema (``schema``, a validated tenant name), as the rest of
the data plane does, so statement caches never mix tenants.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

_COLUMNS = (
    "id, identifier, name, type, status, speed_limit_kmh, metadata::text AS metadata, "
    "created_at, updated_at"
)


@dataclass(frozen=True)
class Vehicle:
    id: int
    identifier: str
    name: str
    type: str
    status: str
    speed_limit_kmh: float | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime


def _vehicle(row: asyncpg.Record) -> Vehicle:
    values = dict(row.items())
    values["metadata"] = json.loads(values["metadata"])
    return Vehicle(**values)


async def lock_registrations(driver: asyncpg.Connection) -> None:
    """Serialise what adds vehicles to this tenant, so two of them cannot both pass its limit."""
    await driver.execute(
        "SELECT pg_advisory_xact_lock(hashtext(current_schema() || ' fleet vehicles'))"
    )


async def count(driver: asyncpg.Connection, schema: str) -> int:
    found = await driver.fetchval(f"SELECT count(*) FROM {schema}.fleet_vehicles")
    return int(found or 0)


async def insert(driver: asyncpg.Connection, schema: str, fields: dict[str, Any]) -> Vehicle | None:
    """The new vehicle, or None when its identifier is taken."""
    row = await driver.fetchrow(
        f"INSERT INTO {schema}.fleet_vehicles "
        "(identifier, name, type, status, speed_limit_kmh, metadata) "
        "VALUES ($1, $2, $3, $4, $5, $6::jsonb) "
        f"ON CONFLICT (identifier) DO NOTHING RETURNING {_COLUMNS}",
        fields["identifier"],
        fields["name"],
        fields["type"],
        fields["status"],
        fields["speed_limit_kmh"],
        json.dumps(fields["metadata"]),
    )
    return _vehicle(row) if row is not None else None


async def find(driver: asyncpg.Connection, schema: str, identifier: str) -> Vehicle | None:
    row = await driver.fetchrow(
        f"SELECT {_COLUMNS} FROM {schema}.fleet_vehicles WHERE identifier = $1", identifier
    )
    return _vehicle(row) if row is not None else None


async def page(
    driver: asyncpg.Connection, schema: str, *, limit: int, offset: int, status: str | None
) -> list[Vehicle]:
    rows = await driver.fetch(
        f"SELECT {_COLUMNS} FROM {schema}.fleet_vehicles "
        "WHERE $1::text IS NULL OR status = $1 ORDER BY id LIMIT $2 OFFSET $3",
        status,
        limit,
        offset,
    )
    return [_vehicle(row) for row in rows]


async def update(
    driver: asyncpg.Connection, schema: str, identifier: str, changes: dict[str, Any]
) -> Vehicle | None:
    """Set ``changes`` (column -> value); None when there is no such vehicle."""
    assignments, values = [], [identifier]
    for column in sorted(changes):  # names come from the request model, never from the client
        value = changes[column]
        values.append(json.dumps(value) if column == "metadata" else value)
        cast = "::jsonb" if column == "metadata" else ""
        assignments.append(f"{column} = ${len(values)}{cast}")
    row = await driver.fetchrow(
        f"UPDATE {schema}.fleet_vehicles SET {', '.join([*assignments, 'updated_at = now()'])} "
        f"WHERE identifier = $1 RETURNING {_COLUMNS}",
        *values,
    )
    return _vehicle(row) if row is not None else None


async def delete(driver: asyncpg.Connection, schema: str, identifier: str) -> bool:
    """Delete the vehicle with its latest position (by cascade), its positions and events."""
    vehicle_id = await driver.fetchval(
        f"DELETE FROM {schema}.fleet_vehicles WHERE identifier = $1 RETURNING id", identifier
    )
    if vehicle_id is None:
        return False
    await driver.execute(f"DELETE FROM {schema}.fleet_positions WHERE vehicle_id = $1", vehicle_id)
    await driver.execute(f"DELETE FROM {schema}.fleet_events WHERE vehicle_id = $1", vehicle_id)
    return True


async def ids_of(driver: asyncpg.Connection, schema: str, identifiers: list[str]) -> dict[str, int]:
    """Ids of those vehicles that exist, key-share locked: none is deleted before commit, so
    no position is stored for a vehicle that is gone."""
    rows = await driver.fetch(
        f"SELECT identifier, id FROM {schema}.fleet_vehicles "
        "WHERE identifier = ANY($1::text[]) FOR KEY SHARE",
        identifiers,
    )
    return {row[0]: row[1] for row in rows}


async def register(
    driver: asyncpg.Connection, schema: str, identifiers: list[str]
) -> dict[str, int]:
    """Add vehicles by identifier with default fields; those that exist already are skipped."""
    rows = await driver.fetch(
        f"INSERT INTO {schema}.fleet_vehicles (identifier) SELECT unnest($1::text[]) "
        "ON CONFLICT (identifier) DO NOTHING RETURNING identifier, id",
        identifiers,
    )
    return {row[0]: row[1] for row in rows}
