"""Copying a frozen tenant from one data-plane database to another, and proving the copy equal.

The target is provisioned first (schema, tenant migrations, directory entry). The copy then makes
the tables that exist only as data says (each collection's table and indexes, each week's
partition of positions), replaces every table's rows with the source's through binary COPY,
brings sequences level, and copies the tenant's key digests; all in one target transaction, so
a copy that fails leaves the target as it was and is simply run again.

Verification counts the rows of every table and digests their content on both sides (row text
in column-name order, digests sorted, so physical order does not matter): a copy is only
switched to when every table agrees.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.collections import catalogue_repository
from webhost.data.collections.tables import RecordTable
from webhost.data.fleet import partitions, plane_choices
from webhost.data.fleet.storage import IMPLEMENTATIONS
from webhost.data.tenancy.freeze import qualified, tenant_tables
from webhost.data.tenancy.management import CATALOGUE_SCHEMA
from webhost.data.tenancy.scope import Tenant, enter_tenant
from webhost.db.admin import quote_ident

# the version table of the tenant's migrations: the target's is its own, already at head
NOT_COPIED = frozenset({"alembic_version"})
_PIPE_DEPTH = 64


@dataclass(frozen=True)
class TableDigest:
    table: str
    rows: int
    digest: str


@dataclass(frozen=True)
class CopyReport:
    tables: int
    rows: int


async def driver(connection: AsyncConnection) -> asyncpg.Connection:
    pooled = await connection.get_raw_connection()
    raw = pooled.driver_connection
    assert isinstance(raw, asyncpg.Connection)
    return raw


async def copy_tenant(
    source: AsyncConnection, target: AsyncConnection, tenant: Tenant
) -> CopyReport:
    """Both connections are the administrator's, each in a transaction; the source frozen."""
    await _make_structure(source, target, tenant)
    # constraints and triggers are the source's business: its rows are already valid
    await target.exec_driver_sql("SET LOCAL session_replication_role = replica")
    tables = [t for t in await tenant_tables(source, tenant) if t not in NOT_COPIED]
    missing = set(tables) - set(await tenant_tables(target, tenant))
    if missing:
        raise TransferError(f"the target lacks tables {sorted(missing)}: its migrations differ")
    listed = ", ".join(qualified(tenant, table) for table in tables)
    if tables:
        await target.exec_driver_sql(f"TRUNCATE {listed}")
    choices = await plane_choices.read_choices(target, tenant)
    rows = 0
    for table in tables:
        rows += await _copy_table(source, target, tenant, table)
    await plane_choices.keep_choices(target, tenant, choices)
    await _level_sequences(source, target, tenant)
    await _copy_keys(source, target, tenant)
    return CopyReport(tables=len(tables), rows=rows)


class TransferError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def _make_structure(source: AsyncConnection, target: AsyncConnection, tenant: Tenant) -> None:
    """Tables that data made on the source, made on the target as the tenant (who owns them)."""
    await enter_tenant(source, tenant)
    collections = await catalogue_repository.list_collections(source, tenant)
    await source.exec_driver_sql("RESET ROLE")
    weeks = await position_weeks(source, tenant)
    await enter_tenant(target, tenant)
    existing = set(await tenant_tables(target, tenant))
    for collection in collections:
        table = RecordTable(tenant, collection)
        if f"c_{collection.name}" in existing:
            continue
        await catalogue_repository.create_table(target, tenant, collection)
        for index in collection.schema.indexes:
            name = collection.index_names.get(index.source)
            if name is not None:
                await catalogue_repository.create_index(target, table, index, name)
    choices = await plane_choices.read_choices(target, tenant)
    if weeks and choices is not None:
        await IMPLEMENTATIONS[choices.storage].prepare_weeks(target, weeks)
    await target.exec_driver_sql("RESET ROLE")


async def position_weeks(connection: AsyncConnection, tenant: Tenant) -> list[date]:
    """Every week that holds positions, and every partition made ahead of its week."""
    if partitions.PARENT not in await tenant_tables(connection, tenant):
        return []
    rows = await connection.execute(
        text(
            "SELECT DISTINCT CAST(date_trunc('week', device_time AT TIME ZONE 'UTC') AS date) "
            f"FROM {qualified(tenant, partitions.PARENT)}"
        )
    )
    weeks = {row[0] for row in rows}
    await connection.execute(
        text("SELECT set_config('search_path', :schema, true)"), {"schema": tenant.name}
    )
    weeks |= await partitions.existing_weeks(connection)
    await connection.exec_driver_sql("RESET search_path")
    return sorted(weeks)


async def columns(
    connection: AsyncConnection, tenant: Tenant, table: str, *, generated: bool = True
) -> list[str]:
    """In name order; ``generated=False`` leaves out generated columns (computed, not copied)."""
    rows = await connection.execute(
        text(
            "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:table AS regclass) "
            "AND attnum > 0 AND NOT attisdropped AND (:generated OR attgenerated = '') "
            "ORDER BY attname"
        ),
        {"table": qualified(tenant, table), "generated": generated},
    )
    return [row[0] for row in rows]


