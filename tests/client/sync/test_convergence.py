"""Replicas that wrote concurrently, offline or not, end with the server's records, field by
field as the protocol's conflict rules say."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.client.conftest import Connect
from tests.client.sync.helpers import server_records, synced
from tests.support.proxy import FaultyProxy, Mode
from tests.support.servers import ServedApp
from webhost.client import LocalCollection, WebHostClient


async def shared_record(connect: Connect, replicas: list[Path], record: dict[str, Any]) -> None:
    """The record on the server and in every replica, all in step."""
    async with connect() as admin:
        await admin.rest.define_collection("tasks", "id")
        await admin.rest.records("tasks").create(record)
    for replica in replicas:
        async with connect(replica=replica) as client:
            await client.replicate("tasks")
            await synced(client)


async def offline_edit(connect: Connect, replica: Path, edit: Any) -> None:
    async with connect(replica=replica, sync=False) as client:
        await edit(client.collection("tasks"))


async def come_online(connect: Connect, replicas: list[Path]) -> list[list[dict[str, Any]]]:
    """Each replica pushes in turn; then every one pulls what the others pushed."""
    for replica in replicas:
        async with connect(replica=replica) as client:
            await synced(client)
    seen = []
    for replica in replicas:
        async with connect(replica=replica) as client:
            await synced(client)
            seen.append(await client.collection("tasks").all())
    async with connect() as admin:
        seen.append(await server_records(admin, "tasks"))
    return seen


def test_edits_of_different_fields_both_stay(connect: Connect, tmp_path: Path) -> None:
    ann, bob = tmp_path / "ann.db", tmp_path / "bob.db"

    async def scenario() -> list[list[dict[str, Any]]]:
        await shared_record(connect, [ann, bob], {"id": "t", "title": "Draft", "done": False})
        await offline_edit(connect, ann, lambda tasks: tasks.update("t", {"title": "Final"}))
        await offline_edit(connect, bob, lambda tasks: tasks.update("t", {"done": True}))
        return await come_online(connect, [ann, bob])

    expected = [{"id": "t", "title": "Final", "done": True}]
    assert asyncio.run(scenario()) == [expected, expected, expected]


@pytest.mark.parametrize("first_online", ["earlier writer", "later writer"])
def test_one_field_ends_with_the_later_write_everywhere(
    connect: Connect, tmp_path: Path, first_online: str
) -> None:
    ann, bob = tmp_path / "ann.db", tmp_path / "bob.db"

    async def scenario() -> list[list[dict[str, Any]]]:
        await shared_record(connect, [ann, bob], {"id": "t", "title": "Draft"})
        await offline_edit(connect, ann, lambda tasks: tasks.update("t", {"title": "Ann's"}))
        await offline_edit(connect, bob, lambda tasks: tasks.update("t", {"title": "Bob's"}))
        order = [ann, bob] if first_online == "earlier writer" else [bob, ann]
        return await come_online(connect, order)

    seen = asyncio.run(scenario())
    assert seen == [[{"id": "t", "title": "Bob's"}]] * 3


@pytest.mark.parametrize("first_online", ["deleter", "updater"])
def test_a_delete_beats_a_concurrent_update(
    connect: Connect, tmp_path: Path, first_online: str
) -> None:
    ann, bob = tmp_path / "ann.db", tmp_path / "bob.db"

    async def scenario() -> list[list[dict[str, Any]]]:
        await shared_record(connect, [ann, bob], {"id": "t", "title": "Draft"})
        await offline_edit(connect, ann, lambda tasks: tasks.delete("t"))
        # the update is made after the delete, and still loses: it cannot bring a record back
        await offline_edit(connect, bob, lambda tasks: tasks.update("t", {"title": "Kept?"}))
        order = [ann, bob] if first_online == "deleter" else [bob, ann]
        return await come_online(connect, order)

    assert asyncio.run(scenario()) == [[], [], []]


def test_a_put_after_a_delete_brings_the_record_back(connect: Connect, tmp_path: Path) -> None:
    ann, bob = tmp_path / "ann.db", tmp_path / "bob.db"

    async def scenario() -> list[list[dict[str, Any]]]:
        await shared_record(connect, [ann, bob], {"id": "t", "title": "Draft", "done": False})
        await offline_edit(connect, ann, lambda tasks: tasks.delete("t"))
        await offline_edit(connect, bob, lambda tasks: tasks.put({"id": "t", "title": "New"}))
        return await come_online(connect, [bob, ann])

    assert asyncio.run(scenario()) == [[{"id": "t", "title": "New"}]] * 3


# -- generated interleavings ---------------------------------------------------------------

KEYS = ["k1", "k2", "k3"]
FIELDS = ["a", "b", "c"]
operations = st.lists(
    st.tuples(
        st.sampled_from([0, 1]),
        st.sampled_from(["put", "update", "delete", "offline", "online"]),
        st.sampled_from(KEYS),
        st.dictionaries(st.sampled_from(FIELDS), st.integers(0, 9), min_size=1, max_size=2),
    ),
    min_size=1,
    max_size=25,
)
collection_names = (f"mix{n}" for n in itertools.count())


async def write(tasks: LocalCollection, op: str, key: str, fields: dict[str, int]) -> None:
    exists = await tasks.get(key) is not None
    if op == "put":
        await tasks.put({"id": key, **fields})
    elif op == "update" and exists:
        await tasks.update(key, fields)
    elif op == "delete" and exists:
        await tasks.delete(key)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations)
def test_any_interleaving_of_two_replicas_converges(
    connect: Connect, data_server: ServedApp, steps: list[tuple[int, str, str, dict[str, int]]]
) -> None:
    name = next(collection_names)
    proxies = [FaultyProxy(data_server.port).start() for _ in range(2)]

    async def scenario() -> list[list[dict[str, Any]]]:
        async with connect() as admin:
            await admin.rest.define_collection(name, "id")
            clients: list[WebHostClient] = [
                connect(api_url=proxy.url, sync_url=proxy.ws_url) for proxy in proxies
            ]
            async with clients[0], clients[1]:
                replicas = [await client.replicate(name, schema="id") for client in clients]
                for side, op, key, fields in steps:
                    if op in ("offline", "online"):
                        proxies[side].switch(Mode.OFFLINE if op == "offline" else Mode.PASS)
                    else:
                        await write(replicas[side], op, key, fields)
                for proxy in proxies:
                    proxy.switch(Mode.PASS)
                await synced(*clients)
                await synced(*clients)
                return [
                    await replicas[0].all(),
                    await replicas[1].all(),
                    sorted(await admin.rest.records(name).list(), key=lambda r: str(r["id"])),
                ]

    try:
        first, second, server = asyncio.run(scenario())
    finally:
        for proxy in proxies:
            proxy.stop()
    assert first == server
    assert second == server
