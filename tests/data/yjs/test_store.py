from __future__ import annotations

import asyncio
from itertools import zip_longest
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.data.yjs.documents import loaded, text_edits, text_of
from tests.data.yjs.storage import read_stored
from tests.support.database import ProvisionedTenant
from webhost.data.tenancy.scope import Tenant, tenant_transaction
from webhost.data.yjs import repository
from webhost.data.yjs.store import DocumentStore, UnfoldableDocument
from webhost.db.admin import quote_ident
from webhost.db.engine import create_engine
from webhost.db.urls import PostgresURL


def run_with_store(database: PostgresURL, scenario: Any, *, pool_size: int = 2) -> Any:
    async def run() -> Any:
        engine = create_engine(database, pool_size=pool_size)
        try:
            return await scenario(DocumentStore(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_compaction_folds_every_update_into_the_snapshot(
    dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    updates = text_edits("a", "b", "c")

    async def scenario(store: DocumentStore) -> tuple[int, list[bytes]]:
        await store.append(tenant.tenant, "notes", updates)
        folded = await store.compact(tenant.tenant, "notes")
        return folded, (await store.load(tenant.tenant, "notes")).chunks

    folded, chunks = run_with_store(dataplane_database, scenario)

    assert folded == 3
    assert len(chunks) == 1
    assert text_of(loaded(*chunks)) == "abc"
    stored = read_stored(dataplane_database, tenant.tenant, "notes")
    assert stored.updates == []
    assert stored.snapshot_seq > 0


def test_updates_appended_while_compacting_survive(
    dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    updates = text_edits(*(f"{n}," for n in range(40)))

    async def scenario(store: DocumentStore) -> list[bytes]:
        appends = [store.append(tenant.tenant, "race", [update]) for update in updates]
        compactions = [store.compact(tenant.tenant, "race") for _ in range(8)]
        # interleaved, so that compactions run while appends are in flight on other connections
        await asyncio.gather(
            *(job for pair in zip_longest(appends, compactions) for job in pair if job)
        )
        await store.compact(tenant.tenant, "race")
        return (await store.load(tenant.tenant, "race")).chunks

    chunks = run_with_store(dataplane_database, scenario, pool_size=6)

    assert text_of(loaded(*chunks)) == "".join(f"{n}," for n in range(40))


def test_documents_of_the_same_name_in_two_tenants_stay_apart(
    dataplane_database: PostgresURL, tenant: ProvisionedTenant, other_tenant: ProvisionedTenant
) -> None:
    async def scenario(store: DocumentStore) -> tuple[list[bytes], list[bytes]]:
        await store.append(tenant.tenant, "shared-name", text_edits("mine"))
        await store.compact(tenant.tenant, "shared-name")
        theirs = await store.load(other_tenant.tenant, "shared-name")
        return (await store.load(tenant.tenant, "shared-name")).chunks, theirs.chunks

    mine, theirs = run_with_store(dataplane_database, scenario)

    assert text_of(loaded(*mine)) == "mine"
    assert theirs == []


def insert_raw_update(database: PostgresURL, tenant: Tenant, document: str, raw: bytes) -> None:
    async def insert() -> None:
        engine = create_engine(database, pool_size=1)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        f"INSERT INTO {quote_ident(tenant.name)}._yjs_updates "
                        '(document, "update") VALUES (:document, :raw)'
                    ),
                    {"document": document, "raw": raw},
                )
        finally:
            await engine.dispose()

    asyncio.run(insert())


def test_a_failed_compaction_deletes_nothing(
    dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    run_with_store(
        dataplane_database, lambda store: store.append(tenant.tenant, "hurt", text_edits("kept"))
    )
    insert_raw_update(dataplane_database, tenant.tenant, "hurt", b"\x05not an update")

    with pytest.raises(UnfoldableDocument):
        run_with_store(dataplane_database, lambda store: store.compact(tenant.tenant, "hurt"))

    stored = read_stored(dataplane_database, tenant.tenant, "hurt")
    assert len(stored.updates) == 2
    assert stored.snapshot is None


def test_an_update_committed_during_a_compaction_is_not_folded_away(
    dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    early, late = text_edits("early ", "late")

    async def scenario(store: DocumentStore, engine: AsyncEngine) -> list[bytes]:
        # a writer takes its sequence number first but commits last
        async with tenant_transaction(engine, tenant.tenant) as slow_writer:
            await repository.lock_document(slow_writer, tenant.tenant, "slow", exclusive=False)
            await repository.insert_updates(slow_writer, tenant.tenant, "slow", [early])
            await store.append(tenant.tenant, "slow", [late])
            compaction = asyncio.create_task(store.compact(tenant.tenant, "slow"))
            await wait_for_lock_waiter_or(compaction, engine)
        await compaction
        return (await store.load(tenant.tenant, "slow")).chunks

    async def run() -> list[bytes]:
        engine = create_engine(dataplane_database, pool_size=3)
        try:
            return await scenario(DocumentStore(engine), engine)
        finally:
            await engine.dispose()

    assert text_of(loaded(*asyncio.run(run()))) == "early late"


async def wait_for_lock_waiter_or(task: asyncio.Task[int], engine: AsyncEngine) -> None:
    """Until the compaction either waits for an advisory lock or has finished without one."""
    while not task.done():
        async with engine.connect() as connection:
            waiting = await connection.scalar(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            )
        if waiting:
            return
        await asyncio.sleep(0.01)
