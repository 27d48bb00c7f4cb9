"""SQL of records. Records live in ``"<tenant>"."c_<collection>"`` (pk, data jsonb, the write
stamps of record_state.py, deleted_at while not alive) and come back as JSON text built by
PostgreSQL; every value is a bound parameter.

Reads see only live records (``deleted_at IS NULL``). Writes go through ``lock_rows``, then
``insert_rows`` (keys without a row) and ``update_rows`` (locked rows), one statement each for
any number of records, sent straight to the driver (webhost.db.driver).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.collections import filter_sql
from webhost.data.collections.query import ListQuery
from webhost.data.collections.record_state import RecordState
from webhost.data.collections.tables import Key, RecordTable
from webhost.data.tenancy.scope import KEY_LOOKUP_SETTINGS

LIVE = "deleted_at IS NULL"


async def plan_key_lookups(driver: asyncpg.Connection) -> None:
    """For the rest of the transaction, plan statements as index lookups by key (the write
    path finds rows by key only; see ``scope.KEY_LOOKUP_SETTINGS`` for why)."""
    await driver.execute(f"SELECT {KEY_LOOKUP_SETTINGS}")


async def lock_rows(
    driver: asyncpg.Connection, table: RecordTable, keys: Sequence[Key]
) -> dict[Key, RecordState]:
    """The stored state of each key that has a row, locked until the transaction ends."""
    if not keys:
        return {}
    rows = await driver.fetch(
        "SELECT jsonb_build_array(pk, data, stamps, hidden, put_stamp, delete_stamp)::text "
        f"FROM {table.qualified} WHERE pk IN "
        f"(SELECT {table.key_element} FROM jsonb_array_elements(CAST($1 AS jsonb))) "
        "ORDER BY pk FOR UPDATE",
        json.dumps(list(keys)),
    )
    states: dict[Key, RecordState] = {}
    for (row,) in rows:
        key, data, stamps, hidden, put_stamp, delete_stamp = json.loads(row)
        values = {**data, **(hidden or {})}
        states[key] = RecordState(values, stamps, put_stamp, delete_stamp, stored=True)
    return states


def _rows_payload(rows: Sequence[tuple[Key, RecordState]]) -> str:
    return json.dumps(
        [
            [
                key,
                state.visible,
                state.stamps,
                state.hidden,
                state.put_stamp,
                state.delete_stamp,
                state.alive,
            ]
            for key, state in rows
        ]
    )


_ROW_COLUMNS = (
    "r -> 1 AS data, r -> 2 AS stamps, nullif(r -> 3, 'null') AS hidden, "
    "r ->> 4 AS put_stamp, r ->> 5 AS delete_stamp, (r -> 6)::boolean AS alive"
)


def _row_key(table: RecordTable) -> str:
    return "(r ->> 0)::bigint" if table.schema.auto_increment else "r -> 0"


async def insert_rows(
    driver: asyncpg.Connection, table: RecordTable, rows: Sequence[tuple[Key, RecordState]]
) -> tuple[dict[Key, str], set[Key]]:
    """Insert rows for keys that had none; the live records come back as JSON text.

    A key another transaction inserted first is left alone (its row is not overwritten) and
    returned in the second set: the caller locks that row and merges into it.
    """
    if not rows:
        return {}, set()
    result = await driver.fetch(
        f"INSERT INTO {table.qualified} "
        "(pk, data, stamps, hidden, put_stamp, delete_stamp, deleted_at) "
        "SELECT pk, data, stamps, hidden, put_stamp, delete_stamp, "
        "CASE WHEN alive THEN NULL ELSE now() END "
        f"FROM (SELECT {_row_key(table)} AS pk, {_ROW_COLUMNS} "
        "FROM jsonb_array_elements(CAST($1 AS jsonb)) AS r) AS new "
        "ON CONFLICT (pk) DO NOTHING "
        f"RETURNING pk::text, CASE WHEN deleted_at IS NULL THEN {table.output} END",
        _rows_payload(rows),
    )
    records: dict[Key, str] = {}
    inserted: set[Key] = set()
    for pk, record in result:
        key = json.loads(pk)
        inserted.add(key)
        if record is not None:
            records[key] = record
    raced = {key for key, _state in rows if key not in inserted}
    return records, raced


async def update_rows(
    driver: asyncpg.Connection, table: RecordTable, rows: Sequence[tuple[Key, RecordState]]
) -> dict[Key, str]:
    """Write the new state of rows this transaction has locked; live records come back."""
    if not rows:
        return {}
    result = await driver.fetch(
        f"UPDATE {table.qualified} AS t SET data = new.data, stamps = new.stamps, "
        "hidden = new.hidden, put_stamp = new.put_stamp, "
        "delete_stamp = new.delete_stamp, updated_at = now(), "
        "deleted_at = CASE WHEN new.alive THEN NULL ELSE coalesce(t.deleted_at, now()) END "
        f"FROM (SELECT {_row_key(table)} AS pk, {_ROW_COLUMNS} "
        "FROM jsonb_array_elements(CAST($1 AS jsonb)) AS r) AS new "
        "WHERE t.pk = new.pk "
        f"RETURNING t.pk::text, CASE WHEN new.alive THEN "
        f"(jsonb_build_object('{table.schema.primary_key}', t.pk) || new.data)::text END",
        _rows_payload(rows),
    )
    return {json.loads(pk): record for pk, record in result if record is not None}


async def insert_with_new_id(
    driver: asyncpg.Connection, table: RecordTable, state: RecordState
) -> tuple[int, str]:
    """A new record of a ``++id`` collection, numbered by the table's sequence."""
    row = await driver.fetchrow(
        f"INSERT INTO {table.qualified} (data, stamps, put_stamp) "
        "VALUES (CAST($1 AS jsonb), CAST($2 AS jsonb), $3) "
        f"RETURNING pk, {table.output}",
        json.dumps(state.visible),
        json.dumps(state.stamps),
        state.put_stamp,
    )
    assert row is not None
    return int(row[0]), str(row[1])


