"""Pushing the outbox: oldest transactions first, the same txids on every retry."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from webhost.client.errors import ApiError
from webhost.client.replica import outbox, remote_changes
from webhost.client.replica.database import ReplicaDatabase
from webhost.client.replica.outbox import OutboxTransaction
from webhost.client.replica.remote_changes import Refused
from webhost.client.sync.exchange import post
from webhost.client.sync.status import ServerLimits


@dataclass
class PushReport:
    transactions: int = 0
    applied: int = 0
    duplicates: int = 0
    refused: list[Refused] = field(default_factory=list)


async def push_outbox(
    http: httpx.AsyncClient, replica: ReplicaDatabase, client_id: str, limits: ServerLimits
) -> PushReport:
    """Push until the outbox is empty; network failures raise RetryLater and leave the
    outbox as it was (an answer that was lost is found again by txid)."""
    report = PushReport()
    while True:
        batch = await replica.read(
            lambda state: outbox.next_batch(
                state.connection, limits.max_mutations, limits.max_body_bytes * 9 // 10
            )
        )
        if not batch:
            return report
        try:
            await _push(http, replica, client_id, batch, report)
        except ApiError:
            if len(batch) > 1:
                # one transaction spoils the push for all: send them one by one to find it
                for transaction in batch:
                    await _push_alone(http, replica, client_id, transaction, report)
            else:
                await _push_alone(http, replica, client_id, batch[0], report)


async def _push(
    http: httpx.AsyncClient,
    replica: ReplicaDatabase,
    client_id: str,
    batch: list[OutboxTransaction],
    report: PushReport,
) -> None:
    body = {"client": client_id, "transactions": [t.to_json() for t in batch]}
    answer = await post(http, "/v1/sync/push", body)
    applied = await replica.write(
        lambda state: remote_changes.apply_push_answer(state, batch, answer)
    )
    report.transactions += len(batch)
    report.applied += applied.applied
    report.duplicates += applied.duplicates
    report.refused += applied.refused


async def _push_alone(
    http: httpx.AsyncClient,
    replica: ReplicaDatabase,
    client_id: str,
    transaction: OutboxTransaction,
    report: PushReport,
) -> None:
    """A transaction the server refuses whole (too large, malformed) is dropped, and each of
    its writes reported with the server's reason."""
    try:
        await _push(http, replica, client_id, [transaction], report)
    except ApiError as error:
        await replica.write(
            lambda state: remote_changes.drop_refused_transaction(state, transaction)
        )
        report.refused += [
            Refused(transaction.txid, mutation, error.code, error.message, None)
            for mutation in transaction.mutations
        ]
