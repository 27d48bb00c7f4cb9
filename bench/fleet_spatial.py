"""Fleet spatial queries over many stored positions, through a data plane process.

Loads ``--rows`` positions (default 10,000,000) of ``--vehicles`` vehicles (default 500) over
the last ``--days`` days (default 28) straight into the served tenant's tables: the weekly
partitions made by ``webhost.data.fleet.partitions``, then binary COPY of each week's positions
(two connections), ``fleet_vehicles`` and ``fleet_latest`` rows for every vehicle, then VACUUM
ANALYZE. Vehicles drive smooth closed curves over a 30 x 30 km area around Berlin.

Then measures, over HTTP with keep-alive, random query points inside the area:
near (radius 1 km and 5 km), nearest 10, positions/box (1 x 1 km over one day, limit 1000) and
positions/within (a hexagon of 600 m radius over one day, limit 1000): ``--requests`` of each
kind one after another, then ``--clients`` concurrent clients sending the kinds in turn for
``--seconds``: first the radius and nearest kinds only, then every kind. Target (radius and
nearest over 10 million positions): p95 <= 20 ms. Each phase prints the CPU it took per
request (the plane's, this process's, the rest of the machine's: PostgreSQL).

    .venv/bin/python bench/fleet_spatial.py [--rows 10000000] [--requests 500]
        [--clients 4] [--seconds 20] [--database-url postgresql://...] [--profile DIR]
        [--explain]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import statistics
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fleet_plane import CpuMeter, FleetPlane, Profiler, fleet_plane
from sqlalchemy import text

from webhost.data.fleet import partitions
from webhost.data.fleet.geometry import Bounds
from webhost.data.fleet.query_schemas import TimeWindow
from webhost.data.fleet.query_tables import FleetTables
from webhost.data.fleet.spatial import IMPLEMENTATIONS
from webhost.data.fleet.storage import storage_for
from webhost.data.tenancy.scope import tenant_transaction
from webhost.db import admin
from webhost.db.engine import create_engine

CENTER = (52.52, 13.405)  # lat, lon
HALF_SIDE_M = 15_000.0
METRES_PER_DEGREE = 111_195.0
HALF_LAT = HALF_SIDE_M / METRES_PER_DEGREE
HALF_LON = HALF_LAT / math.cos(math.radians(CENTER[0]))
POSTGRES_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
CHUNK_ROWS = 50_000
LOADERS = 2

# one row of binary COPY: 6 fields (vehicle_id, device_time, latitude, longitude, speed,
# heading), each its length then its value
_ROW = struct.Struct(">h iq iq id id if if")
_COLUMNS = ["vehicle_id", "device_time", "latitude", "longitude", "speed", "heading"]


class Track:
    """A vehicle's smooth closed curve: a sum of two sines on each axis (a Lissajous figure),
    inside the area, at town speeds (about 10 to 40 km/h)."""

    def __init__(self, chance: random.Random) -> None:
        self.waves = [
            (chance.uniform(0.55, 0.65), chance.uniform(2, 6), chance.uniform(0, math.tau)),
            (chance.uniform(0.25, 0.35), chance.uniform(0.7, 2), chance.uniform(0, math.tau)),
        ]
        self.lon_waves = [
            (chance.uniform(0.55, 0.65), chance.uniform(2, 6), chance.uniform(0, math.tau)),
            (chance.uniform(0.25, 0.35), chance.uniform(0.7, 2), chance.uniform(0, math.tau)),
        ]

    @staticmethod
    def _axis(waves: list[tuple[float, float, float]], hours: float) -> float:
        return sum(a * math.sin(math.tau * hours / period + phase) for a, period, phase in waves)

    def at(self, hours: float) -> tuple[float, float]:
        return (
            CENTER[0] + HALF_LAT * self._axis(self.waves, hours),
            CENTER[1] + HALF_LON * self._axis(self.lon_waves, hours),
        )


def microseconds(moment: datetime) -> int:
    return (moment - POSTGRES_EPOCH) // timedelta(microseconds=1)


def copy_chunks(
    tracks: dict[int, Track], start: datetime, step: timedelta, steps: range, chance: random.Random
) -> Iterator[bytes]:
    """Binary COPY data of every vehicle at each step in ``steps`` (time order), in chunks."""
    pack = _ROW.pack
    header = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
    chunk = [header]
    rows = 0
    step_us = step // timedelta(microseconds=1)
    start_us = microseconds(start)
    for number in steps:
        hours = number * step.total_seconds() / 3600
        for vehicle_id, track in tracks.items():
            lat, lon = track.at(hours)
            ahead_lat, ahead_lon = track.at(hours + 1 / 60)
            dy = (ahead_lat - lat) * METRES_PER_DEGREE
            dx = (ahead_lon - lon) * METRES_PER_DEGREE * math.cos(math.radians(lat))
            speed = math.hypot(dx, dy) * 60 / 1000  # km/h over the next minute
            heading = math.degrees(math.atan2(dx, dy)) % 360.0
            # every vehicle reports a little off the others' beat
            moment = start_us + number * step_us + vehicle_id * 997
            chunk.append(
                pack(
                    6,
                    *(8, vehicle_id, 8, moment, 8, lat, 8, lon),
                    *(4, speed + chance.uniform(0, 0.5), 4, min(heading, 359.9)),
                )
            )
            rows += 1
            if rows == CHUNK_ROWS:
                yield b"".join(chunk)
                chunk, rows = [], 0
    chunk.append(struct.pack(">h", -1))
    yield b"".join(chunk)


@dataclass(frozen=True)
class Loaded:
    start: datetime  # of the positions' device times
    end: datetime


async def load(plane: FleetPlane, rows: int, vehicles: int, days: int) -> Loaded:
    """Positions straight into the served tenant's tables."""
    tenant = plane.served.tenant
    schema = tenant.name
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    start = end - timedelta(days=days)
    per_vehicle = rows // vehicles
    step = timedelta(days=days) / per_vehicle
    chance = random.Random(7)
    weeks = [partitions.week_of(start)]
    while weeks[-1] < partitions.week_of(end):
        weeks.append(weeks[-1] + partitions.WEEK)
    engine = create_engine(plane.database, pool_size=1)
    try:
        async with tenant_transaction(engine, tenant) as connection:
            await (await storage_for(connection, tenant)).prepare_weeks(connection, weeks)
    finally:
        await engine.dispose()
    connection = await admin.connect(plane.database)
    try:
        identifiers = [f"veh-{n:04d}" for n in range(1, vehicles + 1)]
        registered = await connection.fetch(
            f'INSERT INTO "{schema}".fleet_vehicles (identifier, name) '
            "SELECT i, 'Vehicle ' || i FROM unnest($1::text[]) AS i RETURNING id, identifier",
            identifiers,
        )
    finally:
        await connection.close()
    tracks = {row["id"]: Track(chance) for row in registered}

    # each loader takes the next week: the steps whose time falls in it
    def steps_of(week: date) -> range:
        week_start, week_end = partitions.week_bounds(week)
        first = max(0, math.ceil((week_start - start) / step))
        last = min(per_vehicle, math.ceil((week_end - start) / step))
        return range(first, last)

    queue = [week for week in weeks if len(steps_of(week))]
    loaded = 0
    started = time.perf_counter()

    async def loader() -> None:
        nonlocal loaded
        own = await admin.connect(plane.database)
        try:
            await own.execute("SET synchronous_commit = off")
            while queue:
                week = queue.pop(0)
                steps = steps_of(week)
                chunks = copy_chunks(tracks, start, step, steps, random.Random(week.toordinal()))

                async def source(chunks: Iterator[bytes] = chunks) -> AsyncIterator[bytes]:
                    nonlocal loaded
                    for chunk in chunks:
                        yield chunk
                        loaded += len(chunk) // _ROW.size
                        elapsed = time.perf_counter() - started
                        print(
                            f"\r  loaded {loaded:,} ({loaded / elapsed:,.0f}/s)", end="", flush=True
                        )

                # into the parent: a vehicle's few microseconds past its step may fall in the
                # next week, and PostgreSQL routes each row to its partition
                await own.copy_to_table(
                    partitions.PARENT,
                    schema_name=schema,
                    source=source(),
                    columns=_COLUMNS,
                    format="binary",
                )
        finally:
            await own.close()

    await asyncio.gather(*(loader() for _ in range(LOADERS)))
    print()
    connection = await admin.connect(plane.database)
    try:
        last_step = per_vehicle - 1
        hours = last_step * step.total_seconds() / 3600
        latest = []
        for vehicle_id, track in tracks.items():
            lat, lon = track.at(hours)
            moment = start + step * last_step + timedelta(microseconds=vehicle_id * 997)
            latest.append((vehicle_id, moment, moment, lat, lon))
        await connection.copy_records_to_table(
            "fleet_latest",
            schema_name=schema,
            records=latest,
            columns=["vehicle_id", "device_time", "server_time", "latitude", "longitude"],
        )
        counted = await connection.fetchval(f'SELECT count(*) FROM "{schema}".fleet_positions')
        if counted != per_vehicle * vehicles:
            raise SystemExit(f"loaded {counted} positions, meant {per_vehicle * vehicles}")
        analyzed = time.perf_counter()
        for table in ("fleet_vehicles", "fleet_latest", "fleet_positions"):
            await connection.execute(f'VACUUM (ANALYZE) "{schema}".{table}')
        # partitions and hypertable chunks alike are children of fleet_positions
        tables, size = await connection.fetchrow(
            "SELECT count(*), pg_size_pretty(sum(pg_total_relation_size(inhrelid))) "
            "FROM pg_inherits WHERE inhparent = CAST($1 AS regclass)",
            f'"{schema}".fleet_positions',
        )
        kind = "partitions" if plane.storage == "partitions" else "hypertable chunks"
        print(
            f"  {counted:,} positions of {vehicles} vehicles over {days} days in "
            f"{tables} weekly {kind}, {size} with indexes; loaded in "
            f"{analyzed - started:.0f} s, VACUUM ANALYZE {time.perf_counter() - analyzed:.0f} s"
        )
    finally:
        await connection.close()
    return Loaded(start, start + step * (per_vehicle - 1))


