"""How the replica takes what the server says while local writes still wait: pulled records
and the server's copies from push answers go under the pending writes, never into the outbox.
The answers here are shaped as docs/sync-protocol.md shows them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from webhost.client.mutations import Mutation
from webhost.client.replica import local_writes, outbox, record_rows, remote_changes, scopes
from webhost.client.replica.database import ReplicaDatabase
from webhost.client.replica.state import ReplicaState, Scope
from webhost.data.collections.dexie_schema import parse_schema

T = TypeVar("T")
CLOCK = "0190000000000000"


def page(*changes: dict[str, Any], reset: bool = False) -> dict[str, Any]:
    return {
        "collections": {
            "tasks": {
                "changes": list(changes),
                "cursor": "1.9.0.0000abcd",
                "more": False,
                "reset": reset,
            }
        },
        "clock": CLOCK,
    }


def put(record: dict[str, Any]) -> dict[str, Any]:
    return {"op": "put", "key": record["id"], "revision": 1, "record": record}


class Replica:
    """One in-memory replica syncing ``tasks``, driven step by step."""

    def __init__(self) -> None:
        self.database = ReplicaDatabase(":memory:")

    async def __aenter__(self) -> Replica:
        await self.database.open()
        scope = Scope("tasks", parse_schema("id"))
        await self.database.write(lambda state: scopes.save(state, scope))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.database.close()

    async def write(self, fn: Callable[[ReplicaState], T]) -> T:
        return await self.database.write(fn)

    async def local(self, *writes: Mutation) -> None:
        await self.write(lambda state: local_writes.apply(state, writes))

    async def pulled(self, answer: dict[str, Any]) -> None:
        await self.write(
            lambda state: remote_changes.apply_pull_page(state, {"tasks": None}, answer)
        )

    async def shown(self, key: str) -> dict[str, Any] | None:
        return await self.database.read(
            lambda state: record_rows.live(state.connection, "tasks", f'"{key}"')
        )

    async def pending(self) -> list[tuple[str, str]]:
        batch = await self.database.read(
            lambda state: outbox.next_batch(state.connection, 99, 10**6)
        )
        return [(m.op, str(m.key)) for t in batch for m in t.mutations]

    async def clock(self) -> str:
        return await self.database.read(lambda state: state.clock.last)


def test_pulled_records_go_under_pending_writes() -> None:
    async def scenario() -> None:
        async with Replica() as replica:
            await replica.pulled(page(put({"id": "t", "title": "Draft", "done": False})))
            await replica.local(Mutation("tasks", "update", "t", {"done": True}))
            # another writer changed the title: the pending update stays on top
            await replica.pulled(page(put({"id": "t", "title": "Final", "done": False})))
            assert await replica.shown("t") == {"id": "t", "title": "Final", "done": True}
            assert await replica.pending() == [("update", "t")]  # nothing entered the outbox
            assert await replica.clock() >= CLOCK

            # a remote delete: the pending update cannot bring the record back
            await replica.pulled(page({"op": "delete", "key": "t", "revision": 2}))
            assert await replica.shown("t") is None
            # a delete of a record the replica never had changes nothing
            await replica.pulled(page({"op": "delete", "key": "never", "revision": 3}))
            assert await replica.shown("never") is None

    asyncio.run(scenario())


def test_push_answers_settle_the_server_copy() -> None:
    async def scenario() -> None:
        async with Replica() as replica:
            await replica.local(Mutation("tasks", "insert", "a", {"n": 1}))
            await replica.local(Mutation("tasks", "put", "b", {"n": 1}))
            sent = await replica.database.read(
                lambda state: outbox.next_batch(state.connection, 99, 10**6)
            )
            await replica.local(Mutation("tasks", "update", "b", {"n": 3}))  # made meanwhile
            answer = {
                "transactions": [
                    {
                        "txid": sent[0].txid,
                        "duplicate": False,
                        "results": [{"status": "applied", "revision": 5}],
                    },
                    {
                        "txid": sent[1].txid,
                        "duplicate": True,
                        "results": [{"status": "unchanged", "record": {"id": "b", "n": 2}}],
                    },
                ],
                "clock": CLOCK,
            }
            applied = await replica.write(
                lambda state: remote_changes.apply_push_answer(state, sent, answer)
            )
            assert applied.duplicates == 1
            assert applied.applied == 1
            assert await replica.shown("a") == {"id": "a", "n": 1}
            # the server's copy of b, with the update still waiting on top
            assert await replica.shown("b") == {"id": "b", "n": 3}
            assert await replica.pending() == [("update", "b")]
            base = await replica.database.read(
                lambda state: record_rows.base(state.connection, "tasks", '"b"')
            )
            assert base == {"id": "b", "n": 2}

    asyncio.run(scenario())


def test_a_rejected_write_leaves_the_server_copy() -> None:
    async def scenario() -> None:
        async with Replica() as replica:
            await replica.pulled(page(put({"id": "t", "slug": "x"})))
            await replica.local(Mutation("tasks", "update", "t", {"slug": "taken"}))
            sent = await replica.database.read(
                lambda state: outbox.next_batch(state.connection, 99, 10**6)
            )
            error = {"code": "conflict", "message": "another record already has this value"}
            answer = {
                "transactions": [
                    {
                        "txid": sent[0].txid,
                        "duplicate": False,
                        "results": [
                            {
                                "status": "rejected",
                                "error": error,
                                "record": {"id": "t", "slug": "x"},
                            }
                        ],
                    }
                ],
                "clock": CLOCK,
            }
            applied = await replica.write(
                lambda state: remote_changes.apply_push_answer(state, sent, answer)
            )
            assert [(r.code, r.message) for r in applied.refused] == [
                ("conflict", "another record already has this value")
            ]
            assert await replica.shown("t") == {"id": "t", "slug": "x"}
            assert await replica.pending() == []

    asyncio.run(scenario())


def test_a_reset_keeps_only_the_server_records_and_pending_writes() -> None:
    async def scenario() -> None:
        async with Replica() as replica:
            await replica.pulled(page(put({"id": "old", "v": 1}), put({"id": "edited", "v": 1})))
            await replica.local(Mutation("tasks", "put", "mine", {"v": 2}))
            await replica.local(Mutation("tasks", "update", "edited", {"v": 2}))
            await replica.pulled(page(put({"id": "kept", "v": 1}), reset=True))
            assert await replica.shown("old") is None
            assert await replica.shown("kept") == {"id": "kept", "v": 1}
            assert await replica.shown("mine") == {"id": "mine", "v": 2}
            # an update needs a record under it; the reset took the server's copy away
            assert await replica.shown("edited") is None
            assert await replica.pending() == [("put", "mine"), ("update", "edited")]

    asyncio.run(scenario())
