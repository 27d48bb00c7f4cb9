"""Compaction: tombstones and pushed txids older than the retention go, and the horizon rises.

A tombstone is kept so that clients that were offline learn of the delete. Past the retention
it is removed with its change-log entry; the collection's horizon becomes the highest revision
removed, and a cursor older than that can no longer be served incrementally (the client starts
the collection over). Rows go in bounded batches, so a tenant with many old tombstones never
holds locks for long.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import structlog
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from webhost.data.collections import catalogue_repository
from webhost.data.collections.tables import RecordTable
from webhost.data.tenancy import repository as directory
from webhost.data.tenancy.scope import Tenant, tenant_transaction
from webhost.db.admin import quote_ident

log = structlog.get_logger(__name__)

BATCH_ROWS = 5000


@dataclass
class Compacted:
    tombstones: int = 0
    transactions: int = 0


async def compact_collection(
    connection: AsyncConnection, table: RecordTable, retention_seconds: int, batch: int
) -> int:
    """Remove up to ``batch`` expired tombstones of one collection; how many went."""
    schema = quote_ident(table.tenant.name)
    key = "to_jsonb(gone.pk)" if table.schema.auto_increment else "gone.pk"
    removed = await connection.execute(
        text(
            f"WITH gone AS (DELETE FROM {table.qualified} WHERE pk IN ("
            f"SELECT pk FROM {table.qualified} WHERE deleted_at < now() - "
            "make_interval(secs => :retention) LIMIT :batch FOR UPDATE SKIP LOCKED) "
            "RETURNING pk), "
            f"logged AS (DELETE FROM {schema}._changes AS c USING gone "
            f"WHERE c.collection = :name AND c.key = {key} RETURNING c.revision), "
            f"raised AS (INSERT INTO {schema}._sync_collections (collection, horizon) "
            "SELECT :name, max(revision) FROM logged HAVING max(revision) IS NOT NULL "
            "ON CONFLICT (collection) DO UPDATE SET horizon = "
            "greatest(_sync_collections.horizon, EXCLUDED.horizon)) "
            "SELECT count(*) FROM gone"
        ),
        {"retention": retention_seconds, "batch": batch, "name": table.collection.name},
    )
    return int(removed.scalar_one())


async def compact_tenant(
    engine: AsyncEngine, tenant: Tenant, retention_seconds: int, *, batch: int = BATCH_ROWS
) -> Compacted:
    """One tenant, in short transactions; another plane compacting it at once skips it."""
    done = Compacted()
    async with tenant_transaction(engine, tenant) as connection:
        collections = await catalogue_repository.list_collections(connection, tenant)
    for collection in collections:
        table = RecordTable(tenant, collection)
        while True:
            async with tenant_transaction(engine, tenant) as connection:
                if not await _lock(connection, tenant):
                    return done
                removed = await compact_collection(connection, table, retention_seconds, batch)
            done.tombstones += removed
            if removed < batch:
                break
    async with tenant_transaction(engine, tenant) as connection:
        if not await _lock(connection, tenant):
            return done
        schema = quote_ident(tenant.name)
        forgotten = await connection.execute(
            text(
                f"WITH gone AS (DELETE FROM {schema}._sync_transactions WHERE applied_at < "
                "now() - make_interval(secs => :retention) RETURNING 1) SELECT count(*) FROM gone"
            ),
            {"retention": retention_seconds},
        )
        done.transactions = int(forgotten.scalar_one())
        await connection.execute(
            text(
                f"UPDATE {schema}._sync_state SET horizon = greatest(horizon, "
                f"(SELECT coalesce(max(horizon), 0) FROM {schema}._sync_collections))"
            )
        )
    return done


async def _lock(connection: AsyncConnection, tenant: Tenant) -> bool:
    locked = await connection.execute(
        text("SELECT pg_try_advisory_xact_lock(hashtext(:key))"),
        {"key": f"webhost:sync-compaction:{tenant.name}"},
    )
    return bool(locked.scalar())


async def compact_periodically(
    engine: AsyncEngine, only: uuid.UUID | None, retention_seconds: int, interval_seconds: float
) -> None:
    """Compact every tenant the plane serves, once per interval, for the plane's life."""
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            async with engine.connect() as connection:
                tenants = await directory.registered_tenants(connection, only=only)
            for tenant in tenants:
                done = await compact_tenant(engine, tenant, retention_seconds)
                if done.tombstones or done.transactions:
                    log.info(
                        "sync.compacted",
                        tenant=tenant.name,
                        tombstones=done.tombstones,
                        transactions=done.transactions,
                    )
        except (OSError, SQLAlchemyError) as exc:
            log.warning("sync.compaction_failed", error=str(exc)[:200])