def random_point(chance: random.Random) -> tuple[float, float]:
    """A point inside the area's inner 80%."""
    return (
        CENTER[0] + chance.uniform(-0.8, 0.8) * HALF_LAT,
        CENTER[1] + chance.uniform(-0.8, 0.8) * HALF_LON,
    )


def random_day(chance: random.Random, loaded: Loaded) -> tuple[str, str]:
    """A day (from, to) inside the loaded time range."""
    span = (loaded.end - loaded.start - timedelta(days=1)).total_seconds()
    since = loaded.start + timedelta(seconds=chance.uniform(0, span))
    until = since + timedelta(days=1)
    return (
        since.isoformat().replace("+00:00", "Z"),
        until.isoformat().replace("+00:00", "Z"),
    )


def metres_to_degrees(lat: float, north_m: float, east_m: float) -> tuple[float, float]:
    return north_m / METRES_PER_DEGREE, east_m / (METRES_PER_DEGREE * math.cos(math.radians(lat)))


Query = Callable[[httpx.AsyncClient, random.Random, Loaded], Awaitable[int]]


def _answer(response: httpx.Response) -> Any:
    if response.status_code != 200:
        raise SystemExit(f"{response.request.url}: {response.status_code} {response.text[:300]}")
    return response.json()


def near(radius_m: float) -> Query:
    async def query(client: httpx.AsyncClient, chance: random.Random, _: Loaded) -> int:
        lat, lon = random_point(chance)
        params = {"lat": lat, "lon": lon, "radius_m": radius_m}
        return len(_answer(await client.get("/v1/fleet/near", params=params)))

    return query