async def advance_sequence(driver: asyncpg.Connection, table: RecordTable, pk: int) -> None:
    """A client-chosen id must not be handed out again by the identity sequence."""
    await driver.execute(
        "SELECT setval(seq, greatest($1, coalesce(pg_sequence_last_value(seq), 0))) "
        "FROM (SELECT pg_get_serial_sequence($2, 'pk')::regclass AS seq) AS s",
        pk,
        table.qualified,
    )


async def live_records(
    connection: AsyncConnection, table: RecordTable, keys: Sequence[Key]
) -> dict[Key, str]:
    """The live records among ``keys``, as JSON text."""
    if not keys:
        return {}
    rows = await connection.execute(
        text(
            f"SELECT pk::text, {table.output} FROM {table.qualified} WHERE {LIVE} AND pk IN "
            f"(SELECT {table.key_element} FROM jsonb_array_elements(CAST(:keys AS jsonb)))"
        ),
        {"keys": json.dumps(list(keys))},
    )
    return {json.loads(pk): record for pk, record in rows}


async def fetch_live(
    connection: AsyncConnection, table: RecordTable, keys: Sequence[Key]
) -> tuple[Key, str] | None:
    """The first of ``keys`` that names a live record, with the record as JSON text."""
    found = await live_records(connection, table, keys)
    # strings never equal numbers, so the string reading of a URL key is tried first
    return next(((key, found[key]) for key in keys if key in found), None)


async def list_records(connection: AsyncConnection, table: RecordTable, query: ListQuery) -> str:
    params: dict[str, Any] = {"limit": query.limit, "offset": query.offset}
    where = [LIVE, *filter_sql.conditions(table, query.conditions, params)]
    order = filter_sql.ordering(table, query.ordering)
    statement = (
        f"SELECT {table.output} FROM {table.qualified} WHERE "
        + " AND ".join(where)
        + " ORDER BY "
        + ", ".join(order)
        + " LIMIT :limit OFFSET :offset"
    )
    rows = await connection.execute(text(statement), params)
    return "[" + ",".join(row[0] for row in rows) + "]"
