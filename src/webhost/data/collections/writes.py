"""The one way records are written: REST, sync pushes (and later GraphQL) all come through here.

A batch of mutations is applied in one statement per collection: the rows the batch touches are
locked, each mutation is stamped by the tenant's clock (a client's stamp is only a hint, see
clock.py) and merged into its record's state (record_state.py), the changed rows are written
back, and every record whose visible state changed gets the next tenant revision in the change
log. A mutation that breaks a rule of its collection is rejected with the reason and changes
nothing. When the database refuses a batch (a unique index clash, say), the batch is applied
again one mutation at a time, each in a savepoint, so only the offending mutation is rejected.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.collections import changes_repository, limits
from webhost.data.collections import record_repository as repository
from webhost.data.collections.clock import Clocks, TenantClock, stamp_value
from webhost.data.collections.database_errors import translate_errors
from webhost.data.collections.ids import new_record_id
from webhost.data.collections.record_state import RecordState, Write
from webhost.data.collections.tables import Key, RecordTable, no_record
from webhost.data.sync.feed import note_changes
from webhost.data.tenancy.scope import KEY_LOOKUPS_PLANNED, Tenant
from webhost.db.driver import driver_of
from webhost.errors import Conflict, InvalidInput, WebHostError

MutationKind = Literal["insert", "put", "update", "delete"]
Expectation = Literal["any", "absent", "alive"]


@dataclass(frozen=True)
class Mutation:
    table: RecordTable
    kind: MutationKind
    key: Key | None  # None: a new record whose id the server chooses
    values: dict[str, Any] = field(default_factory=dict)
    removed: tuple[str, ...] = ()
    stamp_hint: str | None = None  # a client's clock (16 hex digits); None: the server's
    client_id: str = ""
    expect: Expectation = "any"  # REST's rules: create needs no live record, patch needs one
    merge_nested: bool = False  # values are JSON merge patches of each field (REST's PATCH)


@dataclass
class Outcome:
    status: Literal["applied", "unchanged", "rejected"]
    key: Key | None = None
    record: str | None = None  # the live record after the write, as JSON text
    revision: int | None = None
    error: WebHostError | None = None
    created: bool = False  # the record was not alive before this write


@dataclass
class _Pending:
    mutation: Mutation
    outcome: Outcome
    numbered: RecordState | None = None  # a new ``++id`` record, stored by its own INSERT


@dataclass
class _Applied:
    """A batch merged and stored, waiting for its revisions."""

    pending: list[_Pending]
    states: dict[tuple[str, Key], RecordState]
    before: dict[tuple[str, Key], RecordState]
    records: dict[tuple[str, Key], str]


class RecordWriter:
    def __init__(self, clocks: Clocks | None = None) -> None:
        self.clocks = clocks or Clocks()

    async def write(
        self, connection: AsyncConnection, tenant: Tenant, mutations: Sequence[Mutation]
    ) -> list[Outcome]:
        """Apply the mutations in order; a database refusal raises (see ``write_each``)."""
        driver = await _key_lookup_driver(connection)
        applied = await self._apply(driver, tenant, mutations)
        return await self._log(connection, driver, tenant, [applied])

    async def write_each(
        self, connection: AsyncConnection, tenant: Tenant, mutations: Sequence[Mutation]
    ) -> list[Outcome]:
        """Like ``write``, but a mutation the database refuses is rejected alone."""
        driver = await _key_lookup_driver(connection)
        try:
            async with driver.transaction():  # a savepoint
                applied = await self._apply(driver, tenant, mutations)
        except WebHostError:
            pass  # one of them was refused: find which, one at a time
        else:
            return await self._log(connection, driver, tenant, [applied])
        batches: list[_Applied] = []
        for mutation in mutations:
            try:
                async with driver.transaction():
                    batches.append(await self._apply(driver, tenant, [mutation]))
            except WebHostError as error:
                rejected = _Pending(mutation, Outcome("rejected", mutation.key, error=error))
                batches.append(_Applied([rejected], {}, {}, {}))
        # the revision counter is locked last and once, so writers never wait on each other
        return await self._log(connection, driver, tenant, batches)

    async def _apply(
        self, driver: asyncpg.Connection, tenant: Tenant, mutations: Sequence[Mutation]
    ) -> _Applied:
        clock = self.clocks.of(tenant.name)
        states = await self._lock(driver, mutations)
        before = {slot: state.copy() for slot, state in states.items()}
        pending = [self._merge(clock, mutation, states) for mutation in mutations]
        records = await self._store_numbered(driver, pending, states)
        raced = await self._store(driver, pending, states, before, records)
        while raced:
            # another transaction created these keys first: merge into what it stored
            locked = await self._lock(driver, [m for m in mutations if _slot(m) in raced])
            if missing := raced - locked.keys():
                # a key the database keeps as another value would be taken for raced forever
                raise RuntimeError(f"rows of {len(missing)} raced keys are not found by key")
            for slot in raced:
                states[slot] = locked[slot]
                before[slot] = states[slot].copy()
            pending = [
                self._merge(clock, item.mutation, states) if _slot(item.mutation) in raced else item
                for item in pending
            ]
            raced = await self._store(driver, pending, states, before, records, only=raced)
        return _Applied(pending, states, before, records)

    async def _log(
        self,
        connection: AsyncConnection,
        driver: asyncpg.Connection,
        tenant: Tenant,
        batches: Sequence[_Applied],
    ) -> list[Outcome]:
        """Enter every visible change into the change log with the next revisions."""
        changed: dict[tuple[str, Key], None] = {}
        latest = ""
        for batch in batches:
            for slot, state in batch.states.items():
                latest = max(latest, state.latest_stamp)
                if _visible_change(batch.before.get(slot), state):
                    changed.pop(slot, None)  # keeps the order of each record's last change
                    changed[slot] = None
        revisions: dict[tuple[str, Key], int] = {}
        if changed:
            last, stored_clock = await changes_repository.append_changes(
                driver, tenant, list(changed), latest
            )
            self.clocks.of(tenant.name).observe(stamp_value(stored_clock))
            note_changes(connection, tenant.name, last, {collection for collection, _ in changed})
            revisions = {slot: last - len(changed) + n for n, slot in enumerate(changed, 1)}
        outcomes: list[Outcome] = []
        for batch in batches:
            for item in batch.pending:
                outcome = item.outcome
                outcomes.append(outcome)
                if outcome.status == "rejected" or outcome.key is None:
                    continue
                slot = (item.mutation.table.collection.name, outcome.key)
                outcome.record = batch.records.get(slot)
                outcome.revision = revisions.get(slot)
                if outcome.revision is None:
                    outcome.status = "unchanged"
        return outcomes

    async def _lock(
        self, driver: asyncpg.Connection, mutations: Sequence[Mutation]
    ) -> dict[tuple[str, Key], RecordState]:
        keys: dict[str, tuple[RecordTable, list[Key]]] = {}
        for mutation in mutations:
            if mutation.key is not None:
                table = mutation.table
                keys.setdefault(table.collection.name, (table, []))[1].append(mutation.key)
        states: dict[tuple[str, Key], RecordState] = {}
        for name, (table, wanted) in sorted(keys.items()):  # one lock order for every batch
            with translate_errors(table.collection):
                stored = await repository.lock_rows(driver, table, wanted)
            states.update({(name, key): state for key, state in stored.items()})
        return states

    def _merge(
        self,
        clock: TenantClock,
        mutation: Mutation,
        states: dict[tuple[str, Key], RecordState],
    ) -> _Pending:
        table = mutation.table
        key = mutation.key
        if key is None:
            if table.schema.auto_increment:
                return self._new_numbered(clock, mutation)
            key = new_record_id() if table.schema.generated_key else str(uuid.uuid4())
        slot = (table.collection.name, key)
        current = states.get(slot) or RecordState()
        try:
            # an insert brings a key of its own; a put may keep the key a record already has
            new_key = mutation.kind == "insert" or not current.stored
            if new_key and (problem := limits.new_key_problem(table.schema, key)):
                raise InvalidInput(problem)
            _check_expectation(mutation, current, key)
            if mutation.stamp_hint is not None:
                stamp = clock.bounded(mutation.stamp_hint, mutation.client_id)
            else:
                stamp = clock.server_stamp(after=current.latest_stamp)
            if mutation.merge_nested:
                values = {
                    name: merge_patch(current.values.get(name), value)
                    for name, value in mutation.values.items()
                }
                mutation = replace(mutation, values=values)
            merged = current.copy()
            merged.apply(_write_of(mutation, stamp))
            problem = limits.indexed_values_problem(
                table.schema, merged.visible, before=current.visible
            )
            if problem is not None:
                raise InvalidInput(problem)
        except WebHostError as error:
            return _Pending(mutation, Outcome("rejected", key, error=error))
        states[slot] = merged
        created = merged.alive and not current.alive
        return _Pending(mutation, Outcome("applied", key, created=created))

    def _new_numbered(self, clock: TenantClock, mutation: Mutation) -> _Pending:
        """A ``++id`` record the sequence numbers: stored on its own in ``_store``."""
        problem = limits.indexed_values_problem(mutation.table.schema, mutation.values)
        if problem is not None:
            return _Pending(mutation, Outcome("rejected", error=InvalidInput(problem)))
        state = RecordState()
        state.apply(_write_of(mutation, clock.server_stamp()))
        return _Pending(mutation, Outcome("applied", created=True), numbered=state)

    async def _store_numbered(
        self,
        driver: asyncpg.Connection,
        pending: list[_Pending],
        states: dict[tuple[str, Key], RecordState],
    ) -> dict[tuple[str, Key], str]:
        """New ``++id`` records, each numbered by its table's sequence."""
        records: dict[tuple[str, Key], str] = {}
        for item in pending:
            if item.numbered is not None:
                table = item.mutation.table
                with translate_errors(table.collection):
                    key, record = await repository.insert_with_new_id(driver, table, item.numbered)
                states[(table.collection.name, key)] = item.numbered
                records[(table.collection.name, key)] = record
                item.outcome.key = key
        return records

    async def _store(
        self,
        driver: asyncpg.Connection,
        pending: list[_Pending],
        states: dict[tuple[str, Key], RecordState],
        before: dict[tuple[str, Key], RecordState],
        records: dict[tuple[str, Key], str],
        only: set[tuple[str, Key]] | None = None,
    ) -> set[tuple[str, Key]]:
        """Write every changed row (of ``only``, when given) into ``records``; the slots whose
        new row another transaction inserted first come back, unwritten."""
        tables = {item.mutation.table.collection.name: item.mutation.table for item in pending}
        raced: set[tuple[str, Key]] = set()
        for name, table in sorted(tables.items()):
            changed = [
                (key, state)
                for (collection, key), state in states.items()
                if collection == name
                and (collection, key) not in records
                and (only is None or (collection, key) in only)
                and _stored_change(before.get((collection, key)), state)
            ]
            new = [(key, state) for key, state in changed if not state.stored]
            existing = [(key, state) for key, state in changed if state.stored]
            only_key = changed[0][0] if len(changed) == 1 else None
            with translate_errors(table.collection, key=only_key):
                written, taken = await repository.insert_rows(driver, table, new)
                written |= await repository.update_rows(driver, table, existing)
                inserted = [key for key, _state in new if key not in taken]
                if table.schema.auto_increment and inserted:
                    await repository.advance_sequence(
                        driver, table, max(int(key) for key in inserted)
                    )
            for key, _state in changed:
                if key in taken:
                    raced.add((name, key))
                else:
                    states[(name, key)].stored = True
                    if key in written:
                        records[(name, key)] = written[key]
        return raced