async def nearest(client: httpx.AsyncClient, chance: random.Random, _: Loaded) -> int:
    lat, lon = random_point(chance)
    params = {"lat": lat, "lon": lon, "n": 10}
    return len(_answer(await client.get("/v1/fleet/nearest", params=params)))


async def box(client: httpx.AsyncClient, chance: random.Random, loaded: Loaded) -> int:
    lat, lon = random_point(chance)
    half_lat, half_lon = metres_to_degrees(lat, 500, 500)
    since, until = random_day(chance, loaded)
    params = {
        "min_lat": lat - half_lat,
        "min_lon": lon - half_lon,
        "max_lat": lat + half_lat,
        "max_lon": lon + half_lon,
        "from": since,
        "to": until,
        "limit": 1000,
    }
    return len(_answer(await client.get("/v1/fleet/positions/box", params=params))["positions"])


async def within(client: httpx.AsyncClient, chance: random.Random, loaded: Loaded) -> int:
    lat, lon = random_point(chance)
    ring = []
    for corner in range(6):
        angle = math.tau * corner / 6
        d_lat, d_lon = metres_to_degrees(lat, 600 * math.cos(angle), 600 * math.sin(angle))
        ring.append([lon + d_lon, lat + d_lat])
    since, until = random_day(chance, loaded)
    body = {"polygon": ring, "from": since, "to": until, "limit": 1000}
    response = await client.post("/v1/fleet/positions/within", content=json.dumps(body))
    return len(_answer(response)["positions"])


