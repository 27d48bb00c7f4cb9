"""Factories of fleet data: vehicles and positions written with SQL as the tenant.

Ingestion has its own API; these factories write the rows it would leave (vehicles, weekly
partitions, positions and each vehicle's latest position) so that queries can be tested alone.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from webhost.data.fleet.partitions import week_of
from webhost.data.fleet.storage import IMPLEMENTATIONS
from webhost.data.tenancy.scope import Tenant, tenant_transaction
from webhost.db.engine import create_engine
from webhost.db.urls import PostgresURL

T = TypeVar("T")


@dataclass(frozen=True)
class Fix:
    """One position as a device reports it (speed km/h, heading degrees)."""

    time: datetime
    latitude: float
    longitude: float
    speed: float | None = None
    heading: float | None = None
    altitude: float | None = None
    accuracy: float | None = None
    battery: float | None = None
    attributes: dict[str, Any] | None = None


@dataclass(frozen=True)
class Vehicle:
    identifier: str
    name: str = ""
    fixes: Sequence[Fix] = field(default_factory=list)


class FleetDatabase:
    """One engine on one event loop, for tests that make many round trips to the database."""

    def __init__(self, database: PostgresURL) -> None:
        self._runner = asyncio.Runner()
        self.engine: AsyncEngine = self._runner.run(self._engine(database))

    @staticmethod
    async def _engine(database: PostgresURL) -> AsyncEngine:
        return create_engine(database, pool_size=1)

    def run(self, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
        return self._runner.run(_call(work, self.engine))

    def as_tenant(self, tenant: Tenant, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run ``work`` in one transaction of the tenant."""

        async def inside(engine: AsyncEngine) -> T:
            async with tenant_transaction(engine, tenant) as connection:
                return await work(connection)

        return self.run(inside)

    def add_vehicles(self, tenant: Tenant, vehicles: Sequence[Vehicle]) -> dict[str, int]:
        return self.as_tenant(tenant, lambda connection: insert_vehicles(connection, vehicles))

    def close(self) -> None:
        self._runner.run(self.engine.dispose())
        self._runner.close()

    def __enter__(self) -> FleetDatabase:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


async def _call(work: Callable[[AsyncEngine], Awaitable[T]], engine: AsyncEngine) -> T:
    return await work(engine)


def _fix_row(vehicle_id: int, fix: Fix) -> dict[str, Any]:
    return {
        "vehicle_id": vehicle_id,
        "device_time": fix.time,
        "latitude": fix.latitude,
        "longitude": fix.longitude,
        "speed": fix.speed,
        "heading": fix.heading,
        "altitude": fix.altitude,
        "accuracy": fix.accuracy,
        "battery": fix.battery,
        "attributes": None if fix.attributes is None else json.dumps(fix.attributes),
    }


_COLUMNS = (
    "vehicle_id, device_time, latitude, longitude, speed, heading, altitude, accuracy, "
    "battery, attributes"
)
_VALUES = (
    ":vehicle_id, :device_time, :latitude, :longitude, :speed, :heading, :altitude, "
    ":accuracy, :battery, CAST(:attributes AS jsonb)"
)


async def insert_vehicles(
    connection: AsyncConnection, vehicles: Sequence[Vehicle]
) -> dict[str, int]:
    """Insert vehicles, their positions and their latest positions; returns their ids."""
    ids: dict[str, int] = {}
    for vehicle in vehicles:
        created = await connection.execute(
            text(
                "INSERT INTO fleet_vehicles (identifier, name) VALUES (:identifier, :name) "
                "RETURNING id"
            ),
            {"identifier": vehicle.identifier, "name": vehicle.name},
        )
        ids[vehicle.identifier] = int(created.scalar_one())
    await insert_fixes(connection, {v.identifier: v.fixes for v in vehicles}, ids)
    return ids


async def make_room(connection: AsyncConnection, moments: Iterable[datetime]) -> None:
    """Room for positions at these moments, in the tenant's storage (partitions or chunks)."""
    setting = await connection.scalar(text("SELECT storage FROM _fleet_settings"))
    storage = IMPLEMENTATIONS[str(setting)]
    await storage.prepare_weeks(connection, {week_of(moment) for moment in moments})


async def insert_fixes(
    connection: AsyncConnection, fixes: Mapping[str, Sequence[Fix]], ids: Mapping[str, int]
) -> None:
    await make_room(connection, (fix.time for track in fixes.values() for fix in track))
    rows = [_fix_row(ids[identifier], fix) for identifier, track in fixes.items() for fix in track]
    if rows:
        await connection.execute(
            text(f"INSERT INTO fleet_positions ({_COLUMNS}) VALUES ({_VALUES})"), rows
        )
    latest = [
        _fix_row(ids[identifier], max(track, key=lambda fix: fix.time))
        for identifier, track in fixes.items()
        if track
    ]
    if latest:
        await connection.execute(
            text(
                f"INSERT INTO fleet_latest ({_COLUMNS}, server_time) VALUES ({_VALUES}, now()) "
                "ON CONFLICT (vehicle_id) DO UPDATE SET device_time = excluded.device_time, "
                "latitude = excluded.latitude, longitude = excluded.longitude, "
                "speed = excluded.speed, heading = excluded.heading "
                "WHERE excluded.device_time > fleet_latest.device_time"
            ),
            latest,
        )


def add_fleet(database: PostgresURL, tenant: Tenant, vehicles: Sequence[Vehicle]) -> dict[str, int]:
    """Insert vehicles with their positions in one tenant transaction; returns their ids."""
    with FleetDatabase(database) as fleet:
        return fleet.add_vehicles(tenant, vehicles)
