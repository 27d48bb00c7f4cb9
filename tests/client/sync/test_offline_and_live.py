"""A replica works offline, pushes once it can, and hears of other writers at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.client.conftest import Connect
from tests.client.sync.helpers import SYNC_SECONDS, server_records, shows, synced
from tests.support.polling import eventually
from tests.support.proxy import FaultyProxy, Mode
from tests.support.servers import ServedApp
from webhost.client import Rejection


def test_offline_writes_reach_the_server_once_it_is_reachable(
    connect: Connect, data_server: ServedApp
) -> None:
    proxy = FaultyProxy(data_server.port).start()
    proxy.switch(Mode.OFFLINE)

    async def scenario() -> None:
        async with connect() as admin:
            await admin.rest.define_collection("tasks", "@id, projectId, done")
            async with connect(api_url=proxy.url, sync_url=proxy.ws_url) as device:
                tasks = await device.replicate("tasks", schema="@id, projectId, done")
                first = await tasks.insert({"title": "Write docs", "projectId": 42, "done": False})
                second = await tasks.insert({"title": "Review", "projectId": 42, "done": False})
                await tasks.update(first, {"done": True})
                await tasks.delete(second)
                assert await tasks.all() == [
                    {"id": first, "title": "Write docs", "projectId": 42, "done": True}
                ]
                assert device.status.pending == 4

                async def failed() -> str | None:
                    return device.status.last_error

                await eventually(failed, message="a failed attempt to reach the server")
                assert not device.status.live
                assert await server_records(admin, "tasks") == []

                proxy.switch(Mode.PASS)
                await asyncio.wait_for(device.synced(), SYNC_SECONDS)
                assert device.status.pending == 0
                assert await server_records(admin, "tasks") == await tasks.all()

    try:
        asyncio.run(scenario())
    finally:
        proxy.stop()


def test_writes_through_rest_reach_a_live_replica_without_asking(connect: Connect) -> None:
    async def scenario() -> None:
        async with connect() as admin, connect() as device:
            await admin.rest.define_collection("notes", "id, topic")
            notes = await device.replicate("notes")  # the schema comes from the server
            assert notes.primary_key == "id"
            await synced(device)
            await admin.rest.records("notes").create({"id": "n1", "topic": "sync"})
            await shows(notes, [{"id": "n1", "topic": "sync"}])
            await admin.rest.records("notes").patch("n1", {"topic": "live"})
            await shows(notes, [{"id": "n1", "topic": "live"}])
            await admin.rest.records("notes").delete("n1")
            await shows(notes, [])
            assert device.status.live

    asyncio.run(scenario())


def test_a_rejected_write_is_reported_and_the_server_copy_shown(connect: Connect) -> None:
    heard: list[Rejection] = []

    async def scenario() -> None:
        async with connect() as admin:
            await admin.rest.define_collection("users", "id, &email")
            await admin.rest.records("users").create({"id": "ann", "email": "a@example.com"})
            async with connect(on_rejection=heard.append) as device:
                users = await device.replicate("users")
                await synced(device)
                await users.insert({"id": "bob", "email": "a@example.com"})
                await users.update("ann", {"name": "Ann"})
                await synced(device)
                assert [r.key for r in device.status.rejections] == ["bob"]
                rejection = device.status.rejections[0]
                assert rejection.code == "conflict"
                assert "unique index '&email'" in rejection.message
                assert rejection.record is None
                assert heard == [rejection]
                assert await users.all() == [{"id": "ann", "email": "a@example.com", "name": "Ann"}]
                assert await server_records(admin, "users") == await users.all()

    asyncio.run(scenario())


def test_the_client_id_and_the_outbox_survive_a_restart(
    connect: Connect, replica_file: Path
) -> None:
    async def scenario() -> None:
        async with connect() as admin:
            await admin.rest.define_collection("notes", "id")
        async with connect(sync=False, replica=replica_file) as offline:
            notes = await offline.replicate("notes", schema="id")
            await notes.put({"id": "kept", "text": "written offline"})
            client_id = offline.client_id
        async with connect(replica=replica_file) as online:
            assert online.client_id == client_id
            await asyncio.wait_for(online.synced(), SYNC_SECONDS)
            assert await server_records(online, "notes") == [
                {"id": "kept", "text": "written offline"}
            ]

    asyncio.run(scenario())
