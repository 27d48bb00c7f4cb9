"""Pushes: client transactions of mutations, applied once each through the one write path.

A push runs in one database transaction. Its txids are claimed first (sorted, so two pushes
never wait on each other in opposite orders); a txid already recorded is not applied again and
its stored results come back. Each mutation is checked on its own: one that breaks a rule is
rejected with the reason, and the others still apply.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.collections import record_repository
from webhost.data.collections.catalogue_service import Catalogue
from webhost.data.collections.tables import Key, RecordTable
from webhost.data.collections.writes import Mutation, RecordWriter
from webhost.data.sync import repository
from webhost.data.sync.tables import synced_table
from webhost.data.tenancy.scope import Tenant
from webhost.errors import Conflict, InvalidInput, WebHostError
from webhost.validation import check_json, require_storable_text

OPERATIONS = {"insert": "put", "put": "put", "update": "update", "delete": "delete"}
_STAMP = re.compile(r"^[0-9a-f]{16}$")
_MUTATION_FIELDS = {"collection", "op", "key", "fields", "removed", "stamp"}
MAX_REMOVED_FIELDS = 1000


@dataclass(frozen=True)
class PushedTransaction:
    txid: str
    mutations: list[Any]  # as sent; each is checked when it is applied


@dataclass(frozen=True)
class Submission:
    """One push: a client's transactions, as sent."""

    client: str
    transactions: Sequence[PushedTransaction]


@dataclass
class _Slot:
    """One mutation of the push on its way to a result."""

    mutation: Mutation | None  # None: it was rejected before it reached the write path
    result: dict[str, Any] = field(default_factory=dict)


Answer = list[dict[str, Any]]  # per transaction of a push: txid, duplicate, results


async def push(
    connection: AsyncConnection,
    catalogue: Catalogue,
    writer: RecordWriter,
    tenant: Tenant,
    submissions: Sequence[Submission],
) -> list[Answer]:
    """Apply pushes in the order they came, in the caller's transaction; one answer each."""
    first: dict[str, tuple[str, PushedTransaction]] = {}
    for submission in submissions:
        for transaction in submission.transactions:
            first.setdefault(transaction.txid, (submission.client, transaction))
    claimed = await repository.claim_transactions(
        connection, tenant, sorted((txid, client) for txid, (client, _) in first.items())
    )
    stored = await repository.stored_transactions(
        connection, tenant, [txid for txid in first if txid not in claimed]
    )
    slots: dict[str, list[_Slot]] = {}
    for txid, (client, transaction) in first.items():  # in the order they came
        if txid in claimed:
            slots[txid] = [
                await _checked(connection, catalogue, tenant, client, raw)
                for raw in transaction.mutations
            ]
    await _apply(connection, writer, tenant, slots)
    await repository.save_results(
        connection, tenant, {txid: [slot.result for slot in txn] for txid, txn in slots.items()}
    )
    answers: list[Answer] = []
    for submission in submissions:
        answer: Answer = []
        for transaction in submission.transactions:
            results, duplicate = _results_of(transaction, submission.client, first, slots, stored)
            answer.append({"txid": transaction.txid, "duplicate": duplicate, "results": results})
        answers.append(answer)
    await _attach_records(connection, catalogue, tenant, submissions, answers)
    return answers


def _results_of(
    transaction: PushedTransaction,
    client: str,
    first: dict[str, tuple[str, PushedTransaction]],
    slots: dict[str, list[_Slot]],
    stored: dict[str, repository.StoredTransaction],
) -> tuple[list[dict[str, Any]], bool]:
    """A transaction's results, and whether they were applied before this sending of it."""
    if transaction.txid in slots:
        owner, applied = first[transaction.txid]
        if owner == client:
            return [
                dict(slot.result) for slot in slots[transaction.txid]
            ], applied is not transaction
    else:
        earlier = stored.get(transaction.txid)
        if earlier is not None and earlier.client == client:
            return [dict(result) for result in earlier.results], True
    # another client's txid: the transaction is refused, mutation by mutation
    refusal = _rejected(Conflict("txid was already used by another client; choose a new one"))
    return [dict(refusal) for _ in transaction.mutations], False


async def _checked(
    connection: AsyncConnection, catalogue: Catalogue, tenant: Tenant, client: str, raw: Any
) -> _Slot:
    try:
        return _Slot(await parse_mutation(connection, catalogue, tenant, client, raw))
    except WebHostError as error:
        return _Slot(None, _rejected(error))


