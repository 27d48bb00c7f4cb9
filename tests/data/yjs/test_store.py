from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asyncpg import PostgresError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.data.yjs.documents import loaded, text_edits, text_of
from tests.data.yjs.storage import read_stored, refusing_updates
from tests.support.database import ProvisionedTenant
from webhost.data.yjs.store import DocumentStore, DocumentWrite
from webhost.db.engine import create_engine
from webhost.db.urls import PostgresURL


def run_with_store(database: PostgresURL, scenario: Any, *, pool_size: int = 2) -> Any:
    async def run() -> Any:
        engine = create_engine(database, pool_size=pool_size)
        store = DocumentStore(engine, database)
        try:
            return await scenario(store)
        finally:
            await store.close()
            await engine.dispose()

    return asyncio.run(run())


def write(tenant: ProvisionedTenant, document: str, *values: str) -> DocumentWrite:
    return DocumentWrite(tenant.tenant, document, text_edits(*values))


def test_one_append_stores_many_documents_of_many_tenants_each_in_its_own_schema(
    dataplane_database: PostgresURL, tenant: ProvisionedTenant, other_tenant: ProvisionedTenant
) -> None:
    writes = [
        write(tenant, "notes", "a", "b"),
        write(other_tenant, "notes", "theirs"),
        write(tenant, "todo", "c"),
    ]

    last_seqs = run_with_store(dataplane_database, lambda store: store.append(writes))

    assert len(last_seqs) == 3
    assert read_stored(dataplane_database, tenant.tenant, "notes").text == "ab"
    assert read_stored(dataplane_database, tenant.tenant, "todo").text == "c"
    assert read_stored(dataplane_database, other_tenant.tenant, "notes").text == "theirs"
    mine = read_stored(dataplane_database, tenant.tenant, "notes")
    assert last_seqs[0] > 0
    assert len(mine.updates) == 2


def test_a_group_append_is_all_or_nothing(
    dataplane_database: PostgresURL, tenant: ProvisionedTenant, other_tenant: ProvisionedTenant
) -> None:
    with refusing_updates(dataplane_database, other_tenant.tenant), pytest.raises(PostgresError):
        run_with_store(
            dataplane_database,
            lambda store: store.append(
                [write(tenant, "atomic", "mine"), write(other_tenant, "atomic", "theirs")]
            ),
        )
    assert read_stored(dataplane_database, tenant.tenant, "atomic").updates == []


def test_compaction_replaces_the_log_with_the_snapshot_and_keeps_what_it_carries(
    dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    first, second, third = text_edits("a", "b", "c")

    async def scenario(store: DocumentStore) -> tuple[int, int]:
        (through,) = await store.append([DocumentWrite(tenant.tenant, "notes", [first, second])])
        (after,) = await store.append([DocumentWrite(tenant.tenant, "notes", [third])])
        # the snapshot holds "ab"; an update it could not hold yet is carried over
        carried = await store.compact(
            tenant.tenant, "notes", loaded(first, second).get_update(), through, [b"\x00\x00"]
        )
        return after, carried

    after, carried = run_with_store(dataplane_database, scenario)

    stored = read_stored(dataplane_database, tenant.tenant, "notes")
    assert text_of(loaded(stored.snapshot or b"")) == "ab"
    assert stored.updates == [third, b"\x00\x00"]  # newer rows are untouched
    assert stored.text == "abc"
    assert carried > after


def test_a_load_sees_a_compaction_whole_or_not_at_all(
    dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    edits = text_edits(*(f"{n}," for n in range(60)))
    expected = "".join(f"{n}," for n in range(60))

    async def scenario(store: DocumentStore) -> list[str]:
        seqs = [
            (await store.append([DocumentWrite(tenant.tenant, "race", [edit])]))[0]
            for edit in edits
        ]
        seen = []

        async def compact_repeatedly() -> None:
            for count in range(5, 61, 5):
                snapshot = loaded(*edits[:count]).get_update()
                await store.compact(tenant.tenant, "race", snapshot, seqs[count - 1], [])

        async def load_repeatedly() -> None:
            for _ in range(40):
                stored = await store.load(tenant.tenant, "race")
                chunks = [stored.snapshot] if stored.snapshot else []
                seen.append(text_of(loaded(*chunks, *stored.updates)))
                await asyncio.sleep(0)

        await asyncio.gather(compact_repeatedly(), load_repeatedly())
        return seen

    for text in run_with_store(dataplane_database, scenario, pool_size=4):
        assert text == expected


@settings(
    deadline=None, max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.binary(min_size=1, max_size=300), min_size=1, max_size=30))
def test_whatever_bytes_are_appended_come_back_in_order(
    dataplane_database: PostgresURL, tenant: ProvisionedTenant, updates: list[bytes]
) -> None:
    async def scenario(store: DocumentStore) -> list[bytes]:
        await store.append([DocumentWrite(tenant.tenant, "bytes\x7f'\"", updates)])
        stored = await store.load(tenant.tenant, "bytes\x7f'\"")
        await store.compact(tenant.tenant, "bytes\x7f'\"", b"\x00\x00", stored.last_seq, [])
        return stored.updates

    assert run_with_store(dataplane_database, scenario) == updates
