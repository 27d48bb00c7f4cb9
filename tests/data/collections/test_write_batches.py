"""A batch of mutations through the write path: one refused mutation leaves the rest applied."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.data.collections.records import define
from tests.support.database import ProvisionedTenant
from tests.support.inspect import query
from webhost.data.collections.catalogue_service import Catalogue
from webhost.data.collections.tables import RecordTable
from webhost.data.collections.writes import Mutation, Outcome, RecordWriter
from webhost.data.tenancy.scope import tenant_transaction
from webhost.db.engine import create_engine
from webhost.db.urls import PostgresURL


def write_each(
    database: PostgresURL, tenant: ProvisionedTenant, collection: str, batch: list[dict[str, Any]]
) -> list[Outcome]:
    async def run() -> list[Outcome]:
        engine = create_engine(database, pool_size=1)
        try:
            async with tenant_transaction(engine, tenant.tenant) as connection:
                stored = await Catalogue().require(connection, tenant.tenant, collection)
                table = RecordTable(tenant.tenant, stored)
                mutations = [Mutation(table, **fields) for fields in batch]
                return await RecordWriter().write_each(connection, tenant.tenant, mutations)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_a_unique_clash_rejects_only_its_own_mutation(
    client: httpx.Client, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    define(client, "users", "id, &email")
    client.post("/v1/collections/users/records", json={"id": "taken", "email": "a@x"})
    outcomes = write_each(
        dataplane_database,
        tenant,
        "users",
        [
            {"kind": "put", "key": "u1", "values": {"email": "b@x"}},
            {"kind": "put", "key": "u2", "values": {"email": "a@x"}},
            {"kind": "update", "key": "taken", "values": {"name": "T"}},
            {"kind": "delete", "key": "never-seen"},
        ],
    )
    assert [outcome.status for outcome in outcomes] == ["applied", "rejected", "applied", "applied"]
    error = outcomes[1].error
    assert error is not None
    assert "unique index '&email'" in error.message
    revisions = [outcome.revision for outcome in outcomes if outcome.revision is not None]
    assert revisions == sorted(revisions)
    assert len(set(revisions)) == 3
    listed = client.get("/v1/collections/users/records", params={"order": "id"}).json()
    assert listed == [
        {"id": "taken", "email": "a@x", "name": "T"},
        {"id": "u1", "email": "b@x"},
    ]
    (tombstone,) = query(
        dataplane_database,
        f'SELECT deleted_at IS NOT NULL FROM "{tenant.tenant.name}".c_users '
        "WHERE pk = '\"never-seen\"'",
    )
    assert tombstone == (True,)


def test_a_stale_write_changes_nothing_and_takes_no_revision(
    client: httpx.Client, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    define(client, "notes", "id")
    client.post("/v1/collections/notes/records", json={"id": "n", "text": "new"})
    (stale,) = write_each(
        dataplane_database,
        tenant,
        "notes",
        [
            {
                "kind": "update",
                "key": "n",
                "values": {"text": "old"},
                "stamp_hint": "0" * 15 + "1",
                "client_id": "offline",
            }
        ],
    )
    assert (stale.status, stale.revision) == ("unchanged", None)
    assert client.get("/v1/collections/notes/records/n").json() == {"id": "n", "text": "new"}
