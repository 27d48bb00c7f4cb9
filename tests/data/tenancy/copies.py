"""Moving a tenant's data between databases in tests: transactions on either side, a target
provisioned as a move's steps make it, and a tenant filled with something of everything."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.tenancy import management
from webhost.data.tenancy.dump import dump_tenant
from webhost.data.tenancy.scope import Tenant
from webhost.db.engine import create_engine
from webhost.db.urls import PostgresURL

T = TypeVar("T")


def in_transaction(database: PostgresURL, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(database, pool_size=1)
        try:
            async with engine.begin() as connection:
                return await work(connection)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def between(source: PostgresURL, target: PostgresURL, work: Callable[..., Awaitable[T]]) -> T:
    async def run() -> T:
        engines = create_engine(source, pool_size=1), create_engine(target, pool_size=1)
        try:
            async with engines[0].begin() as reading, engines[1].begin() as writing:
                return await work(reading, writing)
        finally:
            for engine in engines:
                await engine.dispose()

    return asyncio.run(run())


def provision_copy_target(database: PostgresURL, tenant: Tenant) -> None:
    """The tenant made afresh in another database, as a move's target steps make it."""

    async def provision() -> None:
        engine = create_engine(database, pool_size=1)
        try:
            async with engine.begin() as connection:
                await management.ensure_role(connection, tenant.name)
                await management.ensure_tenant_schema(connection, tenant)
            await management.migrate_tenant(engine, tenant)
            async with engine.begin() as connection:
                await management.register_tenant(connection, tenant, None)
        finally:
            await engine.dispose()

    asyncio.run(provision())


def fill(client: Any) -> None:
    assert (
        client.put("/v1/collections/trips", json={"schema": "++id, vehicle, *tags"}).status_code
        == 201
    )
    for number in range(30):
        body = {"vehicle": f"TRK-{number % 4}", "tags": ["a", str(number)], "note": "é\u2603"}
        assert client.post("/v1/collections/trips/records", json=body).status_code == 201
    now = datetime.now(UTC)
    points = [
        {
            "vehicle": f"TRK-{n % 3}",
            "time": (now - timedelta(days=n)).isoformat(),
            "latitude": 52 + n / 100,
            "longitude": 13.4,
        }
        for n in range(20)  # three weeks: three partitions the target does not have yet
    ]
    assert client.post("/v1/fleet/positions", json=points).status_code == 200


def dump_of(database: PostgresURL, tenant: Tenant) -> bytes:
    async def read(connection: AsyncConnection) -> bytes:
        await connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return b"".join([chunk async for chunk in dump_tenant(connection, tenant)])

    return in_transaction(database, read)
