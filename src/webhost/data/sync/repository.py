"""SQL of sync: pushed transaction ids, the tenant's sync position, change-log pages.

Tables (tenant migrations 0004 and 0005): ``_sync_transactions`` (each pushed transaction's
results, by txid), ``_sync_state`` (revision counter, clock, highest horizon), ``_changes``
(per record, the revision of its last visible change), ``_sync_collections`` (per collection,
the horizon below which a cursor cannot be served).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.collections import filter_sql
from webhost.data.collections.query import Condition
from webhost.data.collections.tables import RecordTable
from webhost.data.tenancy.scope import Tenant
from webhost.db.admin import quote_ident
from webhost.db.driver import driver_of


@dataclass(frozen=True)
class Position:
    """The tenant's sync state as committed when it was read."""

    revision: int
    clock: str
    horizon: int
    horizons: dict[str, int]  # per collection asked for; missing: 0

    def horizon_of(self, collection: str) -> int:
        return self.horizons.get(collection, 0)


@dataclass(frozen=True)
class StoredTransaction:
    client: str
    results: list[dict[str, Any]]


async def claim_transactions(
    connection: AsyncConnection, tenant: Tenant, claims: Sequence[tuple[str, str]]
) -> set[str]:
    """Record the (txid, client) pairs this push will apply; a txid already recorded is not
    claimed. A txid that a concurrent push is applying right now waits for it, then counts as
    seen. Pass them sorted by txid, so two pushes never wait on each other in turn."""
    if not claims:
        return set()
    driver = await driver_of(connection)
    rows = await driver.fetch(
        f"INSERT INTO {quote_ident(tenant.name)}._sync_transactions (txid, client, outcomes) "
        "SELECT txid, client, '[]' "
        "FROM unnest(CAST($1 AS text[]), CAST($2 AS text[])) AS c(txid, client) "
        "ON CONFLICT (txid) DO NOTHING RETURNING txid",
        [txid for txid, _client in claims],
        [client for _txid, client in claims],
    )
    return {row[0] for row in rows}


async def stored_transactions(
    connection: AsyncConnection, tenant: Tenant, txids: Sequence[str]
) -> dict[str, StoredTransaction]:
    if not txids:
        return {}
    driver = await driver_of(connection)
    rows = await driver.fetch(
        "SELECT txid, client, outcomes::text "
        f"FROM {quote_ident(tenant.name)}._sync_transactions "
        "WHERE txid = ANY(CAST($1 AS text[]))",
        list(txids),
    )
    return {txid: StoredTransaction(client, json.loads(results)) for txid, client, results in rows}


async def save_results(
    connection: AsyncConnection, tenant: Tenant, results: dict[str, list[dict[str, Any]]]
) -> None:
    if not results:
        return
    driver = await driver_of(connection)
    await driver.execute(
        f"UPDATE {quote_ident(tenant.name)}._sync_transactions AS t "
        "SET outcomes = entry.value FROM jsonb_each(CAST($1 AS jsonb)) AS entry "
        "WHERE t.txid = entry.key",
        json.dumps(results),
    )


async def read_position(
    connection: AsyncConnection, tenant: Tenant, collections: Sequence[str] = ()
) -> Position:
    schema = quote_ident(tenant.name)
    driver = await driver_of(connection)
    row = await driver.fetchrow(
        f"SELECT revision, clock, horizon, (SELECT coalesce(jsonb_object_agg("
        f"collection, horizon), '{{}}')::text FROM {schema}._sync_collections "
        "WHERE collection = ANY(CAST($1 AS text[]))) "
        f"FROM {schema}._sync_state",
        list(collections),
    )
    assert row is not None
    return Position(int(row[0]), str(row[1]), int(row[2]), json.loads(row[3]))


@dataclass(frozen=True)
class ChangeRow:
    revision: int
    key: str  # JSON text
    record: str | None  # JSON text; None: remove it from the replica


async def change_page(
    connection: AsyncConnection,
    table: RecordTable,
    conditions: Sequence[Condition],
    *,
    since: int,
    upto: int,
    base: int,
    limit: int,
    byte_budget: int,
) -> tuple[list[ChangeRow], bool]:
    """Changes in (since, upto] in revision order: up to ``limit`` rows and about
    ``byte_budget`` bytes of records (always at least one row). True when rows were left out.

    A change at or before ``base`` is only sent when its record is alive and matches.
    """
    params: dict[str, Any] = {
        "collection": table.collection.name,
        "since": since,
        "upto": upto,
        "base": base,
        "limit": limit + 1,
        "budget": byte_budget,
    }
    matches = " AND ".join(
        ["t.deleted_at IS NULL", *filter_sql.conditions(table, conditions, params)]
    )
    schema = quote_ident(table.tenant.name)
    joined = "(c.key #>> '{}')::bigint" if table.schema.auto_increment else "c.key"
    result = await connection.execute(
        text(
            "SELECT revision, key, record, fetched FROM ("
            "SELECT revision, key, record, count(*) OVER () AS fetched, "
            "sum(coalesce(octet_length(record), 0)) OVER (ORDER BY revision) "
            "- coalesce(octet_length(record), 0) AS before FROM ("
            f"SELECT c.revision, c.key::text AS key, CASE WHEN {matches} "
            f"THEN {table.output} END AS record "
            f"FROM {schema}._changes AS c LEFT JOIN {table.qualified} AS t ON t.pk = {joined} "
            "WHERE c.collection = :collection AND c.revision > :since AND c.revision <= :upto "
            f"AND (c.revision > :base OR ({matches})) "
            "ORDER BY c.revision LIMIT :limit) AS page) AS sized "
            "WHERE before < :budget ORDER BY revision"
        ),
        params,
    )
    fetched = result.all()
    kept = [ChangeRow(int(revision), key, record) for revision, key, record, _ in fetched[:limit]]
    return kept, bool(fetched) and int(fetched[0][3]) > len(kept)
