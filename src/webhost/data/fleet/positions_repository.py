"""SQL that stores positions: one statement, the batch's columns as array parameters.

The batch goes in as one array per column (asyncpg sends them binary, one round trip), and one
statement unnests them into ``fleet_positions``, skipping what is stored already (same vehicle
and device time, also twice in one batch: the first wins), in key order (two batches inserting
the same keys in different orders would each wait for the other), and moves ``fleet_latest``
forward for each vehicle whose newest stored point is newer than its latest.

(Batches were first copied into a temporary table of their transaction: creating and dropping
it wrote and deleted about 40 catalog rows a batch, which cost PostgreSQL more CPU than the
single point of an OsmAnd request; see docs/benchmarks.md, "Fleet ingestion".)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

STAGED_COLUMNS = (
    "seq",
    "vehicle_id",
    "device_time",
    "latitude",
    "longitude",
    "speed",
    "heading",
    "altitude",
    "accuracy",
    "battery",
    "attributes",
)
# one row of a batch, in STAGED_COLUMNS' order; attributes as JSON text
StagedRow = tuple[
    int,
    int,
    datetime,
    float,
    float,
    float | None,
    float | None,
    float | None,
    float | None,
    float | None,
    str | None,
]

# the batch's rows arrive as one array per column (binary, one round trip), in STAGED_COLUMNS'
# order; the column types are those of fleet_positions, so the casts are the ones COPY made
_UNNEST = (
    "unnest($1::integer[], $2::bigint[], $3::timestamptz[], $4::float8[], $5::float8[], "
    "$6::real[], $7::real[], $8::real[], $9::real[], $10::real[], $11::jsonb[]) "
    f"AS staged ({', '.join(STAGED_COLUMNS)})"
)
_VALUES = "latitude, longitude, speed, heading, altitude, accuracy, battery, attributes"


def _move_statement(schema: str) -> str:
    return f"""
WITH stored AS (
    INSERT INTO {schema}.fleet_positions (vehicle_id, device_time, {_VALUES})
    SELECT vehicle_id, device_time, {_VALUES} FROM {_UNNEST}
    ORDER BY vehicle_id, device_time, seq
    ON CONFLICT (vehicle_id, device_time) DO NOTHING
    RETURNING vehicle_id, device_time, server_time, {_VALUES}
), newest AS (
    SELECT DISTINCT ON (vehicle_id) * FROM stored ORDER BY vehicle_id, device_time DESC
), moved AS (
    INSERT INTO {schema}.fleet_latest AS latest
        (vehicle_id, device_time, server_time, {_VALUES})
    SELECT vehicle_id, device_time, server_time, {_VALUES} FROM newest
    ON CONFLICT (vehicle_id) DO UPDATE SET
        device_time = EXCLUDED.device_time, server_time = EXCLUDED.server_time,
        latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude, speed = EXCLUDED.speed,
        heading = EXCLUDED.heading, altitude = EXCLUDED.altitude,
        accuracy = EXCLUDED.accuracy, battery = EXCLUDED.battery,
        attributes = EXCLUDED.attributes
    WHERE EXCLUDED.device_time > latest.device_time
    RETURNING vehicle_id
)
SELECT array_agg(vehicle_id), array_agg(device_time) FROM stored
"""


async def store(driver: asyncpg.Connection, schema: str, rows: Sequence[StagedRow]) -> set[int]:
    """Move ``rows`` into place in one statement; returns the ``seq`` of those that were new
    (of two rows with the same key, the first)."""
    columns = [list(column) for column in zip(*rows, strict=True)]
    moved = await driver.fetchrow(_move_statement(schema), *columns)
    new = set(zip(moved[0] or (), moved[1] or (), strict=True)) if moved else set()
    stored: set[int] = set()
    for row in sorted(rows, key=lambda row: row[0]):  # the first of a key is the one stored
        key = (row[1], row[2])
        if key in new:
            new.discard(key)
            stored.add(row[0])
    return stored
