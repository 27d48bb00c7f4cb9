"""The replica's SQLite database, used from one worker thread so the event loop never blocks
on it and every change happens in the order it was asked for."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from webhost.client.errors import ClientClosed
from webhost.client.hlc import HybridLogicalClock
from webhost.client.replica import meta, scopes
from webhost.client.replica.state import ReplicaState
from webhost.data.collections.ids import new_record_id

T = TypeVar("T")

_LAYOUT_VERSION = 1
_LAYOUT = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scopes (
    collection TEXT PRIMARY KEY, schema TEXT NOT NULL, filter TEXT, cursor TEXT
);
CREATE TABLE IF NOT EXISTS outbox (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    txid TEXT NOT NULL,
    collection TEXT NOT NULL,
    key TEXT NOT NULL,
    op TEXT NOT NULL,
    fields TEXT NOT NULL,
    removed TEXT NOT NULL,
    stamp TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_by_record ON outbox (collection, key, position);
CREATE INDEX IF NOT EXISTS outbox_by_txid ON outbox (txid);
CREATE TABLE IF NOT EXISTS yjs_updates (
    position INTEGER PRIMARY KEY AUTOINCREMENT, document TEXT NOT NULL, data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS yjs_updates_by_document ON yjs_updates (document, position);
"""


class ReplicaDatabase:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._executor: ThreadPoolExecutor | None = None
        self._state: ReplicaState | None = None

    async def open(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="webhost-replica")
        await self._submit(self._open)

    async def close(self) -> None:
        if self._executor is None:
            return
        await self._submit(self._close)
        self._executor.shutdown(wait=True)
        self._executor = None

    async def read(self, work: Callable[[ReplicaState], T]) -> T:
        return await self._submit(lambda: work(self._require_state()))

    async def write(self, work: Callable[[ReplicaState], T]) -> T:
        """``work`` in one SQLite transaction: all of it is stored, or none."""
        return await self._submit(lambda: self._in_transaction(work))

    def _in_transaction(self, work: Callable[[ReplicaState], T]) -> T:
        state = self._require_state()
        state.connection.execute("BEGIN IMMEDIATE")
        try:
            result = work(state)
            meta.write(state.connection, meta.CLOCK, state.clock.last)
            state.connection.execute("COMMIT")
        except BaseException:
            state.connection.execute("ROLLBACK")
            # the cached scopes may hold what was just rolled back
            state.scopes = scopes.load(state.connection)
            raise
        return result

    async def _submit(self, work: Callable[[], T]) -> T:
        if self._executor is None:
            raise ClientClosed("the replica is not open: use the client in `async with`")
        return await asyncio.get_running_loop().run_in_executor(self._executor, work)

    def _require_state(self) -> ReplicaState:
        if self._state is None:
            raise ClientClosed("the replica is not open: use the client in `async with`")
        return self._state

    def _open(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=True)
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute("BEGIN IMMEDIATE")
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version > _LAYOUT_VERSION:
                raise RuntimeError(
                    f"{self.path} was written by a newer client (layout {version}); "
                    f"this one reads layout {_LAYOUT_VERSION}"
                )
            for statement in _LAYOUT.split(";"):
                if statement.strip():
                    connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {_LAYOUT_VERSION}")
            client_id = meta.read(connection, meta.CLIENT_ID)
            if client_id is None:
                client_id = new_record_id()
                meta.write(connection, meta.CLIENT_ID, client_id)
            clock = HybridLogicalClock(meta.read(connection, meta.CLOCK) or "")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            connection.close()
            raise
        self._state = ReplicaState(connection, client_id, clock, scopes.load(connection))

    def _close(self) -> None:
        if self._state is not None:
            self._state.connection.close()
            self._state = None
