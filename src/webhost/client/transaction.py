"""Local transactions: writes checked as they are made, stored together when the block ends.

    async with client.transaction() as tx:
        key = tx.insert("tasks", {"title": "Write docs"})
        tx.update("projects", 42, {"openTasks": 3})

Reads inside the block see the replica as it was before it: the writes are stored, shown and
queued for the server at once, when the block ends without an exception.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any

from webhost.client.errors import LocalInputError
from webhost.client.mutations import Mutation, Operation
from webhost.client.records import Key, check_field_names, check_key, check_record
from webhost.data.collections.dexie_schema import CollectionSchema
from webhost.data.collections.ids import new_record_id

SchemaLookup = Callable[[str], CollectionSchema]
Commit = Callable[[Sequence[Mutation]], Awaitable[None]]


class LocalTransaction:
    def __init__(self, schema_of: SchemaLookup, commit: Commit) -> None:
        self._schema_of = schema_of
        self._commit = commit
        self._writes: list[Mutation] = []
        self._done = False

    def insert(self, collection: str, record: Mapping[str, Any]) -> Key:
        """A new record; in an ``@id`` collection a record without a key gets a ULID."""
        schema = self._schema_of(collection)
        fields = check_record(record)
        given = fields.pop(schema.primary_key, None)
        if given is None:
            if not schema.generated_key:
                raise LocalInputError(
                    f"collection {collection!r} takes keys the app chooses: "
                    f"the record needs its {schema.primary_key!r}"
                )
            given = new_record_id()
        key = check_key(given, what=schema.primary_key)
        return self._stage(collection, "insert", key, fields)

    def put(self, collection: str, record: Mapping[str, Any]) -> Key:
        """Create or replace the record under the key the record carries."""
        schema = self._schema_of(collection)
        fields = check_record(record)
        if schema.primary_key not in fields:
            raise LocalInputError(f"put needs the record's {schema.primary_key!r}")
        key = check_key(fields.pop(schema.primary_key), what=schema.primary_key)
        return self._stage(collection, "put", key, fields)

    def update(
        self,
        collection: str,
        key: Key,
        changes: Mapping[str, Any],
        *,
        remove: Iterable[str] = (),
    ) -> Key:
        """Set the top-level fields in ``changes`` and remove those in ``remove``."""
        schema = self._schema_of(collection)
        key = check_key(key, what=schema.primary_key)
        fields = check_record(changes, what="changes")
        removed = check_field_names(remove, what="remove")
        if schema.primary_key in fields or schema.primary_key in removed:
            raise LocalInputError(f"{schema.primary_key!r} is the key: an update cannot change it")
        if set(fields) & set(removed):
            raise LocalInputError(
                f"fields both changed and removed: {sorted(set(fields) & set(removed))}"
            )
        if not fields and not removed:
            raise LocalInputError("an update needs fields to change or to remove")
        return self._stage(collection, "update", key, fields, removed)

    def delete(self, collection: str, key: Key) -> Key:
        schema = self._schema_of(collection)
        return self._stage(collection, "delete", check_key(key, what=schema.primary_key))

    async def commit(self) -> None:
        self._require_open()
        self._done = True
        if self._writes:
            await self._commit(self._writes)

    async def __aenter__(self) -> LocalTransaction:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None and not self._done:
            await self.commit()
        self._done = True

    def _stage(
        self,
        collection: str,
        op: Operation,
        key: Key,
        fields: dict[str, Any] | None = None,
        removed: tuple[str, ...] = (),
    ) -> Key:
        self._require_open()
        self._writes.append(Mutation(collection, op, key, fields or {}, removed))
        return key

    def _require_open(self) -> None:
        if self._done:
            raise LocalInputError("this transaction has ended: start a new one")
