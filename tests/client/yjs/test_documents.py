"""Yjs documents through the client: edits both ways, and offline edits kept and sent later."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from pycrdt import Map, Text

from tests.client.conftest import Connect
from tests.data.yjs.peers import WirePeer
from tests.support.database import ProvisionedTenant
from tests.support.polling import eventually
from tests.support.servers import ServedApp
from webhost.client import SharedDocument


def text_of(document: SharedDocument) -> str:
    return str(document.doc.get("notes", type=Text))


async def shows(document: SharedDocument, expected: str) -> None:
    async def check() -> bool:
        return text_of(document) == expected

    await eventually(check, message=f"text {expected!r}, have {text_of(document)!r}")


def test_edits_travel_both_ways(connect: Connect) -> None:
    async def scenario() -> None:
        async with connect(sync=False) as ann, connect(sync=False) as bob:
            at_ann = await ann.yjs("plan")
            at_bob = await bob.yjs("plan")
            await asyncio.wait_for(at_ann.synced(), 20)
            await asyncio.wait_for(at_bob.synced(), 20)
            at_ann.doc.get("notes", type=Text).insert(0, "hello")
            await shows(at_bob, "hello")
            at_bob.doc.get("notes", type=Text).insert(5, " world")
            meta = at_bob.doc.get("meta", type=Map)
            meta["author"] = "bob"
            await shows(at_ann, "hello world")
            assert at_ann.doc.get("meta", type=Map).to_py() == {"author": "bob"}

    asyncio.run(scenario())


def test_a_flushed_edit_is_stored_for_newcomers(
    connect: Connect, data_server: ServedApp, tenant: ProvisionedTenant
) -> None:
    async def scenario() -> None:
        async with connect(sync=False) as client:
            document = await client.yjs("stored")
            document.doc.get("notes", type=Text).insert(0, "kept by the server")
            await asyncio.wait_for(document.flushed(), 20)

    asyncio.run(scenario())
    # a stock y-websocket peer, not this client, reads what the server stored
    with WirePeer.connect(data_server.ws_url, "stored", tenant.api_key) as peer:
        peer.wait_synced()
        assert peer.shared_text("notes") == "kept by the server"


def test_offline_edits_survive_a_restart_and_sync_on_reconnect(
    connect: Connect, unreachable_url: str, replica_file: Path
) -> None:
    async def edit_offline(text: str) -> None:
        async with connect(sync=False, sync_url=unreachable_url, replica=replica_file) as device:
            document = await device.yjs("journal")
            document.doc.get("notes", type=Text).insert(len(text_of(document)), text)
            assert not document.connected

    async def edit_online_meanwhile() -> None:
        async with connect(sync=False) as other:
            document = await other.yjs("journal")
            await asyncio.wait_for(document.synced(), 20)
            document.doc.get("meta", type=Map)["from"] = "elsewhere"
            await asyncio.wait_for(document.flushed(), 20)

    async def reconnect() -> None:
        async with connect(sync=False, replica=replica_file) as device:
            document = await device.yjs("journal")
            assert text_of(document) == "first second"  # from the file, before any sync
            await asyncio.wait_for(document.synced(), 20)
            assert document.doc.get("meta", type=Map).to_py() == {"from": "elsewhere"}
            await asyncio.wait_for(document.flushed(), 20)
        async with connect(sync=False) as reader:
            fresh = await reader.yjs("journal", persist=False)
            await asyncio.wait_for(fresh.synced(), 20)
            assert text_of(fresh) == "first second"

    asyncio.run(edit_offline("first"))
    asyncio.run(edit_offline(" second"))
    asyncio.run(edit_online_meanwhile())
    asyncio.run(reconnect())


def test_stored_updates_are_folded(
    connect: Connect, unreachable_url: str, replica_file: Path
) -> None:
    async def edit(times: int) -> None:
        async with connect(sync=False, sync_url=unreachable_url, replica=replica_file) as device:
            document = await device.yjs("long")
            for _ in range(times):
                document.doc.get("notes", type=Text).insert(0, "x")

    async def reopened_text() -> str:
        async with connect(sync=False, sync_url=unreachable_url, replica=replica_file) as device:
            return text_of(await device.yjs("long"))

    asyncio.run(edit(450))
    with sqlite3.connect(replica_file) as replica:
        (rows,) = replica.execute("SELECT count(*) FROM yjs_updates").fetchone()
    assert rows <= 200
    assert asyncio.run(reopened_text()) == "x" * 450
