"""What a replica holds: all of a collection or a filtered part, pulled in pages, kept right as
records enter and leave its scope, started over when the server says so."""

from __future__ import annotations

import asyncio

from tests.client.conftest import Connect
from tests.client.sync.helpers import shows, synced
from tests.support.database import ProvisionedTenant


def test_a_first_sync_of_many_records_comes_in_pages(connect: Connect) -> None:
    count = 2500

    async def scenario() -> None:
        async with connect() as writer:
            await writer.rest.define_collection("readings", "@id, sensor")
            readings = await writer.replicate("readings")
            for start in range(0, count, 250):
                async with writer.transaction() as tx:
                    for n in range(start, start + 250):
                        tx.insert("readings", {"sensor": n % 7, "value": n})
            await synced(writer)
            assert writer.status.pending == 0
            written = await readings.all()
        async with connect(pull_limit=300) as reader:
            pulled = await reader.replicate("readings")
            await synced(reader)
            assert reader.status.pulled_pages >= count // 300
            assert await pulled.all() == written
            assert len(written) == count

    asyncio.run(scenario())


def test_a_filtered_scope_follows_records_in_and_out(connect: Connect) -> None:
    async def scenario() -> None:
        async with connect() as admin, connect() as device:
            await admin.rest.define_collection("tasks", "id, projectId, done")
            rest = admin.rest.records("tasks")
            await rest.create({"id": "a", "projectId": 1, "done": False})
            await rest.create({"id": "b", "projectId": 2, "done": False})
            await rest.create({"id": "c", "projectId": 1, "done": True})
            tasks = await device.replicate("tasks", filter="projectId=eq.1&done=is.false")
            await synced(device)
            assert await tasks.all() == [{"id": "a", "projectId": 1, "done": False}]

            await rest.patch("b", {"projectId": 1})  # enters the scope
            await shows(
                tasks,
                [
                    {"id": "a", "projectId": 1, "done": False},
                    {"id": "b", "projectId": 1, "done": False},
                ],
            )
            await rest.patch("a", {"done": True})  # leaves it
            await shows(tasks, [{"id": "b", "projectId": 1, "done": False}])

            # a new filter starts the collection over, keeping only what it matches
            tasks = await device.replicate("tasks", filter="done=is.true")
            await synced(device)
            assert [task["id"] for task in await tasks.all()] == ["a", "c"]

    asyncio.run(scenario())


def test_local_writes_leaving_the_scope_leave_the_replica_once_synced(connect: Connect) -> None:
    async def scenario() -> None:
        async with connect() as admin, connect() as device:
            await admin.rest.define_collection("tasks", "id, projectId")
            tasks = await device.replicate("tasks", filter="projectId=eq.1")
            await tasks.insert({"id": "mine", "projectId": 1})
            await synced(device)
            await tasks.update("mine", {"projectId": 2})
            await synced(device)
            assert await tasks.all() == []
            assert await admin.rest.records("tasks").get("mine") == {"id": "mine", "projectId": 2}

    asyncio.run(scenario())


def test_a_cursor_the_server_cannot_serve_starts_over(
    connect: Connect, other_tenant: ProvisionedTenant, replica_file: object
) -> None:
    """A replica moved to a server restored from an older backup (here: another tenant with
    fewer changes) holds a cursor ahead of the server: the server resets the collection, and
    the replica keeps only the server's records and its own unpushed writes."""

    async def scenario() -> None:
        async with connect(replica=replica_file) as device:
            await device.rest.define_collection("notes", "id")
            notes = await device.replicate("notes", schema="id")
            for n in range(20):
                await notes.put({"id": f"old{n}"})
            await synced(device)
        async with connect(api_key=other_tenant.api_key) as restored:
            await restored.rest.define_collection("notes", "id")
            await restored.rest.records("notes").create({"id": "restored"})
        async with connect(
            replica=replica_file, api_key=other_tenant.api_key, sync=False
        ) as device:
            await device.collection("notes").put({"id": "unpushed"})
        async with connect(replica=replica_file, api_key=other_tenant.api_key) as device:
            await synced(device)
            assert device.status.resets >= 1
            assert [n["id"] for n in await device.collection("notes").all()] == [
                "restored",
                "unpushed",
            ]

    asyncio.run(scenario())
