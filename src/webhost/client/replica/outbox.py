"""Local writes not yet acknowledged by the server, in the order they were made.

One row per mutation; the mutations of one local transaction share its txid, which the push
keeps across retries, so the server applies each transaction once.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from webhost.client.mutations import Mutation
from webhost.client.records import key_from_text, key_text, record_text


@dataclass(frozen=True)
class OutboxTransaction:
    txid: str
    mutations: tuple[Mutation, ...]

    def to_json(self) -> dict[str, object]:
        return {"txid": self.txid, "mutations": [m.to_json() for m in self.mutations]}


def append(connection: sqlite3.Connection, txid: str, mutation: Mutation) -> None:
    connection.execute(
        "INSERT INTO outbox (txid, collection, key, op, fields, removed, stamp) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            txid,
            mutation.collection,
            key_text(mutation.key),
            mutation.op,
            record_text(mutation.fields),
            json.dumps(list(mutation.removed)),
            mutation.stamp,
        ),
    )


def pending_for(connection: sqlite3.Connection, collection: str, key: str) -> list[Mutation]:
    """The writes to one record still waiting, oldest first."""
    rows = connection.execute(
        "SELECT collection, key, op, fields, removed, stamp FROM outbox "
        "WHERE collection = ? AND key = ? ORDER BY position",
        (collection, key),
    ).fetchall()
    return [_mutation(row) for row in rows]


def pending_keys(connection: sqlite3.Connection, collection: str) -> list[str]:
    rows = connection.execute(
        "SELECT DISTINCT key FROM outbox WHERE collection = ?", (collection,)
    ).fetchall()
    return [str(row[0]) for row in rows]


def next_batch(
    connection: sqlite3.Connection, max_mutations: int, max_bytes: int
) -> list[OutboxTransaction]:
    """The oldest whole transactions that fit in one push (the first one always goes, alone
    if need be: the server then says why it cannot take it)."""
    batch: list[OutboxTransaction] = []
    mutations = 0
    size = 0
    for transaction in _transactions(connection):
        encoded = len(json.dumps(transaction.to_json()).encode())
        over = mutations + len(transaction.mutations) > max_mutations or size + encoded > max_bytes
        if batch and over:
            break
        batch.append(transaction)
        mutations += len(transaction.mutations)
        size += encoded
    return batch


def drop(connection: sqlite3.Connection, txid: str) -> None:
    connection.execute("DELETE FROM outbox WHERE txid = ?", (txid,))


def count(connection: sqlite3.Connection) -> int:
    row = connection.execute("SELECT count(*) FROM outbox").fetchone()
    return int(row[0])


def _transactions(connection: sqlite3.Connection) -> Iterator[OutboxTransaction]:
    """Read lazily: a push takes the oldest few of however many wait."""
    cursor = connection.execute(
        "SELECT txid, collection, key, op, fields, removed, stamp FROM outbox ORDER BY position"
    )
    try:
        txid: str | None = None
        mutations: list[Mutation] = []
        for row in cursor:
            if row[0] != txid and txid is not None:
                yield OutboxTransaction(txid, tuple(mutations))
                mutations = []
            txid = row[0]
            mutations.append(_mutation(row[1:]))
        if txid is not None:
            yield OutboxTransaction(txid, tuple(mutations))
    finally:
        cursor.close()


def _mutation(row: tuple[str, str, str, str, str, str]) -> Mutation:
    collection, key, op, fields, removed, stamp = row
    return Mutation(
        collection=collection,
        op=op,  # type: ignore[arg-type]
        key=key_from_text(key),
        fields=json.loads(fields),
        removed=tuple(json.loads(removed)),
        stamp=stamp,
    )
