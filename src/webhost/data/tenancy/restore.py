"""Replacing a tenant's data with a dump (``dump.py``) from another plane, in one transaction.

The target is provisioned first (schema, tenant migrations, directory entry). Every table is
emptied, the catalogue's rows arrive first and each collection's table and indexes are made from
them, positions get room for each week the dump names, then every table's rows come through
binary COPY; sequences are brought level and the key digests copied. The target keeps its own
fleet choices (``fleet/plane_choices.py``). A dump that is cut, malformed or names what the
target lacks fails the transaction: the target is as it was, and the copy is simply run again.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.collections import catalogue_repository
from webhost.data.collections.tables import RecordTable
from webhost.data.fleet import plane_choices
from webhost.data.fleet.storage import IMPLEMENTATIONS
from webhost.data.tenancy import transfer
from webhost.data.tenancy.dump import CATALOGUE_TABLE
from webhost.data.tenancy.dump_frames import DumpError, FrameReader, data_size
from webhost.data.tenancy.freeze import qualified, tenant_tables
from webhost.data.tenancy.scope import Tenant, enter_tenant
from webhost.data.tenancy.transfer import CopyReport

MAX_WEEKS = 100_000


async def restore_tenant(
    connection: AsyncConnection, tenant: Tenant, chunks: AsyncIterator[bytes]
) -> CopyReport:
    """``connection`` is the administrator's, in a transaction the caller commits."""
    reader = FrameReader(chunks)
    await reader.opening()
    choices = await plane_choices.read_choices(connection, tenant)
    await connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
    present = [t for t in await tenant_tables(connection, tenant) if t not in transfer.NOT_COPIED]
    if present:
        listed = ", ".join(qualified(tenant, table) for table in present)
        await connection.exec_driver_sql(f"TRUNCATE {listed}")
    weeks: list[date] = []
    made_structure = False
    tables = rows = 0
    while True:
        found = await reader.frame()
        kind = found["kind"]
        if kind == "weeks":
            weeks = _weeks(found.get("weeks"))
        elif kind == "table":
            table = _name(found.get("table"), "table")
            if table != CATALOGUE_TABLE and not made_structure:
                await _make_structure(connection, tenant, weeks, choices)
                made_structure = True
            rows += await _copy_in(connection, tenant, reader, table, found.get("columns"))
            tables += 1
        elif kind == "sequences":
            await _level_sequences(connection, tenant, found.get("values"))
        elif kind == "keys":
            await _copy_keys(connection, tenant, found.get("keys"))
        elif kind == "end":
            if found.get("tables") != tables or found.get("rows") != rows:
                raise DumpError(
                    f"the dump says it holds {found.get('tables')} tables and "
                    f"{found.get('rows')} rows; {tables} and {rows} arrived"
                )
            break
        else:
            raise DumpError(f"unknown frame kind {kind!r}")
    if not made_structure:
        await _make_structure(connection, tenant, weeks, choices)
    await plane_choices.keep_choices(connection, tenant, choices)
    return CopyReport(tables=tables, rows=rows)


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 63 or "\x00" in value:
        raise DumpError(f"a {what} name must be a string of 1 to 63 characters")
    return value


def _weeks(value: Any) -> list[date]:
    if not isinstance(value, list) or len(value) > MAX_WEEKS:
        raise DumpError(f"'weeks' must be a list of at most {MAX_WEEKS} dates")
    try:
        weeks = [date.fromisoformat(week) for week in value]
    except (TypeError, ValueError):
        raise DumpError("'weeks' must hold ISO dates (YYYY-MM-DD)") from None
    if any(week.weekday() != 0 for week in weeks):
        raise DumpError("each of 'weeks' must be a Monday")
    return weeks


