"""SQL of records. Records live in ``"<tenant>"."c_<collection>"(pk, data jsonb)`` and come back as
JSON text built by PostgreSQL; every value is a bound parameter.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.collections import filter_sql
from webhost.data.collections.query import ListQuery
from webhost.data.collections.tables import RecordTable


async def insert_record(
    connection: AsyncConnection, table: RecordTable, pk: int | str | None, data: dict[str, Any]
) -> str:
    if pk is None:
        statement = (
            f"INSERT INTO {table.qualified} (data) VALUES (CAST(:data AS jsonb)) "
            f"RETURNING {table.output}"
        )
        params: dict[str, Any] = {"data": json.dumps(data)}
    else:
        statement = (
            f"INSERT INTO {table.qualified} (pk, data) VALUES (:pk, CAST(:data AS jsonb)) "
            f"RETURNING {table.output}"
        )
        params = {"pk": pk, "data": json.dumps(data)}
    record: str = (await connection.execute(text(statement), params)).scalar_one()
    if pk is not None and table.schema.auto_increment:
        await _advance_sequence(connection, table, int(pk))
    return record


async def _advance_sequence(connection: AsyncConnection, table: RecordTable, pk: int) -> None:
    """A client-chosen id must not be handed out again by the identity sequence."""
    await connection.execute(
        text(
            "SELECT setval(seq, greatest(:pk, coalesce(pg_sequence_last_value(seq), 0))) "
            "FROM (SELECT pg_get_serial_sequence(:table, 'pk')::regclass AS seq) AS s"
        ),
        {"table": table.qualified, "pk": pk},
    )


async def upsert_record(
    connection: AsyncConnection, table: RecordTable, pk: int | str, data: dict[str, Any]
) -> tuple[str, bool]:
    row = (
        await connection.execute(
            text(
                f"INSERT INTO {table.qualified} (pk, data) VALUES (:pk, CAST(:data AS jsonb)) "
                "ON CONFLICT (pk) DO UPDATE SET data = EXCLUDED.data, updated_at = now() "
                f"RETURNING {table.output}, (xmax = 0)"
            ),
            {"pk": pk, "data": json.dumps(data)},
        )
    ).one()
    if table.schema.auto_increment:
        await _advance_sequence(connection, table, int(pk))
    return row[0], bool(row[1])


async def fetch_record(
    connection: AsyncConnection, table: RecordTable, pk: int | str, *, for_update: bool = False
) -> str | None:
    lock = " FOR UPDATE" if for_update else ""
    record: str | None = (
        await connection.execute(
            text(f"SELECT {table.output} FROM {table.qualified} WHERE pk = :pk{lock}"),
            {"pk": pk},
        )
    ).scalar_one_or_none()
    return record


async def replace_data(
    connection: AsyncConnection, table: RecordTable, pk: int | str, data: dict[str, Any]
) -> str:
    record: str = (
        await connection.execute(
            text(
                f"UPDATE {table.qualified} SET data = CAST(:data AS jsonb), updated_at = now() "
                f"WHERE pk = :pk RETURNING {table.output}"
            ),
            {"pk": pk, "data": json.dumps(data)},
        )
    ).scalar_one()
    return record


async def delete_record(connection: AsyncConnection, table: RecordTable, pk: int | str) -> bool:
    result = await connection.execute(
        text(f"DELETE FROM {table.qualified} WHERE pk = :pk"), {"pk": pk}
    )
    return bool(result.rowcount)


async def list_records(connection: AsyncConnection, table: RecordTable, query: ListQuery) -> str:
    params: dict[str, Any] = {"limit": query.limit, "offset": query.offset}
    where = filter_sql.conditions(table, query.conditions, params)
    order = filter_sql.ordering(table, query.ordering)
    statement = (
        f"SELECT {table.output} FROM {table.qualified}"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY "
        + ", ".join(order)
        + " LIMIT :limit OFFSET :offset"
    )
    rows = await connection.execute(text(statement), params)
    return "[" + ",".join(row[0] for row in rows) + "]"
