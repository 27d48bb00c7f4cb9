"""Fleet ingestion: batches and OsmAnd requests through a data plane process, against a raw
binary COPY of the same rows into the same table layout.

Batch: 50 vehicles, 1,000 points a request, 4 concurrent senders (targets: >= 50,000 points/s
and >= 25% of the raw COPY rate). Each round sends ``--points`` three ways, one after another:
the simulator (``webhost.simulator``, which makes its points while it sends), the same kind of
request bodies made before the clock starts (as the raw COPY's rows are: the figure compared
with it), and raw COPY: asyncpg ``copy_records_to_table``, 1,000 rows a COPY, 4 connections,
into another tenant's ``fleet_positions`` (same partitions and indexes; no validation, no
duplicate check, no latest positions).
OsmAnd: 50 devices, one request a point, as fast as they get answers (target >= 2,000/s), sent
by the simulator (httpx) and by a lean HTTP/1.1 client that costs the shared cores less.
Every phase prints the CPU it took per point or request: the plane's, this process's (the load
generator) and the rest of the machine's (PostgreSQL, and whatever else runs).

    .venv/bin/python bench/fleet_ingest.py [--points 200000] [--rounds 3] [--osmand 20000]
        [--database-url postgresql://...] [--profile DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import asyncpg
import httpx
from fleet_plane import CpuMeter, FleetPlane, Profiler, fleet_plane

from webhost.data.fleet import partitions
from webhost.data.fleet.storage import storage_for
from webhost.data.tenancy.scope import tenant_transaction
from webhost.db import admin
from webhost.db.engine import create_engine
from webhost.simulator import run as run_module
from webhost.simulator import senders
from webhost.simulator.run import Simulation, simulate
from webhost.simulator.tracks import Vehicle

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
    engine = create_engine(plane.database, pool_size=1)
    try:
        async with tenant_transaction(engine, plane.spare.tenant) as connection:
            storage = await storage_for(connection, plane.spare.tenant)
            weeks = {partitions.week_of(row[1]) for row in rows}  # type: ignore[arg-type]
            await storage.prepare_weeks(connection, weeks)
    finally:
        await engine.dispose()
    connections = [await admin.connect(plane.database) for _ in range(SENDERS)]
    try:
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


def prepared_bodies(plane: FleetPlane, points: int, seed: int) -> list[bytes]:
    """The request bodies the simulator would send (same tracks, same JSON), made before the
    clock starts, as the raw COPY's rows are."""
    simulation = Simulation(
        url=plane.api_url, key=plane.served.api_key, vehicles=VEHICLES, rate=0,
        points=points, protocol="batch", batch_size=BATCH, seed=seed, prefix="prep",
    )  # fmt: skip
    vehicles = run_module._vehicles(simulation)
    made: list[dict[str, object]] = []
    while len(made) < points:
        made.extend(senders.batch_point(v.advance(1.0)) for v in vehicles[: points - len(made)])
    return [json.dumps(made[i : i + BATCH]).encode() for i in range(0, points, BATCH)]


async def send_prepared(plane: FleetPlane, bodies: list[bytes]) -> tuple[float, int]:
    """Points per second for bodies made beforehand, 4 concurrent senders; request p95 (ms)."""
    latencies: list[float] = []
    accepted = 0
    queue = list(reversed(bodies))
    headers = {
        "Authorization": f"Bearer {plane.served.api_key}",
        "Content-Type": "application/json",
    }

    async def sender(client: httpx.AsyncClient) -> None:
        nonlocal accepted
        while queue:
            body = queue.pop()
            started = time.perf_counter()
            response = await client.post("/v1/fleet/positions", content=body, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"ingestion failed: {response.status_code} {response.text}")
            accepted += response.json()["accepted"]

    limits = httpx.Limits(max_connections=SENDERS)
    async with httpx.AsyncClient(
        base_url=plane.api_url, limits=limits, timeout=60, trust_env=False
    ) as client:
        started = time.perf_counter()
        await asyncio.gather(*(sender(client) for _ in range(SENDERS)))
        elapsed = time.perf_counter() - started
    points = sum(body.count(b'"vehicle"') for body in bodies)
    if accepted != points:
        raise SystemExit(f"ingestion accepted {accepted} of {points} points")
    latencies.sort()
    return points / elapsed, round(latencies[int(0.95 * len(latencies))])


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
        # counted out of the rate; a run is not thrown away for one, it is reported
        print(f"  OsmAnd: {tally.failed_requests} requests failed, the last: {tally.last_error}")
    return tally.accepted / tally.elapsed, tally.percentile(0.5), tally.percentile(0.95)


