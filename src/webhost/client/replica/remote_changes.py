"""What the server says goes into the replica here, never into the outbox: answers to pushes
and pages of pulls, each in the one transaction that also moves the clock (and the cursor)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from webhost.client.mutations import Mutation
from webhost.client.records import Record, key_text
from webhost.client.replica import outbox, record_rows, scopes
from webhost.client.replica.outbox import OutboxTransaction
from webhost.client.replica.state import ReplicaState


class BadAnswer(ValueError):
    """The server's answer does not have the protocol's shape."""


@dataclass(frozen=True)
class Refused:
    txid: str
    mutation: Mutation
    code: str
    message: str
    record: Record | None


@dataclass(frozen=True)
class PushApplied:
    refused: list[Refused]
    applied: int  # mutations that changed a record on the server
    duplicates: int  # transactions the server had already applied


def apply_push_answer(
    state: ReplicaState, sent: Sequence[OutboxTransaction], answer: Mapping[str, Any]
) -> PushApplied:
    """Acknowledged transactions leave the outbox; the server's copies of records it did not
    change (or refused to) become the replica's, under the writes still waiting."""
    results_by_txid = _push_results(sent, answer)
    servers: dict[tuple[str, str], Record | None] = {}
    refused: list[Refused] = []
    applied = duplicates = 0
    for transaction in sent:
        entry = results_by_txid[transaction.txid]
        duplicates += entry.get("duplicate") is True
        for mutation, result in zip(transaction.mutations, entry["results"], strict=True):
            scope = state.scopes.get(mutation.collection)
            if scope is None:
                continue
            slot = (mutation.collection, key_text(mutation.key))
            if slot not in servers:
                servers[slot] = record_rows.base(state.connection, *slot)
            status = result.get("status")
            if status == "applied":
                applied += 1
                servers[slot] = mutation.applied_to(servers[slot], scope.primary_key)
            else:
                servers[slot] = _record(result)
            if status == "rejected":
                error = result.get("error") or {}
                refused.append(
                    Refused(
                        transaction.txid,
                        mutation,
                        str(error.get("code", "rejected")),
                        str(error.get("message", "")),
                        servers[slot],
                    )
                )
        outbox.drop(state.connection, transaction.txid)
    for (collection, key), server in servers.items():
        record_rows.rebase(state.connection, state.scopes[collection], key, server)
    state.clock.observe(answer.get("clock"))
    return PushApplied(refused, applied, duplicates)


def drop_refused_transaction(state: ReplicaState, transaction: OutboxTransaction) -> None:
    """A transaction the server will never take: its writes go, the records show what the
    server last sent under the writes still waiting."""
    outbox.drop(state.connection, transaction.txid)
    for mutation in transaction.mutations:
        scope = state.scopes.get(mutation.collection)
        if scope is not None:
            key = key_text(mutation.key)
            server = record_rows.base(state.connection, mutation.collection, key)
            record_rows.rebase(state.connection, scope, key, server)


@dataclass(frozen=True)
class PageApplied:
    more: set[str]  # collections with more to pull at once
    errors: dict[str, str]  # collections the server could not serve, and why
    resets: int


def apply_pull_page(
    state: ReplicaState, filters: Mapping[str, str | None], answer: Mapping[str, Any]
) -> PageApplied:
    """One page of every scope asked for; ``filters`` are those the request was made with: a
    scope whose filter changed meanwhile ignores the page (it starts over anyway)."""
    collections = answer.get("collections")
    if not isinstance(collections, dict):
        raise BadAnswer("a pull answer needs 'collections'")
    more: set[str] = set()
    errors: dict[str, str] = {}
    resets = 0
    for name, page in collections.items():
        scope = state.scopes.get(name)
        if scope is None or name not in filters or scope.filter != filters[name]:
            continue
        if not isinstance(page, dict):
            raise BadAnswer(f"the pull answer for {name!r} is not an object")
        if "error" in page:
            error = page["error"] if isinstance(page["error"], dict) else {}
            errors[name] = f"{error.get('code', 'error')}: {error.get('message', '')}"
            continue
        if page.get("reset") is True:
            resets += 1
            record_rows.forget_server_copies(state.connection, scope)
        changes = page.get("changes")
        cursor = page.get("cursor")
        if not isinstance(changes, list) or not isinstance(cursor, str):
            raise BadAnswer(f"the pull answer for {name!r} needs 'changes' and 'cursor'")
        for change in changes:
            key = key_text(change["key"])
            if change.get("op") == "put":
                record_rows.rebase(state.connection, scope, key, _record(change))
            elif change.get("op") == "delete":
                record_rows.rebase(state.connection, scope, key, None)
            else:
                raise BadAnswer(f"unknown change {change.get('op')!r} in {name!r}")
        scopes.move_cursor(state, name, cursor)
        if page.get("more") is True:
            more.add(name)
    state.clock.observe(answer.get("clock"))
    return PageApplied(more, errors, resets)


def _push_results(
    sent: Sequence[OutboxTransaction], answer: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    entries = answer.get("transactions")
    if not isinstance(entries, list):
        raise BadAnswer("a push answer needs 'transactions'")
    by_txid = {entry.get("txid"): entry for entry in entries if isinstance(entry, dict)}
    for transaction in sent:
        entry = by_txid.get(transaction.txid)
        results = None if entry is None else entry.get("results")
        if not isinstance(results, list) or len(results) != len(transaction.mutations):
            raise BadAnswer(f"the push answer has no results for transaction {transaction.txid}")
    return by_txid  # type: ignore[return-value]


def _record(holder: Mapping[str, Any]) -> Record | None:
    record = holder.get("record")
    return record if isinstance(record, dict) else None