async def _key_lookup_driver(connection: AsyncConnection) -> asyncpg.Connection:
    """The transaction's driver, with its statements planned as key lookups from now on."""
    driver = await driver_of(connection)
    if not connection.info.get(KEY_LOOKUPS_PLANNED):
        await repository.plan_key_lookups(driver)
        connection.info[KEY_LOOKUPS_PLANNED] = True
    return driver


def _check_expectation(mutation: Mutation, current: RecordState, key: Key) -> None:
    name = mutation.table.collection.name
    if mutation.expect == "absent" and current.alive:
        primary_key = mutation.table.schema.primary_key
        raise Conflict(f"a record with {primary_key} {key!r} already exists")
    if mutation.expect == "alive" and not current.alive:
        raise no_record(name, key)


def _slot(mutation: Mutation) -> tuple[str, Key | None]:
    return (mutation.table.collection.name, mutation.key)


def _write_of(mutation: Mutation, stamp: str) -> Write:
    operation = "put" if mutation.kind in {"insert", "put"} else mutation.kind
    return Write(operation, stamp, mutation.values, mutation.removed)  # type: ignore[arg-type]


def _stored_change(before: RecordState | None, after: RecordState) -> bool:
    if before is None:
        return True
    return (before.values, before.stamps, before.put_stamp, before.delete_stamp) != (
        after.values,
        after.stamps,
        after.put_stamp,
        after.delete_stamp,
    )


def _visible_change(before: RecordState | None, after: RecordState) -> bool:
    if before is None:
        return after.alive or after.delete_stamp != ""
    return (before.alive, before.visible) != (after.alive, after.visible)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, null removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = merge_patch(merged.get(name), value)
    return merged
