"""Which real failures mean "the database cannot be reached" (busy, send again) and which are
the database refusing a statement."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from sqlalchemy import text

from tests.support.database import execute_pooled
from tests.support.servers import free_port
from webhost.db import admin
from webhost.db.engine import create_engine
from webhost.db.failures import storage_unavailable
from webhost.db.urls import PostgresURL


def raised(work: Callable[[], Awaitable[Any]]) -> BaseException:
    async def run() -> BaseException:
        try:
            await work()
        except Exception as error:
            return error
        raise AssertionError("nothing was raised")

    return asyncio.run(run())


def test_a_server_that_refuses_connections_is_unavailable(postgres_server: PostgresURL) -> None:
    nowhere = PostgresURL.parse(f"postgresql://postgres@127.0.0.1:{free_port()}/postgres")
    assert storage_unavailable(raised(lambda: admin.connect(nowhere)))
    assert storage_unavailable(raised(lambda: execute_pooled(nowhere, "SELECT 1")))


def test_a_connection_the_server_ended_is_unavailable(dataplane_database: PostgresURL) -> None:
    async def terminated() -> None:
        victim = await admin.connect(dataplane_database)
        killer = await admin.connect(dataplane_database)
        try:
            await killer.execute("SELECT pg_terminate_backend($1)", victim.get_server_pid())
            await asyncio.sleep(0.1)
            await victim.execute("SELECT 1")
        finally:
            await killer.close()
            victim.terminate()

    async def terminated_in_the_pool() -> None:
        engine = create_engine(dataplane_database, pool_size=1)
        killer = await admin.connect(dataplane_database)
        try:
            async with engine.connect() as connection:
                pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar()
                await killer.execute("SELECT pg_terminate_backend($1)", pid)
                await asyncio.sleep(0.1)
                await connection.execute(text("SELECT 1"))
        finally:
            await killer.close()
            await engine.dispose()

    assert storage_unavailable(raised(terminated))
    assert storage_unavailable(raised(terminated_in_the_pool))


def test_a_statement_the_database_refuses_is_not_unavailability(
    dataplane_database: PostgresURL,
) -> None:
    async def on_the_driver() -> None:
        connection = await admin.connect(dataplane_database)
        try:
            await connection.execute("SELECT 1 / 0")
        finally:
            await connection.close()

    refused = raised(on_the_driver)
    assert isinstance(refused, asyncpg.DivisionByZeroError)
    assert not storage_unavailable(refused)
    bad_cast = raised(lambda: execute_pooled(dataplane_database, "SELECT CAST('x' AS integer)"))
    assert not storage_unavailable(bad_cast)
    assert not storage_unavailable(ValueError("not a database error"))