async def _apply(
    connection: AsyncConnection,
    writer: RecordWriter,
    tenant: Tenant,
    slots: dict[str, list[_Slot]],
) -> None:
    waiting = [slot for txn in slots.values() for slot in txn if slot.mutation is not None]
    outcomes = await writer.write_each(
        connection, tenant, [slot.mutation for slot in waiting if slot.mutation is not None]
    )
    for slot, outcome in zip(waiting, outcomes, strict=True):
        if outcome.status == "rejected":
            slot.result = _rejected(outcome.error or WebHostError("rejected"))
        elif outcome.status == "applied":
            slot.result = {"status": "applied", "revision": outcome.revision}
        else:
            slot.result = {"status": "unchanged"}


async def parse_mutation(
    connection: AsyncConnection, catalogue: Catalogue, tenant: Tenant, client: str, raw: Any
) -> Mutation:
    """A mutation as the write path takes it; anything wrong raises with the reason."""
    if not isinstance(raw, dict):
        raise InvalidInput("a mutation is an object with collection, op, key and fields")
    unknown = sorted(set(raw) - _MUTATION_FIELDS)
    if unknown:
        raise InvalidInput(f"a mutation has no field {unknown[0][:64]!r}")
    name = raw.get("collection")
    if not isinstance(name, str):
        raise InvalidInput("collection must be the collection's name")
    op = raw.get("op")
    if op not in OPERATIONS:
        raise InvalidInput("op must be insert, put, update or delete")
    table = await synced_table(connection, catalogue, tenant, name)
    if raw.get("key") is None:
        raise InvalidInput(f"key is required: the record's {table.schema.primary_key}")
    key = table.body_key(raw["key"])
    stamp = raw.get("stamp")
    if stamp is not None and (not isinstance(stamp, str) or not _STAMP.fullmatch(stamp)):
        raise InvalidInput("stamp must be 16 lower-case hex digits (a hybrid logical clock)")
    fields = raw.get("fields", {})
    if not isinstance(fields, dict):
        raise InvalidInput("fields must be an object")
    if op == "delete" and fields:
        raise InvalidInput("a delete carries no fields")
    check_json(fields, what="fields")
    values = dict(fields)
    primary_key = table.schema.primary_key
    if primary_key in values and table.body_key(values.pop(primary_key)) != key:
        raise InvalidInput(f"{table.schema.primary_key} in fields differs from key")
    removed = _removed_fields(raw.get("removed", []), op)
    return Mutation(
        table,
        OPERATIONS[op],  # type: ignore[arg-type]
        key,
        values,
        removed,
        stamp_hint=stamp,
        client_id=client,
    )


def _removed_fields(removed: Any, op: str) -> tuple[str, ...]:
    if not isinstance(removed, list) or not all(isinstance(name, str) for name in removed):
        raise InvalidInput("removed must be a list of field names")
    if removed and op != "update":
        raise InvalidInput("only an update removes fields")
    if len(removed) > MAX_REMOVED_FIELDS:
        raise InvalidInput(f"an update removes at most {MAX_REMOVED_FIELDS} fields")
    return tuple(require_storable_text(name, what="a removed field") for name in removed)


def _rejected(error: WebHostError) -> dict[str, Any]:
    return {"status": "rejected", "error": {"code": error.code, "message": error.message}}


async def _attach_records(
    connection: AsyncConnection,
    catalogue: Catalogue,
    tenant: Tenant,
    submissions: Sequence[Submission],
    answers: list[Answer],
) -> None:
    """Give each unchanged or rejected result the server's copy of its record (None: none)."""
    wanted: list[tuple[dict[str, Any], RecordTable, Key]] = []
    sent = [transaction for submission in submissions for transaction in submission.transactions]
    answered = [each for answer in answers for each in answer]
    for transaction, answer in zip(sent, answered, strict=True):
        for raw, result in zip(transaction.mutations, answer["results"], strict=False):
            if result["status"] == "applied":
                continue
            target = await _target(connection, catalogue, tenant, raw)
            if target is not None:
                wanted.append((result, *target))
    by_table: dict[str, tuple[RecordTable, list[Key]]] = {}
    for _result, table, key in wanted:
        by_table.setdefault(table.collection.name, (table, []))[1].append(key)
    found: dict[tuple[str, Key], str] = {}
    for name, (table, keys) in by_table.items():
        records = await record_repository.live_records(connection, table, keys)
        found.update({(name, key): record for key, record in records.items()})
    for result, table, key in wanted:
        record = found.get((table.collection.name, key))
        result["record"] = None if record is None else json.loads(record)


async def _target(
    connection: AsyncConnection, catalogue: Catalogue, tenant: Tenant, raw: Any
) -> tuple[RecordTable, Key] | None:
    """The table and key a mutation names, when both are valid."""
    if not isinstance(raw, dict) or not isinstance(raw.get("collection"), str):
        return None
    try:
        table = await synced_table(connection, catalogue, tenant, raw["collection"])
        return table, table.body_key(raw.get("key"))
    except WebHostError:
        return None
