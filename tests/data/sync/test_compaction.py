"""Compaction: expired tombstones and txids go, the horizon rises, and only the cursors it
left behind start over."""

from __future__ import annotations

import asyncio

import httpx

from tests.data.collections.records import define
from tests.data.sync.syncing import Replica, mutation, push, transaction
from tests.support.database import ProvisionedTenant
from tests.support.inspect import query
from webhost.data.sync.compaction import Compacted, compact_tenant
from webhost.db.engine import create_engine
from webhost.db.urls import PostgresURL

DAY = 24 * 3600


def compact(database: PostgresURL, tenant: ProvisionedTenant, *, batch: int = 5000) -> Compacted:
    async def run() -> Compacted:
        engine = create_engine(database, pool_size=1)
        try:
            return await compact_tenant(engine, tenant.tenant, 30 * DAY, batch=batch)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def age(database: PostgresURL, tenant: ProvisionedTenant, statement: str) -> None:
    query(database, statement.replace("{schema}", f'"{tenant.tenant.name}"'))


def test_expired_tombstones_go_and_old_cursors_start_over(
    client: httpx.Client, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    define(client, "notes", "id")
    push(client, transaction(*[mutation("notes", "insert", f"n{n}", {"n": n}) for n in range(12)]))
    stale = Replica(client, "notes").sync()
    push(client, transaction(*[mutation("notes", "delete", f"n{n}") for n in range(7)]))
    current = Replica(client, "notes").sync()
    age(
        dataplane_database,
        tenant,
        "UPDATE {schema}.c_notes SET deleted_at = now() - interval '31 days' "
        "WHERE deleted_at IS NOT NULL",
    )
    age(
        dataplane_database,
        tenant,
        "UPDATE {schema}._sync_transactions SET applied_at = now() - interval '31 days'",
    )
    done = compact(dataplane_database, tenant, batch=3)
    assert done.tombstones == 7
    assert done.transactions == 2
    rows = query(
        dataplane_database,
        f'SELECT count(*) FROM "{tenant.tenant.name}".c_notes WHERE deleted_at IS NOT NULL',
    )
    assert rows == [(0,)]
    horizon = client.get("/v1/sync").json()["horizon"]
    assert horizon > 0
    current.sync()
    assert current.resets == 1  # its cursor is past the horizon: nothing to start over
    stale.sync()
    assert stale.resets == 2
    assert sorted(stale.records) == sorted(current.records) == sorted(f"n{n}" for n in range(7, 12))


def test_young_tombstones_stay(
    client: httpx.Client, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    define(client, "notes", "id")
    push(client, transaction(mutation("notes", "insert", "a", {"n": 1})))
    push(client, transaction(mutation("notes", "delete", "a")))
    assert compact(dataplane_database, tenant) == Compacted(0, 0)
    assert client.get("/v1/sync").json()["horizon"] == 0
