"""Fleet ingestion: batches and OsmAnd requests through a data plane process, against a raw
binary COPY of the same rows into the same table layout.

Batch: 50 vehicles, 1,000 points a request, 4 concurrent senders (targets: >= 50,000 points/s
and >= 25% of the raw COPY rate). Raw COPY: asyncpg ``copy_records_to_table``, 1,000 rows a
COPY, 4 connections, into another tenant's ``fleet_positions`` (same partitions and indexes;
no validation, no duplicate check, no latest positions). Rounds alternate between the two.
OsmAnd: 50 devices, one request a point, as fast as they get answers (target >= 2,000/s).

    .venv/bin/python bench/fleet_ingest.py [--points 200000] [--rounds 3] [--osmand 20000]
        [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from datetime import UTC, datetime, timedelta

import asyncpg
from fleet_plane import FleetPlane, fleet_plane

from webhost.data.fleet import partitions
from webhost.db import admin
from webhost.simulator.run import Simulation, simulate

VEHICLES = 50
BATCH = 1000
SENDERS = 4
Rows = list[tuple[object, ...]]
COLUMNS = [
    "vehicle_id", "device_time", "latitude", "longitude", "speed", "heading",
    "altitude", "accuracy", "battery", "attributes",
]  # fmt: skip


def raw_rows(count: int, start: datetime, seed: int) -> list[tuple[object, ...]]:
    chance = random.Random(seed)
    rows = []
    for number in range(count):
        rows.append(
            (
                number % VEHICLES + 1,
                start + timedelta(seconds=number // VEHICLES),
                52.52 + chance.uniform(-0.1, 0.1),
                13.4 + chance.uniform(-0.1, 0.1),
                chance.uniform(0, 90),
                chance.uniform(0, 359),
                40.0,
                5.0,
                80.0,
                None,
            )
        )
    return rows


async def raw_copy(plane: FleetPlane, rows: list[tuple[object, ...]]) -> float:
    """Points per second of plain binary COPY, 4 connections, 1,000 rows a COPY."""
    schema = plane.spare.tenant.name
    connections = [await admin.connect(plane.database) for _ in range(SENDERS)]
    try:
        weeks = {partitions.week_of(row[1]) for row in rows}  # type: ignore[arg-type]
        for week in sorted(weeks):
            start, end = partitions.week_bounds(week)
            await connections[0].execute(
                f'CREATE TABLE IF NOT EXISTS "{schema}".{partitions.partition_name(week)} '
                f'PARTITION OF "{schema}".fleet_positions '
                f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
            )
        chunks = [rows[i : i + BATCH] for i in range(0, len(rows), BATCH)]
        started = time.perf_counter()

        async def copy(
            connection: asyncpg.Connection, mine: list[list[tuple[object, ...]]]
        ) -> None:
            for chunk in mine:
                await connection.copy_records_to_table(
                    "fleet_positions", schema_name=schema, records=chunk, columns=COLUMNS
                )

        await asyncio.gather(
            *(copy(connection, chunks[n::SENDERS]) for n, connection in enumerate(connections))
        )
        return len(rows) / (time.perf_counter() - started)
    finally:
        for connection in connections:
            await connection.close()


async def through_plane(plane: FleetPlane, points: int, seed: int) -> tuple[float, int]:
    tally = await simulate(
        Simulation(
            url=plane.api_url,
            key=plane.served.api_key,
            vehicles=VEHICLES,
            rate=0,
            points=points,
            protocol="batch",
            batch_size=BATCH,
            senders=SENDERS,
            seed=seed,
        )
    )
    if tally.failed_requests or tally.accepted != points:
        raise SystemExit(f"ingestion failed: {tally}")
    return points / tally.elapsed, round(tally.percentile(0.95))


async def osmand(plane: FleetPlane, points: int) -> tuple[float, float, float]:
    tally = await simulate(
        Simulation(
            url=plane.api_url,
            key=plane.served.api_key,
            vehicles=VEHICLES,
            rate=0,
            points=points,
            protocol="osmand",
            seed=99,
            prefix="phone",
        )
    )
    if tally.failed_requests:
        raise SystemExit(f"OsmAnd failed: {tally.last_error}")
    return points / tally.elapsed, tally.percentile(0.5), tally.percentile(0.95)


async def run(plane: FleetPlane, points: int, rounds: int, osmand_points: int) -> None:
    print(f"spatial path: {plane.spatial}; {VEHICLES} vehicles, {BATCH} points a request")
    # a warm-up registers the vehicles and fills caches on both sides
    await through_plane(plane, 5 * BATCH, seed=1000)
    await raw_copy(plane, raw_rows(5 * BATCH, datetime.now(UTC) - timedelta(days=20), 1000))
    ours, theirs = [], []
    for round_number in range(rounds):
        rate, p95 = await through_plane(plane, points, seed=round_number)
        ours.append(rate)
        start = datetime.now(UTC) - timedelta(days=10, hours=round_number)
        reference = await raw_copy(plane, raw_rows(points, start, round_number))
        theirs.append(reference)
        print(
            f"round {round_number + 1}: webhost {rate:10,.0f} points/s (request p95 {p95} ms)"
            f"   raw COPY {reference:10,.0f} points/s   ratio {rate / reference:5.1%}"
        )
    best_ours, best_theirs = max(ours), max(theirs)
    print(
        json.dumps(
            {
                "batch_points_per_second": round(best_ours),
                "raw_copy_points_per_second": round(best_theirs),
                "ratio": round(best_ours / best_theirs, 3),
            }
        )
    )
    if osmand_points:
        rate, p50, p95 = await osmand(plane, osmand_points)
        print(
            f"OsmAnd: {rate:,.0f} requests/s with {VEHICLES} devices "
            f"(p50 {p50:.1f} ms, p95 {p95:.1f} ms)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--osmand", type=int, default=20_000)
    parser.add_argument("--database-url", default=None)
    arguments = parser.parse_args()
    with fleet_plane(arguments.database_url) as plane:
        asyncio.run(run(plane, arguments.points, arguments.rounds, arguments.osmand))


if __name__ == "__main__":
    main()