QUERIES: dict[str, Query] = {
    "near 1 km": near(1_000),
    "near 5 km": near(5_000),
    "nearest 10": nearest,
    "positions/box 1 km, 1 day": box,
    "positions/within 600 m, 1 day": within,
}


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(name: str, latencies: list[float], results: list[int]) -> str:
    ordered = sorted(latencies)
    return (
        f"{name:32s} p50 {percentile(ordered, 0.5):6.2f} ms  p95 {percentile(ordered, 0.95):6.2f}"
        f" ms  p99 {percentile(ordered, 0.99):6.2f} ms  (n={len(ordered)}, "
        f"mean {statistics.mean(results):.1f} results)"
    )


def client_for(plane: FleetPlane) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=plane.api_url,
        headers={
            "Authorization": f"Bearer {plane.served.api_key}",
            "Content-Type": "application/json",
        },
        timeout=60,
        trust_env=False,
    )


async def sequential(
    plane: FleetPlane, loaded: Loaded, requests: int, profile: Path | None
) -> None:
    print(f"sequential, one client, {requests} requests of each kind:")
    chance = random.Random(11)
    async with client_for(plane) as client:
        for query in QUERIES.values():  # warm-up: connections, prepared statements, caches
            for _ in range(20):
                await query(client, chance, loaded)
        for name, query in QUERIES.items():
            latencies, results = [], []
            label = "spatial-" + name.split()[0].replace("/", "-")
            with Profiler(plane, profile, label), CpuMeter(plane) as cpu:
                for _ in range(requests):
                    started = time.perf_counter()
                    results.append(await query(client, chance, loaded))
                    latencies.append((time.perf_counter() - started) * 1000)
            print("  " + report(name, latencies, results))
            print(f"    {cpu.summary(requests, 'request')}")


async def concurrent(
    plane: FleetPlane, loaded: Loaded, clients: int, seconds: float, kinds: list[str]
) -> None:
    print(f"concurrent, {clients} clients, each sending {', '.join(kinds)} in turn for "
          f"{seconds:.0f} s:")  # fmt: skip
    latencies: dict[str, list[float]] = {name: [] for name in kinds}
    results: dict[str, list[int]] = {name: [] for name in kinds}
    deadline = time.perf_counter() + seconds

    async def one(number: int) -> None:
        chance = random.Random(100 + number)
        names = list(kinds)
        chance.shuffle(names)
        async with client_for(plane) as client:
            turn = 0
            while time.perf_counter() < deadline:
                name = names[turn % len(names)]
                turn += 1
                started = time.perf_counter()
                results[name].append(await QUERIES[name](client, chance, loaded))
                latencies[name].append((time.perf_counter() - started) * 1000)

    with CpuMeter(plane) as cpu:
        await asyncio.gather(*(one(n) for n in range(clients)))
    total = sum(len(values) for values in latencies.values())
    for name in kinds:
        print("  " + report(name, latencies[name], results[name]))
    print(f"  {total / cpu.wall:,.0f} requests/s in all; {cpu.summary(total, 'request')}")


