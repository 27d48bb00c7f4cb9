"""SQL that stores positions: binary COPY into a staging table, then one statement into place.

COPY is the fastest way in, but it cannot skip duplicates; so a batch is copied into a
temporary table of its transaction (dropped at commit: pooled connections serve every tenant
and role, and nothing staged may outlive its transaction), and one statement moves it into
``fleet_positions``, skipping what is stored already (same vehicle and device time, also twice
in one batch: the first wins), in key order (two batches inserting the same keys in different
orders would each wait for the other), and moves ``fleet_latest`` forward for each vehicle
whose newest stored point is newer than its latest.
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
# one row of the staging table, in STAGED_COLUMNS' order; attributes as JSON text
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

_STAGING = "fleet_staging"
_CREATE_STAGING = f"""
CREATE TEMPORARY TABLE {_STAGING} (
    seq integer NOT NULL,
    vehicle_id bigint NOT NULL,
    device_time timestamptz NOT NULL,
    latitude double precision NOT NULL,
    longitude double precision NOT NULL,
    speed real,
    heading real,
    altitude real,
    accuracy real,
    battery real,
    attributes jsonb
) ON COMMIT DROP
"""
_VALUES = "latitude, longitude, speed, heading, altitude, accuracy, battery, attributes"


def _move_statement(schema: str) -> str:
    return f"""
WITH stored AS (
    INSERT INTO {schema}.fleet_positions (vehicle_id, device_time, {_VALUES})
    SELECT vehicle_id, device_time, {_VALUES} FROM pg_temp.{_STAGING}
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
SELECT (SELECT count(*) FROM stored)
"""


async def store(driver: asyncpg.Connection, schema: str, rows: Sequence[StagedRow]) -> int:
    """Stage ``rows`` and move them into place; returns how many were new."""
    await driver.execute(_CREATE_STAGING)
    await driver.copy_records_to_table(
        _STAGING, schema_name="pg_temp", columns=STAGED_COLUMNS, records=rows
    )
    stored = await driver.fetchval(_move_statement(schema))
    return int(stored or 0)