async def osmand_lean(plane: FleetPlane, points: int) -> tuple[float, float, float]:
    """The same OsmAnd requests as ``osmand`` (the simulator's tracks and query), sent by a
    lean HTTP/1.1 client: one keep-alive socket per device, no httpx, so the load generator
    takes less of the two cores the plane shares with it."""
    simulation = Simulation(
        url=plane.api_url, key=plane.served.api_key, vehicles=VEHICLES, rate=0,
        points=points, protocol="osmand", seed=98, prefix="lean",
    )  # fmt: skip
    vehicles = run_module._vehicles(simulation)
    host, port = plane.api_url.removeprefix("http://").split(":")
    path = urlsplit(senders.osmand_url(plane.api_url, plane.served.api_key)).path
    latencies: list[float] = []
    failures: list[str] = []

    async def device(vehicle: Vehicle, count: int) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for _ in range(count):
                point = vehicle.advance(1.0)
                query = urlencode(senders.osmand_parameters(point, milliseconds=False))
                request = f"GET {path}?{query} HTTP/1.1\r\nHost: {host}\r\n\r\n"
                started = time.perf_counter()
                writer.write(request.encode())
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length) if length else b""
                latencies.append((time.perf_counter() - started) * 1000)
                if not head.startswith(b"HTTP/1.1 200"):
                    failures.append((head.split(b"\r\n")[0] + b" " + body[:200]).decode())
        finally:
            writer.close()

    quota = [points // VEHICLES] * VEHICLES
    started = time.perf_counter()
    await asyncio.gather(*(device(v, n) for v, n in zip(vehicles, quota, strict=True)))
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"OsmAnd failed {len(failures)} times: {failures[-1]}")
    latencies.sort()
    p50, p95 = latencies[len(latencies) // 2], latencies[int(0.95 * len(latencies))]
    return sum(quota) / elapsed, p50, p95


async def run(
    plane: FleetPlane, points: int, rounds: int, osmand_points: int, profile: Path | None
) -> None:
    print(
        f"spatial path: {plane.spatial}; positions in {plane.storage}; "
        f"{VEHICLES} vehicles, {BATCH} points a request"
    )
    # a warm-up registers the vehicles and fills caches on both sides
    await through_plane(plane, 5 * BATCH, seed=1000)
    await raw_copy(plane, raw_rows(5 * BATCH, datetime.now(UTC) - timedelta(days=20), 1000))
    simulated, ours, theirs, ratios = [], [], [], []
    for round_number in range(rounds if points else 0):
        with CpuMeter(plane) as cpu:
            rate, p95 = await through_plane(plane, points, seed=round_number)
        simulated.append(rate)
        print(
            f"round {round_number + 1}: simulator (makes points as it sends) "
            f"{rate:10,.0f} points/s (request p95 {p95} ms)\n  {cpu.summary(points, 'point')}"
        )
        bodies = prepared_bodies(plane, points, seed=100 + round_number)
        with (
            Profiler(plane, profile if round_number == 0 else None, "batch"),
            CpuMeter(plane) as cpu,
        ):
            rate, p95 = await send_prepared(plane, bodies)
        ours.append(rate)
        print(
            f"  bodies made beforehand             {rate:10,.0f} points/s (request p95 {p95} ms)"
            f"\n  {cpu.summary(points, 'point')}"
        )
        start = datetime.now(UTC) - timedelta(days=10, hours=round_number)
        rows = raw_rows(points, start, round_number)
        with CpuMeter(plane) as cpu:
            reference = await raw_copy(plane, rows)
        theirs.append(reference)
        ratios.append(rate / reference)
        print(
            f"  raw COPY                           {reference:10,.0f} points/s"
            f"   ratio (made beforehand / raw COPY) {rate / reference:5.1%}"
            f"\n  {cpu.summary(points, 'point')}"
        )
    if ours:
        print(
            json.dumps(
                {
                    "median_simulator_points_per_second": round(statistics.median(simulated)),
                    "median_batch_points_per_second": round(statistics.median(ours)),
                    "median_raw_copy_points_per_second": round(statistics.median(theirs)),
                    "median_ratio": round(statistics.median(ratios), 3),
                }
            )
        )
    lean_rates, simulator_rates = [], []
    for round_number in range(rounds if osmand_points else 0):
        with CpuMeter(plane) as cpu:
            rate, p50, p95 = await osmand(plane, osmand_points)
        simulator_rates.append(rate)
        print(
            f"OsmAnd (simulator, httpx): {rate:,.0f} requests/s with {VEHICLES} devices "
            f"(p50 {p50:.1f} ms, p95 {p95:.1f} ms)\n  {cpu.summary(osmand_points, 'request')}"
        )
        with (
            Profiler(plane, profile if round_number == 0 else None, "osmand"),
            CpuMeter(plane) as cpu,
        ):
            rate, p50, p95 = await osmand_lean(plane, osmand_points)
        lean_rates.append(rate)
        print(
            f"OsmAnd (lean client):      {rate:,.0f} requests/s with {VEHICLES} devices "
            f"(p50 {p50:.1f} ms, p95 {p95:.1f} ms)\n  {cpu.summary(osmand_points, 'request')}"
        )
    if lean_rates:
        print(
            json.dumps(
                {
                    "median_osmand_simulator_requests_per_second": round(
                        statistics.median(simulator_rates)
                    ),
                    "median_osmand_lean_requests_per_second": round(statistics.median(lean_rates)),
                }
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--osmand", type=int, default=20_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="py-spy of the plane: first round's bodies made beforehand, and lean OsmAnd",
    )
    arguments = parser.parse_args()
    with fleet_plane(arguments.database_url) as plane:
        asyncio.run(
            run(plane, arguments.points, arguments.rounds, arguments.osmand, arguments.profile)
        )


if __name__ == "__main__":
    main()
