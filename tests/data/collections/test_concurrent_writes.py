"""Two transactions that create the same new key at once: the second merges into the first's
record instead of overwriting it, and REST's create still answers 409 to the loser."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tests.data.collections.records import define
from tests.support.database import ProvisionedTenant
from webhost.data.collections.catalogue_service import Catalogue
from webhost.data.collections.tables import RecordTable
from webhost.data.collections.writes import Mutation, Outcome, RecordWriter
from webhost.data.tenancy.scope import tenant_transaction
from webhost.db.engine import create_engine
from webhost.db.urls import PostgresURL
from webhost.errors import Conflict

Write = Callable[[AsyncConnection, RecordTable], Awaitable[list[Outcome]]]


async def _waiting_on_a_lock(engine: AsyncEngine, pid: int) -> bool:
    async with engine.connect() as connection:
        waiting = await connection.execute(
            text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"),
            {"pid": pid},
        )
        return bool(waiting.scalar())


def race(
    database: PostgresURL, tenant: ProvisionedTenant, collection: str, first: Write, second: Write
) -> tuple[list[Outcome], list[Outcome]]:
    """``first`` writes and stays uncommitted until ``second`` waits on it; then both finish."""

    async def run() -> tuple[list[Outcome], list[Outcome]]:
        engine = create_engine(database, pool_size=3)
        try:
            second_pid: asyncio.Future[int] = asyncio.get_running_loop().create_future()

            async def run_second() -> list[Outcome]:
                async with tenant_transaction(engine, tenant.tenant) as connection:
                    pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar()
                    second_pid.set_result(int(pid or 0))
                    table = await _table(connection, tenant, collection)
                    return await second(connection, table)

            async with tenant_transaction(engine, tenant.tenant) as connection:
                outcomes = await first(connection, await _table(connection, tenant, collection))
                task = asyncio.create_task(run_second())
                pid = await second_pid
                for _ in range(500):
                    if await _waiting_on_a_lock(engine, pid):
                        break
                    await asyncio.sleep(0.01)
                else:
                    raise AssertionError("the second transaction never waited on the first")
            return outcomes, await task
        finally:
            await engine.dispose()

    return asyncio.run(run())


async def _table(connection: AsyncConnection, tenant: ProvisionedTenant, name: str) -> RecordTable:
    return RecordTable(tenant.tenant, await Catalogue().require(connection, tenant.tenant, name))


def mutation_write(writer: RecordWriter, **fields: Any) -> Write:
    async def write(connection: AsyncConnection, table: RecordTable) -> list[Outcome]:
        return await writer.write_each(connection, table.tenant, [Mutation(table, **fields)])

    return write


def test_an_update_racing_a_create_merges_into_it(
    client: httpx.Client, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    define(client, "notes", "id")
    writer = RecordWriter()
    created, updated = race(
        dataplane_database,
        tenant,
        "notes",
        mutation_write(
            writer,
            kind="put",
            key="k",
            values={"title": "first"},
            stamp_hint="0000000000010000",
            client_id="a",
        ),
        mutation_write(
            writer,
            kind="update",
            key="k",
            values={"body": "second"},
            stamp_hint="0000000000020000",
            client_id="b",
        ),
    )
    assert [outcome.status for outcome in created] == ["applied"]
    assert [outcome.status for outcome in updated] == ["applied"]
    assert updated[0].revision is not None
    assert created[0].revision is not None
    assert updated[0].revision > created[0].revision
    assert client.get("/v1/collections/notes/records/k").json() == {
        "id": "k",
        "title": "first",
        "body": "second",
    }


def test_a_create_racing_a_create_of_the_same_key_is_refused(
    client: httpx.Client, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    define(client, "users", "id")
    writer = RecordWriter()

    def create(name: str) -> Write:
        async def write(connection: AsyncConnection, table: RecordTable) -> list[Outcome]:
            mutation = Mutation(table, "insert", "ann", {"name": name}, expect="absent")
            return await writer.write(connection, table.tenant, [mutation])

        return write

    first, second = race(dataplane_database, tenant, "users", create("first"), create("second"))
    assert [outcome.status for outcome in first] == ["applied"]
    assert second[0].status == "rejected"
    assert isinstance(second[0].error, Conflict)
    assert client.get("/v1/collections/users/records/ann").json() == {"id": "ann", "name": "first"}