async def _make_structure(
    connection: AsyncConnection,
    tenant: Tenant,
    weeks: list[date],
    choices: plane_choices.PlaneChoices | None,
) -> None:
    """Tables the catalogue names and room for the weeks, made as the tenant (who owns them)."""
    await enter_tenant(connection, tenant)
    existing = set(await tenant_tables(connection, tenant))
    for collection in await catalogue_repository.list_collections(connection, tenant):
        if f"c_{collection.name}" in existing:
            continue
        await catalogue_repository.create_table(connection, tenant, collection)
        table = RecordTable(tenant, collection)
        for index in collection.schema.indexes:
            name = collection.index_names.get(index.source)
            if name is not None:
                await catalogue_repository.create_index(connection, table, index, name)
    if weeks and choices is not None:
        await IMPLEMENTATIONS[choices.storage].prepare_weeks(connection, weeks)
    await connection.exec_driver_sql("RESET ROLE")
    await connection.exec_driver_sql("RESET search_path")


async def _copy_in(
    connection: AsyncConnection,
    tenant: Tenant,
    reader: FrameReader,
    table: str,
    columns: Any,
) -> int:
    if table not in await tenant_tables(connection, tenant) or table in transfer.NOT_COPIED:
        raise DumpError(f"table {table!r} is not a table of this tenant on the target")
    if not isinstance(columns, list) or not columns:
        raise DumpError(f"table {table!r}: 'columns' must be a non-empty list of names")
    names = [_name(column, "column") for column in columns]
    known = set(await transfer.columns(connection, tenant, table, generated=False))
    unknown = sorted(set(names) - known)
    if unknown:
        raise DumpError(f"table {table!r} has columns the target lacks: {unknown}")
    ended: dict[str, Any] = {}

    async def payloads() -> AsyncGenerator[bytes, None]:
        while True:
            found = await reader.frame()
            if found["kind"] == "data":
                yield await reader.exactly(data_size(found))
            elif found["kind"] == "table_end":
                ended.update(found)
                return
            else:
                raise DumpError(f"table {table!r}: a {found['kind']!r} frame inside its rows")

    writer = await transfer.driver(connection)
    source = payloads()
    try:
        status = await writer.copy_to_table(
            table, schema_name=tenant.name, columns=names, source=source, format="binary"
        )
    finally:
        await source.aclose()
    copied = int(str(status).split()[-1])
    if ended.get("rows") != copied:
        raise DumpError(
            f"table {table!r}: the dump says {ended.get('rows')} rows, {copied} arrived"
        )
    return copied


async def _level_sequences(connection: AsyncConnection, tenant: Tenant, values: Any) -> None:
    if not isinstance(values, dict):
        raise DumpError("'sequences' must map sequence names to values")
    rows = await connection.execute(
        text("SELECT sequencename FROM pg_sequences WHERE schemaname = :schema"),
        {"schema": tenant.name},
    )
    known = {row[0] for row in rows}
    for name, value in values.items():
        if name not in known:
            raise DumpError(f"sequence {name!r} is not a sequence of this tenant on the target")
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value < 2**63:
            raise DumpError(f"sequence {name!r}: its value must be a positive 64-bit integer")
        await connection.execute(
            text("SELECT setval(CAST(:sequence AS regclass), :value, true)"),
            {"sequence": qualified(tenant, name), "value": value},
        )


async def _copy_keys(connection: AsyncConnection, tenant: Tenant, keys: Any) -> None:
    if not isinstance(keys, list):
        raise DumpError("'keys' must be a list")
    for key in keys:
        if not isinstance(key, dict):
            raise DumpError("each key must be an object")
        try:
            row = {
                "prefix": _text(key["prefix"], 64),
                "tenant_id": tenant.id,
                "digest": _text(key["secret_digest"], 256),
                "revoked_at": _moment(key.get("revoked_at")),
                "created_at": _moment(key["created_at"]),
                "scope": _text(key["scope"], 32),
            }
        except KeyError as missing:
            raise DumpError(f"a key lacks {missing.args[0]!r}") from None
        await transfer.upsert_key(connection, row)


def _text(value: Any, longest: int) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= longest or "\x00" in value:
        raise DumpError(f"a key's fields must be strings of 1 to {longest} characters")
    return value


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise DumpError("a key's times must be ISO 8601 timestamps") from None
    if moment.tzinfo is None:
        raise DumpError("a key's times must carry their offset")
    return moment