class _Recorder:
    """Stands in for a connection to catch the statements a spatial query would run."""

    def __init__(self) -> None:
        self.statements: list[tuple[Any, dict[str, Any]]] = []

    async def execute(self, statement: Any, params: dict[str, Any] | None = None) -> _Recorder:
        self.statements.append((statement, params or {}))
        return self

    def scalar(self) -> float:
        return 2_000.0  # the radius of the nearest n, for the statement that follows

    def __iter__(self) -> Iterator[Any]:
        return iter(())


async def explain(plane: FleetPlane, loaded: Loaded) -> None:
    """EXPLAIN ANALYZE of each kind's statements, as the plane's spatial path writes them."""
    spatial = IMPLEMENTATIONS[plane.spatial]
    tables = FleetTables(plane.served.tenant)
    chance = random.Random(5)
    lat, lon = random_point(chance)
    since = loaded.start + (loaded.end - loaded.start) / 2
    window = TimeWindow(since, since + timedelta(days=1))
    half_lat, half_lon = metres_to_degrees(lat, 500, 500)
    kinds: dict[str, Callable[[Any], Awaitable[Any]]] = {
        "near 5 km": lambda c: spatial.near(c, tables, lat, lon, 5_000, 100),
        "nearest 10": lambda c: spatial.nearest(c, tables, lat, lon, 10),
        "positions/box": lambda c: spatial.positions_in_box(
            c, tables, Bounds(lon - half_lon, lat - half_lat, lon + half_lon, lat + half_lat),
            window, 1000,
        ),
        "positions/within": lambda c: spatial.positions_in_polygon(
            c, tables, [(lon - half_lon, lat - half_lat), (lon + half_lon, lat - half_lat),
                        (lon, lat + half_lat)], window, 1000,
        ),
    }  # fmt: skip
    engine = create_engine(plane.database, pool_size=1)
    try:
        for name, kind in kinds.items():
            recorder = _Recorder()
            await kind(recorder)
            for statement, params in recorder.statements[:1]:
                async with tenant_transaction(engine, plane.served.tenant) as connection:
                    plan = await connection.execute(
                        text(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {statement.text}"), params
                    )
                    print(f"  EXPLAIN {name}:")
                    for (line,) in plan:
                        print(f"    {line}")
    finally:
        await engine.dispose()


async def run(arguments: argparse.Namespace, plane: FleetPlane) -> None:
    print(f"spatial path: {plane.spatial}; positions in {plane.storage}")
    loaded = await load(plane, arguments.rows, arguments.vehicles, arguments.days)
    if arguments.explain:
        await explain(plane, loaded)
    await sequential(plane, loaded, arguments.requests, arguments.profile)
    if arguments.clients:
        # the target's kinds alone, then every kind (boxes and polygons share the two cores)
        nearby = [name for name in QUERIES if name.startswith("near")]
        await concurrent(plane, loaded, arguments.clients, arguments.seconds, nearby)
        await concurrent(plane, loaded, arguments.clients, arguments.seconds, list(QUERIES))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--vehicles", type=int, default=500)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--profile", type=Path, default=None, help="py-spy of the sequential runs")
    parser.add_argument("--explain", action="store_true", help="print each kind's plan")
    arguments = parser.parse_args()
    with fleet_plane(arguments.database_url) as plane:
        asyncio.run(run(arguments, plane))


if __name__ == "__main__":
    main()
