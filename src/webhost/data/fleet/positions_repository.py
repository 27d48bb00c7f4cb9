"""SQL that stores positions: binary COPY for many rows, one statement over arrays for few.

Both skip what is stored already (same vehicle and device time, also twice in one write: the
first sent wins), insert in key order (two writes inserting the same keys in different orders
would each wait for the other), and move ``fleet_latest`` forward for each vehicle whose newest
stored point is newer than its latest.

- Many rows (``COPY_ROWS`` and more): binary COPY straight into ``fleet_positions``, in a
  savepoint; each row goes to its week's partition or chunk (storage.py). COPY cannot skip a
  row that is there already, so a write holding one fails and is made again by the statement
  below; a write of new points (the usual case) pays COPY's price, 10-20% less of
  PostgreSQL's time and a third less of ours than the statement's (docs/benchmarks.md,
  "Fleet ingestion").
- Few rows: the rows go as one array per column (asyncpg sends them binary, one round trip),
  and one statement unnests them with ``ON CONFLICT DO NOTHING``: for one point that is a third
  of what COPY into a staging table cost, whose catalog rows were written and deleted in every
  transaction.
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


# moves a vehicle's latest position forward, from rows named "newest" (one per vehicle)
_MOVE_LATEST = f"""
    INSERT INTO {{schema}}.fleet_latest AS latest
        (vehicle_id, device_time, server_time, {_VALUES})
    SELECT vehicle_id, device_time, {{server_time}}, {_VALUES} FROM {{newest}}
    ON CONFLICT (vehicle_id) DO UPDATE SET
        device_time = EXCLUDED.device_time, server_time = EXCLUDED.server_time,
        latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude, speed = EXCLUDED.speed,
        heading = EXCLUDED.heading, altitude = EXCLUDED.altitude,
        accuracy = EXCLUDED.accuracy, battery = EXCLUDED.battery,
        attributes = EXCLUDED.attributes
    WHERE EXCLUDED.device_time > latest.device_time
"""
COPY_ROWS = 200
_COPIED_COLUMNS = ["vehicle_id", "device_time", *_VALUES.split(", ")]


def _move_statement(schema: str) -> str:
    latest = _MOVE_LATEST.format(schema=schema, server_time="server_time", newest="newest")
    return f"""
WITH stored AS (
    INSERT INTO {schema}.fleet_positions (vehicle_id, device_time, {_VALUES})
    SELECT vehicle_id, device_time, {_VALUES} FROM {_UNNEST}
    ORDER BY vehicle_id, device_time, seq
    ON CONFLICT (vehicle_id, device_time) DO NOTHING
    RETURNING vehicle_id, device_time, server_time, {_VALUES}
), newest AS (
    SELECT DISTINCT ON (vehicle_id) * FROM stored ORDER BY vehicle_id, device_time DESC
), moved AS ({latest}    RETURNING vehicle_id
)
SELECT array_agg(vehicle_id), array_agg(device_time) FROM stored
"""


async def store(driver: asyncpg.Connection, schema: str, rows: Sequence[StagedRow]) -> set[int]:
    """Store ``rows``; returns the ``seq`` of those that were new (of two rows with the same
    key, the first)."""
    if len(rows) >= COPY_ROWS:
        copied = await copy_new(driver, schema, rows)
        if copied is not None:
            return copied
    return await insert_new(driver, schema, rows)


async def insert_new(
    driver: asyncpg.Connection, schema: str, rows: Sequence[StagedRow]
) -> set[int]:
    """The rows in one statement over arrays, skipping keys stored already."""
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


async def copy_new(
    driver: asyncpg.Connection, schema: str, rows: Sequence[StagedRow]
) -> set[int] | None:
    """COPY the rows, the first of each key only; None (nothing stored) when one of them is
    stored already."""
    first: dict[tuple[int, datetime], StagedRow] = {}
    for row in sorted(rows, key=lambda row: row[0]):
        first.setdefault((row[1], row[2]), row)
    ordered = [first[key] for key in sorted(first)]
    await driver.execute("SAVEPOINT copy_positions")
    try:
        await driver.copy_records_to_table(
            "fleet_positions",
            schema_name=schema.strip('"'),  # the tenant's name, which quoting only wrapped
            columns=_COPIED_COLUMNS,
            records=[row[1:] for row in ordered],
        )
    except asyncpg.UniqueViolationError:
        await driver.execute("ROLLBACK TO SAVEPOINT copy_positions")
        return None
    await driver.execute("RELEASE SAVEPOINT copy_positions")
    newest: dict[int, StagedRow] = {}
    for row in ordered:  # in key order: each vehicle's last row is its newest
        newest[row[1]] = row
    columns = [list(column) for column in zip(*newest.values(), strict=True)]
    await driver.execute(
        _MOVE_LATEST.format(schema=schema, server_time="now()", newest=_UNNEST), *columns
    )
    return {row[0] for row in ordered}
