"""The local API on its own: writes show at once, wait in the outbox, survive a restart."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from webhost.client import RecordNotFound, WebHostClient
from webhost.client.hlc import is_stamp

ULID_ALPHABET = set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


def offline(replica: Path | str = ":memory:") -> WebHostClient:
    """A client that never reaches a server: its replica is all it has."""
    return WebHostClient(
        api_url="http://127.0.0.1:9", api_key="whs_live_x_y", replica=replica, sync=False
    )


def outbox_rows(replica: Path) -> list[dict[str, object]]:
    with sqlite3.connect(replica) as connection:
        connection.row_factory = sqlite3.Row
        rows = connection.execute("SELECT * FROM outbox ORDER BY position").fetchall()
    return [dict(row) for row in rows]


def test_writes_show_at_once_and_queue_in_order(replica_file: Path) -> None:
    async def scenario() -> list[object]:
        async with offline(replica_file) as client:
            tasks = await client.replicate("tasks", schema="@id, projectId, done")
            first = await tasks.insert({"title": "Write docs", "projectId": 42, "done": False})
            second = await tasks.insert({"title": "Review", "projectId": 7, "done": False})
            assert isinstance(first, str)
            assert len(first) == 26
            assert set(first) <= ULID_ALPHABET
            assert isinstance(second, str)
            assert first[:10] <= second[:10]  # the time part of a ULID comes first
            await tasks.update(first, {"done": True}, remove=["projectId"])
            await tasks.put({"id": second, "title": "Review again"})
            assert await tasks.get(first) == {"id": first, "title": "Write docs", "done": True}
            assert await tasks.get(second) == {"id": second, "title": "Review again"}
            assert await tasks.where(done=True) == [await tasks.get(first)]
            assert await tasks.where(lambda r: r["title"].startswith("Rev")) == [
                await tasks.get(second)
            ]
            await tasks.delete(first)
            assert await tasks.get(first) is None
            assert [r["id"] for r in await tasks.all()] == [second]
            return [first, second]

    first, second = asyncio.run(scenario())
    rows = outbox_rows(replica_file)
    assert [(row["op"], json.loads(str(row["key"]))) for row in rows] == [
        ("insert", first),
        ("insert", second),
        ("update", first),
        ("put", second),
        ("delete", first),
    ]
    assert len({row["txid"] for row in rows}) == 5  # each write its own transaction
    stamps = [str(row["stamp"]) for row in rows]
    assert all(is_stamp(stamp) for stamp in stamps)
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)
    assert json.loads(str(rows[2]["fields"])) == {"done": True}
    assert json.loads(str(rows[2]["removed"])) == ["projectId"]


def test_a_transaction_is_stored_whole_or_not_at_all(replica_file: Path) -> None:
    async def scenario() -> None:
        async with offline(replica_file) as client:
            notes = await client.replicate("notes", schema="id, slug")
            await notes.insert({"id": "kept", "slug": "k"})
            failing = client.transaction()
            failing.insert("notes", {"id": "n1", "slug": "a"})
            failing.update("notes", "n1", {"slug": "b"})
            failing.delete("notes", "missing")
            with pytest.raises(RecordNotFound):
                await failing.commit()
            assert await notes.get("n1") is None
            async with client.transaction() as tx:
                tx.insert("notes", {"id": "n1", "slug": "a"})
                tx.update("notes", "n1", {"slug": "b"})
                tx.delete("notes", "kept")
            assert await notes.all() == [{"id": "n1", "slug": "b"}]

    asyncio.run(scenario())
    rows = outbox_rows(replica_file)
    assert [row["op"] for row in rows] == ["insert", "insert", "update", "delete"]
    assert rows[1]["txid"] == rows[2]["txid"] == rows[3]["txid"] != rows[0]["txid"]


def test_the_replica_survives_a_restart(replica_file: Path) -> None:
    async def write() -> str:
        async with offline(replica_file) as client:
            notes = await client.replicate("notes", schema="id")
            await notes.put({"id": 7, "text": "number key"})
            await notes.put({"id": "7", "text": "text key"})
            return client.client_id

    async def read() -> tuple[str, list[object]]:
        async with offline(replica_file) as client:
            notes = client.collection("notes")  # the scope is remembered
            return client.client_id, [await notes.get(7), await notes.get("7")]

    client_id = asyncio.run(write())
    again, records = asyncio.run(read())
    assert again == client_id
    assert records == [{"id": 7, "text": "number key"}, {"id": "7", "text": "text key"}]
    stamps = [str(row["stamp"]) for row in outbox_rows(replica_file)]
    assert len(stamps) == 2

    async def write_more() -> None:
        async with offline(replica_file) as client:
            await client.collection("notes").update(7, {"text": "later"})

    asyncio.run(write_more())
    later = [str(row["stamp"]) for row in outbox_rows(replica_file)]
    assert later[:2] == stamps
    assert later[2] > stamps[1]


def test_a_memory_replica_starts_empty_every_time() -> None:
    async def scenario() -> str:
        async with offline() as client:
            notes = await client.replicate("notes", schema="id")
            await notes.insert({"id": "a"})
            assert await notes.count() == 1
            return client.client_id

    assert asyncio.run(scenario()) != asyncio.run(scenario())
