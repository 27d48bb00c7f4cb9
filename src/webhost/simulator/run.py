"""The fleet simulator: many vehicles driving at once, reporting through OsmAnd or batches.

``rate`` is points per second for the whole fleet; each vehicle reports every
``vehicles / rate`` seconds of simulated time. With ``rate=0`` the fleet reports as fast as the
plane takes it: the vehicles' clocks then start in the past so their points end near now.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

import httpx

from webhost.simulator import senders
from webhost.simulator.tracks import SimulatedPoint, Vehicle, fleet

Protocol = Literal["osmand", "batch"]


@dataclass
class Tally:
    """What a run sent and what the plane said."""

    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    failed_requests: int = 0
    rate_limited: int = 0
    last_error: str = ""
    latencies_ms: list[float] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def percentile(self, fraction: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass(frozen=True)
class Simulation:
    url: str
    key: str
    vehicles: int = 10
    rate: float = 10.0
    points: int = 1000  # in all, over the fleet
    protocol: Protocol = "osmand"
    batch_size: int = 1000
    senders: int = 4  # concurrent batch senders (OsmAnd: one connection per vehicle)
    center: tuple[float, float] = (52.52, 13.405)
    spread_m: float = 15_000.0
    seed: int = 1
    prefix: str = "sim"


def _interval(simulation: Simulation) -> float:
    return simulation.vehicles / simulation.rate if simulation.rate > 0 else 1.0


def _vehicles(simulation: Simulation) -> list[Vehicle]:
    per_vehicle = -(-simulation.points // simulation.vehicles)
    lead = 0.0 if simulation.rate > 0 else per_vehicle * _interval(simulation)
    start = datetime.now(UTC) - timedelta(seconds=lead + 1)
    return fleet(
        simulation.vehicles,
        center=simulation.center,
        spread_m=simulation.spread_m,
        start=start,
        seed=simulation.seed,
        prefix=simulation.prefix,
    )


async def simulate(
    simulation: Simulation, on_progress: Callable[[Tally], None] | None = None
) -> Tally:
    tally = Tally()
    vehicles = _vehicles(simulation)
    limits = httpx.Limits(max_connections=max(simulation.vehicles, simulation.senders) + 4)
    async with httpx.AsyncClient(limits=limits, timeout=60, trust_env=False) as client:
        if simulation.protocol == "osmand":
            await _drive_osmand(client, simulation, vehicles, tally, on_progress)
        else:
            await _drive_batches(client, simulation, vehicles, tally, on_progress)
    return tally


async def _drive_osmand(
    client: httpx.AsyncClient,
    simulation: Simulation,
    vehicles: list[Vehicle],
    tally: Tally,
    on_progress: Callable[[Tally], None] | None,
) -> None:
    """One device per vehicle, each reporting its points one request at a time."""
    url = senders.osmand_url(simulation.url, simulation.key)
    interval = _interval(simulation)
    milliseconds = interval < 1.0
    quota = [simulation.points // len(vehicles)] * len(vehicles)
    for extra in range(simulation.points % len(vehicles)):
        quota[extra] += 1

    async def device(vehicle: Vehicle, count: int, offset: float) -> None:
        if simulation.rate > 0:
            await asyncio.sleep(offset)
        due = time.perf_counter()
        for _ in range(count):
            point = vehicle.advance(interval)
            if simulation.rate > 0:
                due += interval
                point = _at_wall_clock(vehicle, point)
            started = time.perf_counter()
            try:
                await senders.send_osmand(client, url, point, milliseconds=milliseconds)
                tally.accepted += 1
            except senders.SendFailed as exc:
                _failed(tally, exc.status, str(exc))
            except httpx.HTTPError as exc:
                _failed(tally, 0, f"{type(exc).__name__}: {exc}")
            tally.sent += 1
            tally.latencies_ms.append((time.perf_counter() - started) * 1000)
            if on_progress is not None:
                on_progress(tally)
            if simulation.rate > 0:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))

    await asyncio.gather(
        *(
            device(vehicle, count, interval * number / len(vehicles))
            for number, (vehicle, count) in enumerate(zip(vehicles, quota, strict=True))
        )
    )


async def _drive_batches(
    client: httpx.AsyncClient,
    simulation: Simulation,
    vehicles: list[Vehicle],
    tally: Tally,
    on_progress: Callable[[Tally], None] | None,
) -> None:
    """Points of every vehicle in turn, cut into batches that concurrent senders post."""
    interval = _interval(simulation)
    queue: asyncio.Queue[list[SimulatedPoint] | None] = asyncio.Queue(simulation.senders * 2)

    async def produce() -> None:
        made = 0
        batch: list[SimulatedPoint] = []
        paced_from = time.perf_counter()
        while made < simulation.points:
            for vehicle in vehicles:
                if made == simulation.points:
                    break
                point = vehicle.advance(interval)
                batch.append(_at_wall_clock(vehicle, point) if simulation.rate > 0 else point)
                made += 1
                if len(batch) == simulation.batch_size:
                    await queue.put(batch)
                    batch = []
            if simulation.rate > 0:
                # a round of every vehicle is due once per interval
                await asyncio.sleep(max(0.0, paced_from + interval - time.perf_counter()))
                paced_from += interval
                if batch:
                    await queue.put(batch)
                    batch = []
        if batch:
            await queue.put(batch)
        for _ in range(simulation.senders):
            await queue.put(None)

    async def send() -> None:
        while (batch := await queue.get()) is not None:
            started = time.perf_counter()
            try:
                answer = await senders.send_batch(client, simulation.url, simulation.key, batch)
                tally.accepted += int(answer.get("accepted", 0))
                tally.duplicates += int(answer.get("duplicates", 0))
                tally.rejected += len(answer.get("rejected", []))
            except senders.SendFailed as exc:
                _failed(tally, exc.status, str(exc))
            except httpx.HTTPError as exc:
                _failed(tally, 0, f"{type(exc).__name__}: {exc}")
            tally.sent += len(batch)
            tally.latencies_ms.append((time.perf_counter() - started) * 1000)
            if on_progress is not None:
                on_progress(tally)

    await asyncio.gather(produce(), *(send() for _ in range(simulation.senders)))


def _at_wall_clock(vehicle: Vehicle, point: SimulatedPoint) -> SimulatedPoint:
    """A paced run reports live: the point carries the time it is sent."""
    now = datetime.now(UTC)
    vehicle.clock = max(now, vehicle.clock)
    return replace(point, time=vehicle.clock)


def _failed(tally: Tally, status: int, message: str) -> None:
    tally.failed_requests += 1
    if status == 429:
        tally.rate_limited += 1
    tally.last_error = f"{status or 'network'}: {message[:160]}"
