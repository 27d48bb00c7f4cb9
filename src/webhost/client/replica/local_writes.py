"""Writes made through the local API: checked, stamped, shown in the replica at once and
queued in the outbox, all in the one SQLite transaction of the local transaction."""

from __future__ import annotations

from collections.abc import Sequence

from webhost.client.errors import LocalInputError, RecordNotFound
from webhost.client.mutations import Mutation
from webhost.client.records import key_text
from webhost.client.replica import outbox, record_rows
from webhost.client.replica.state import ReplicaState
from webhost.data.collections.ids import new_record_id

# the protocol's max_mutations for one push; a transaction cannot be split across pushes
MAX_TRANSACTION_WRITES = 1000


def apply(state: ReplicaState, writes: Sequence[Mutation]) -> int:
    """Apply ``writes`` (unstamped) in order as one transaction; returns how many mutations
    the outbox now holds."""
    if len(writes) > MAX_TRANSACTION_WRITES:
        raise LocalInputError(
            f"a transaction holds at most {MAX_TRANSACTION_WRITES} writes ({len(writes)} given): "
            "the server takes no larger one in a push"
        )
    txid = new_record_id()
    for write in writes:
        scope = state.scopes.get(write.collection)
        if scope is None:
            raise LocalInputError(f"collection {write.collection!r} is not replicated")
        key = key_text(write.key)
        current = record_rows.live(state.connection, write.collection, key)
        if write.op == "insert" and current is not None:
            raise LocalInputError(
                f"a record {write.key!r} already exists in collection {write.collection!r}; "
                "put replaces a record"
            )
        if write.op in ("update", "delete") and current is None:
            raise RecordNotFound(write.collection, write.key)
        stamped = Mutation(
            write.collection, write.op, write.key, write.fields, write.removed, state.clock.tick()
        )
        outbox.append(state.connection, txid, stamped)
        record_rows.set_live(
            state.connection, write.collection, key, stamped.applied_to(current, scope.primary_key)
        )
    return outbox.count(state.connection)
