"""One replicated collection through the local API: reads answer from the replica and writes
go to it (and its outbox) at once, online or not."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from webhost.client.records import Key, Record, check_key, key_text
from webhost.client.replica import record_rows
from webhost.client.replica.database import ReplicaDatabase
from webhost.client.transaction import LocalTransaction
from webhost.data.collections.dexie_schema import CollectionSchema

Predicate = Callable[[Record], bool]


class LocalCollection:
    def __init__(
        self,
        name: str,
        schema: CollectionSchema,
        database: ReplicaDatabase,
        transaction: Callable[[], LocalTransaction],
    ) -> None:
        self.name = name
        self.schema = schema
        self._database = database
        self._transaction = transaction

    @property
    def primary_key(self) -> str:
        return self.schema.primary_key

    async def insert(self, record: Mapping[str, Any]) -> Key:
        """Store a new record; returns its key (a new ULID in an ``@id`` collection)."""
        async with self._transaction() as tx:
            return tx.insert(self.name, record)

    async def put(self, record: Mapping[str, Any]) -> Key:
        async with self._transaction() as tx:
            return tx.put(self.name, record)

    async def update(
        self, key: Key, changes: Mapping[str, Any], *, remove: Iterable[str] = ()
    ) -> None:
        async with self._transaction() as tx:
            tx.update(self.name, key, changes, remove=remove)

    async def delete(self, key: Key) -> None:
        async with self._transaction() as tx:
            tx.delete(self.name, key)

    async def get(self, key: Key) -> Record | None:
        text = key_text(check_key(key, what=self.primary_key))
        return await self._database.read(
            lambda state: record_rows.live(state.connection, self.name, text)
        )

    async def all(self) -> list[Record]:
        """Every live record, in key order."""
        return await self.where()

    async def where(self, predicate: Predicate | None = None, **equals: Any) -> list[Record]:
        """Records whose top-level fields equal ``equals`` (and that ``predicate`` accepts)."""

        def matches(record: Record) -> bool:
            for name, value in equals.items():
                if name not in record or not _same_json(record[name], value):
                    return False
            return predicate is None or predicate(record)

        records = await self._database.read(
            lambda state: list(record_rows.every_live(state.connection, self.name))
        )
        # the predicate is the app's code: it runs here, on the event loop's thread
        return [record for record in records if matches(record)]

    async def count(self) -> int:
        return len(await self.all())


def _same_json(left: Any, right: Any) -> bool:
    """Equality as JSON sees it: ``True`` is not ``1``."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    return bool(left == right)