async def _copy_table(
    source: AsyncConnection, target: AsyncConnection, tenant: Tenant, table: str
) -> int:
    copied = await columns(source, tenant, table, generated=False)
    if set(copied) - set(await columns(target, tenant, table, generated=False)):
        raise TransferError(f"table {table} has columns on the source the target lacks")
    listed = ", ".join(quote_ident(column) for column in copied)
    query = f"SELECT {listed} FROM {qualified(tenant, table)}"
    chunks: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=_PIPE_DEPTH)
    reader, writer = await driver(source), await driver(target)

    async def produce() -> None:
        try:
            await reader.copy_from_query(query, output=chunks.put, format="binary")
        finally:
            await chunks.put(None)

    async def consume() -> AsyncIterator[bytes]:
        while (chunk := await chunks.get()) is not None:
            yield chunk

    producing = asyncio.create_task(produce())
    try:
        status = await writer.copy_to_table(
            table, schema_name=tenant.name, columns=copied, source=consume(), format="binary"
        )
    finally:
        if not producing.done():
            producing.cancel()
        await asyncio.gather(producing, return_exceptions=True)
    producing.result()  # a failed read fails the copy
    return int(status.split()[-1])


async def _level_sequences(
    source: AsyncConnection, target: AsyncConnection, tenant: Tenant
) -> None:
    rows = await source.execute(
        text(
            "SELECT sequencename, last_value FROM pg_sequences "
            "WHERE schemaname = :schema AND last_value IS NOT NULL"
        ),
        {"schema": tenant.name},
    )
    for name, last_value in rows:
        await target.execute(
            text("SELECT setval(CAST(:sequence AS regclass), :value, true)"),
            {"sequence": qualified(tenant, name), "value": last_value},
        )


KEY_COLUMNS = "prefix, tenant_id, secret_digest, revoked_at, created_at, scope"


async def _copy_keys(source: AsyncConnection, target: AsyncConnection, tenant: Tenant) -> None:
    rows = (
        await source.execute(
            text(f"SELECT {KEY_COLUMNS} FROM {CATALOGUE_SCHEMA}.api_keys WHERE tenant_id = :id"),
            {"id": tenant.id},
        )
    ).all()
    for row in rows:
        await upsert_key(
            target,
            {
                "prefix": row.prefix,
                "tenant_id": row.tenant_id,
                "digest": row.secret_digest,
                "revoked_at": row.revoked_at,
                "created_at": row.created_at,
                "scope": row.scope,
            },
        )


async def upsert_key(connection: AsyncConnection, key: dict[str, object]) -> None:
    """One key digest of the tenant, as the source holds it (made or overwritten)."""
    await connection.execute(
        text(
            f"INSERT INTO {CATALOGUE_SCHEMA}.api_keys ({KEY_COLUMNS}) "
            "VALUES (:prefix, :tenant_id, :digest, :revoked_at, :created_at, :scope) "
            "ON CONFLICT (prefix) DO UPDATE SET secret_digest = EXCLUDED.secret_digest, "
            "revoked_at = EXCLUDED.revoked_at, scope = EXCLUDED.scope, "
            "tenant_id = EXCLUDED.tenant_id"
        ),
        key,
    )


async def digests(connection: AsyncConnection, tenant: Tenant) -> dict[str, TableDigest]:
    """Every copied table's row count and content digest, and the tenant's key digests'."""
    await connection.exec_driver_sql("SET LOCAL TimeZone = 'UTC'")
    found = {}
    for table in await tenant_tables(connection, tenant):
        if table in NOT_COPIED:
            continue
        # generated columns and a plane's own choices differ between planes holding one copy
        compared = await columns(connection, tenant, table, generated=False)
        if table == plane_choices.SETTINGS_TABLE:
            compared = [name for name in compared if name not in plane_choices.CHOSEN_COLUMNS]
        row = ", ".join(quote_ident(column) for column in compared)
        found[table] = await _digest(
            connection, table, f"SELECT md5(ROW({row})::text) AS h FROM {qualified(tenant, table)}"
        )
    found["api_keys"] = await _digest(
        connection,
        "api_keys",
        f"SELECT md5(ROW({KEY_COLUMNS})::text) AS h FROM {CATALOGUE_SCHEMA}.api_keys "
        f"WHERE tenant_id = '{tenant.id}'",
    )
    return found


async def _digest(connection: AsyncConnection, table: str, hashes: str) -> TableDigest:
    count, digest = (
        await connection.execute(
            text(
                "SELECT count(*), coalesce(md5(string_agg(h, '' ORDER BY h)), '') "
                f"FROM ({hashes}) s"
            )
        )
    ).one()
    return TableDigest(table=table, rows=int(count), digest=str(digest))


def differences(source: dict[str, TableDigest], target: dict[str, TableDigest]) -> list[str]:
    """What the target does not hold as the source does, table by table (empty: equal)."""
    found = []
    for table in sorted(set(source) | set(target)):
        mine, theirs = source.get(table), target.get(table)
        if mine is None or theirs is None:
            found.append(f"{table}: only on the {'target' if mine is None else 'source'}")
        elif mine.rows != theirs.rows:
            found.append(f"{table}: {mine.rows} rows on the source, {theirs.rows} on the target")
        elif mine.digest != theirs.digest:
            found.append(f"{table}: same row count ({mine.rows}), different content")
    return found


async def export_rows(connection: AsyncConnection, tenant: Tenant) -> AsyncIterator[str]:
    """Every row of the tenant's tables as a JSON line ``{"table": ..., "row": {...}}``, read
    with a server-side cursor so an export of any size streams in constant memory."""
    for table in await tenant_tables(connection, tenant):
        if table in NOT_COPIED:
            continue
        name = json.dumps(table)
        rows = await connection.stream(
            text(
                f"SELECT '{{\"table\": ' || :name || ', \"row\": ' || row_to_json(t)::text || '}}' "
                f"FROM {qualified(tenant, table)} t"
            ),
            {"name": name},
        )
        async for (line,) in rows:
            yield line
